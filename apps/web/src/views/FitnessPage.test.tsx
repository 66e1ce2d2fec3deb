import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { CRITERIA, scoreFitness, type DestinationFacts } from '@mailroom/core';
import type { FitnessScoresWire } from './FitnessPage';
import { connection, downConnection } from '../test/fixtures';
import { brokerDownError, never, pushStream, renderApp, serverError } from '../test/harness';

/** Facts of one healthy destination; overrides break one criterion at a time. */
function facts(destination: string, over: Partial<DestinationFacts> = {}): DestinationFacts {
  return {
    destination,
    isDeadLetter: false,
    consumed: true,
    deadLetter: { target: `${destination}.dlq`, reachable: true, via: 'naming convention' },
    ack: { delivered: 10, overdue: 0, oldestUnackedMs: null, source: 'pending entries' },
    identity: { sampled: 5, withIdentity: 5, duplicateIds: [], consumers: null },
    retry: { failures: 4, retriedWithBackoff: 4, counterExamples: [] },
    monitoring: { rules: ['lag ≤ 100'], exported: true },
    ...over,
  };
}

/** A fitness.scores answer built with core's own scoring, as the server builds it. */
function scores(list: DestinationFacts[], over: { connectionId?: string; alerts?: FitnessScoresWire['alerts']; unavailable?: string } = {}): FitnessScoresWire {
  const connectionId = over.connectionId ?? 'memory';
  const report = scoreFitness(over.unavailable === undefined ? list : []);
  const measured = over.unavailable === undefined ? report : { ...report, criteria: report.criteria.map((c) => ({ ...c, summary: `could not be measured: ${over.unavailable}` })) };
  return {
    at: new Date().toISOString(),
    settings: { ackDeadlineMs: 30_000, sampleSize: 100 },
    overall: report,
    connections: [
      {
        connectionId,
        connectionName: connectionId === 'memory' ? 'Demo' : connectionId,
        status: over.unavailable === undefined ? 'measured' : 'unavailable',
        error: over.unavailable ?? null,
        at: new Date().toISOString(),
        scope: null,
        report: measured,
        alerts: over.alerts ?? [],
      },
    ],
    alerts: over.alerts ?? [],
  };
}

const NO_DLQ = { target: null, reachable: false, via: null, conventionalName: 'notifications.dlq' };
const mixed = () =>
  scores(
    [
      facts('orders'),
      facts('notifications', { deadLetter: NO_DLQ, monitoring: { rules: [], exported: true } }),
      facts('orders.dlq', { isDeadLetter: true, consumed: false, retry: null }),
    ],
    { alerts: [{ connection: 'memory', destination: 'orders', rule: 'max lag', value: 1500, limit: 1000 }] },
  );

const base = { 'connections.list': () => [connection()], 'connections.health': async function* () {} };

describe('Fitness page', () => {
  it('shows a loading state while the first measurement runs', async () => {
    renderApp('/c/memory/fitness', { ...base, 'fitness.scores': never });
    expect(await screen.findByRole('status', { name: 'Measuring fitness' })).toBeTruthy();
  });

  it('says when the broker or the server cannot be reached', async () => {
    renderApp('/c/memory/fitness', { ...base, 'fitness.scores': () => { throw brokerDownError('memory'); } });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Broker unreachable');
    expect(alert.textContent).toContain('ECONNREFUSED');
    expect(within(alert).getByRole('button', { name: /Retry/ })).toBeTruthy();
  });

  it('puts what fails first: scores against thresholds, the to-fix list with each destination and fix, firing alerts', async () => {
    renderApp('/c/memory/fitness', { ...base, 'fitness.scores': mixed, 'fitness.live': never });
    const tiles = await screen.findByRole('list', { name: 'Fitness scores' });
    const tile = (id: string) => tiles.querySelector(`[data-criterion="${id}"]`)!;
    expect(tile('dead_letter_handling').getAttribute('data-state')).toBe('fail');
    expect(tile('dead_letter_handling').textContent).toContain('50%');
    expect(tile('dead_letter_handling').textContent).toContain('target ≥ 100%');
    expect(tile('dead_letter_handling').textContent).toContain('fails');
    expect(tile('error_retry').getAttribute('data-state')).toBe('pass');
    expect(tile('message_acknowledgment').getAttribute('data-state')).toBe('pass');

    const toFix = screen.getByRole('region', { name: 'To fix' });
    expect(within(toFix).getByText('2 items')).toBeTruthy();
    const rows = within(toFix).getAllByRole('row').slice(1);
    expect(rows.map((r) => r.textContent)).toEqual([
      "Dead-letter handlingnotificationscreate notifications.dlq (the dead-letter naming convention) and have the consumers of notifications dead-letter failed messages there, e.g. with core's handleWithRetry",
      'Monitoringnotificationsadd an alert rule for notifications (max lag, max DLQ depth or max unacked age) to the config file',
    ]);
    expect(within(rows[0]!).getByRole('link', { name: 'notifications' }).getAttribute('href')).toBe('/c/memory/d/notifications');

    const alerts = screen.getByRole('region', { name: 'Alerts firing' });
    expect(within(alerts).getAllByRole('row')[1]!.textContent).toBe('ordersmax lag1,5001,000');

    // Each criterion lists its destinations worst first, with the evidence; DLQs are not applicable and hidden.
    const dl = screen.getByRole('region', { name: 'Dead-letter handling' });
    const dlRows = within(dl).getAllByRole('row').slice(1);
    expect(dlRows.map((r) => r.getAttribute('data-status'))).toEqual(['fail']);
    expect(dlRows[0]!.textContent).toContain('no dead-letter queue configured');
    fireEvent.click(within(dl).getByRole('button', { name: 'Show 1 passing, 1 not applicable' }));
    const all = within(dl).getAllByRole('row').slice(1);
    expect(all.map((r) => r.getAttribute('data-status'))).toEqual(['fail', 'pass', 'not-applicable']);
    expect(all[1]!.textContent).toContain('dead letters go to orders.dlq (naming convention)');
    expect(all[2]!.textContent).toContain('is itself a dead-letter queue');
    // A passing criterion keeps its summary and hides its rows until asked.
    const retry = screen.getByRole('region', { name: 'Error retry' });
    expect(within(retry).queryByRole('table')).toBeNull();
    expect(retry.textContent).toContain('100% (threshold 90%): 0 of 2 destination(s) failing');
  });

  it("says above each criterion's evidence what it judges, in the card's words", async () => {
    renderApp('/c/memory/fitness', { ...base, 'fitness.scores': mixed, 'fitness.live': never, 'fitness.criteria': () => CRITERIA.map((c) => ({ ...c })) });
    const identity = await screen.findByRole('region', { name: 'Idempotent consumers' });
    await waitFor(() => expect(identity.textContent).toContain('what idempotent consumers report (POST /api/consumer-stats)'));
    expect(screen.getByRole('region', { name: 'Error retry' }).textContent).toContain('retry stages (e.g. orders.retry.1, orders-retry-5s) with growing delays');
  });

  it('shows an unmeasurable criterion as unknown with the reason, never as a score', async () => {
    const reason = 'the broker does not report delivered-but-unacknowledged messages: committed vs end offsets is lag';
    renderApp('/c/memory/fitness', { ...base, 'fitness.scores': () => scores([facts('orders', { ack: { unknown: reason } })]), 'fitness.live': never });
    const tiles = await screen.findByRole('list', { name: 'Fitness scores' });
    const ack = tiles.querySelector('[data-criterion="message_acknowledgment"]')!;
    expect(ack.getAttribute('data-state')).toBe('unknown');
    expect(ack.textContent).toContain('unknown');
    expect(ack.textContent).toContain('not measured');
    expect(ack.getAttribute('title')).toBe(`could not be measured: ${reason}`);
    const section = screen.getByRole('region', { name: 'Message acknowledgment' });
    expect(within(section).getByRole('note').textContent).toBe(`Not measured${reason}`);
    expect(within(section).getAllByRole('row')[1]!.textContent).toBe(`ordersUnknown${reason}—`);
    expect(screen.getByRole('region', { name: 'To fix' }).textContent).toContain('nothing failing');
    expect(screen.getByRole('region', { name: 'To fix' }).textContent).toContain('1 criterion not measured');
  });

  it('says why a connection could not be measured at all', async () => {
    renderApp('/c/staging/fitness', {
      'connections.list': () => [downConnection()],
      'connections.health': async function* () {},
      'fitness.scores': () => scores([], { connectionId: 'staging', unavailable: 'broker Kafka staging is unreachable: connect ECONNREFUSED' }),
      'fitness.live': never,
    });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Could not be measured');
    expect(alert.textContent).toContain('connect ECONNREFUSED');
    const tiles = screen.getByRole('list', { name: 'Fitness scores' });
    expect([...tiles.querySelectorAll('[data-state]')].map((t) => t.getAttribute('data-state'))).toEqual(['unknown', 'unknown', 'unknown', 'unknown', 'unknown']);
    expect(screen.queryByRole('region', { name: 'To fix' })).toBeNull();
  });

  it('updates live from fitness.live and re-measures on demand', async () => {
    const live = pushStream<FitnessScoresWire>();
    const fixed = scores([facts('orders'), facts('notifications', { monitoring: { rules: ['lag ≤ 5'], exported: true } })]);
    const { calls } = renderApp('/c/memory/fitness', { ...base, 'fitness.scores': (input: { refresh?: boolean }) => (input.refresh ? fixed : mixed()), 'fitness.live': () => live });
    const tiles = await screen.findByRole('list', { name: 'Fitness scores' });
    await waitFor(() => expect(calls.some((c) => c.path === 'fitness.live')).toBe(true));
    expect(calls.find((c) => c.path === 'fitness.live')!.input).toEqual({ connectionId: 'memory', intervalMs: 10_000 });
    expect(tiles.querySelector('[data-criterion="monitoring"]')!.getAttribute('data-state')).toBe('fail');

    live.push(fixed);
    await waitFor(() => expect(tiles.querySelector('[data-criterion="monitoring"]')!.getAttribute('data-state')).toBe('pass'));
    expect(screen.getByRole('region', { name: 'To fix' }).textContent).toContain('nothing failing');

    live.push(mixed());
    await waitFor(() => expect(tiles.querySelector('[data-criterion="monitoring"]')!.getAttribute('data-state')).toBe('fail'));
    fireEvent.click(screen.getByRole('button', { name: /Re-measure now/ }));
    await waitFor(() => expect(tiles.querySelector('[data-criterion="monitoring"]')!.getAttribute('data-state')).toBe('pass'));
    expect(calls.filter((c) => c.path === 'fitness.scores').map((c) => c.input)).toContainEqual({ connectionId: 'memory', refresh: true });
  });

  it('limits the scores to a destination pattern, kept in the URL', async () => {
    const { calls, location } = renderApp('/c/memory/fitness', { ...base, 'fitness.scores': mixed, 'fitness.live': never });
    await screen.findByRole('list', { name: 'Fitness scores' });
    fireEvent.change(screen.getByRole('textbox', { name: 'Destinations (glob)' }), { target: { value: 'orders*' } });
    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(calls.some((c) => c.path === 'fitness.scores' && (c.input as { destinations?: string }).destinations === 'orders*')).toBe(true));
    expect(location.history?.at(-1)).toBe('/c/memory/fitness?destinations=orders*');
    expect(await screen.findByText('orders*', { selector: 'code' })).toBeTruthy();
  });

  it('shows every connection on /fitness, with the overall scores first', async () => {
    const two: FitnessScoresWire = { ...mixed(), connections: [...mixed().connections, ...scores([facts('jobs')], { connectionId: 'redis' }).connections] };
    renderApp('/fitness', { ...base, 'fitness.scores': () => two, 'fitness.live': never });
    expect(await screen.findByRole('region', { name: 'All connections' })).toBeTruthy();
    expect(screen.getByRole('region', { name: 'Fitness of Demo' })).toBeTruthy();
    const redis = screen.getByRole('region', { name: 'Fitness of redis' });
    expect(within(redis).getByRole('link', { name: 'redis' }).getAttribute('href')).toBe('/c/redis/fitness');
    // The overview of all connections keeps to scores and to-do lists; each links to its connection's evidence.
    expect(screen.queryByRole('region', { name: 'Dead-letter handling' })).toBeNull();
    const demo = screen.getByRole('region', { name: 'Fitness of Demo' });
    expect(within(within(demo).getByRole('region', { name: 'To fix' })).getByRole('link', { name: 'Monitoring' }).getAttribute('href')).toBe('/c/memory/fitness#monitoring');
    expect(within(demo).getByRole('link', { name: /Evidence per destination for every criterion of Demo/ }).getAttribute('href')).toBe('/c/memory/fitness');
  });

  it('reports a failed request with what the server said', async () => {
    renderApp('/fitness', { ...base, 'fitness.scores': () => { throw serverError('BAD_REQUEST', 'destinations: too long', { httpStatus: 400 }); } });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Invalid request');
    expect(alert.textContent).toContain('destinations: too long');
  });
});

describe('Overview fitness cards', () => {
  it('show the server verdicts, link each card to its criterion, and count what there is to fix', async () => {
    renderApp('/', { ...base, 'destinations.list': () => ({ items: [], total: 0, fetchedAt: '2026-01-01T00:00:00Z' }), 'fitness.scores': mixed });
    const tiles = await screen.findByRole('list', { name: 'Fitness scores' });
    await waitFor(() => expect(tiles.querySelector('[data-criterion="dead_letter_handling"]')!.getAttribute('data-state')).toBe('fail'));
    expect(tiles.querySelector('[data-criterion="monitoring"]')!.textContent).toContain('66.7%');
    expect(tiles.querySelector('[data-criterion="error_retry"]')!.getAttribute('data-state')).toBe('pass');
    expect(within(tiles).getByRole('link', { name: 'Dead-letter handling' }).getAttribute('href')).toBe('/c/memory/fitness#dead_letter_handling');
    const card = screen.getByRole('region', { name: 'Connection Demo' });
    expect(within(card).getByRole('link', { name: '2 things to fix: evidence and fixes' }).getAttribute('href')).toBe('/c/memory/fitness');
    const failures = within(card).getByRole('list', { name: 'Fitness failures' });
    expect(within(failures).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      "Dead-letter handling: notifications — create notifications.dlq (the dead-letter naming convention) and have the consumers of notifications dead-letter failed messages there, e.g. with core's handleWithRetry",
      'Monitoring: notifications — add an alert rule for notifications (max lag, max DLQ depth or max unacked age) to the config file',
    ]);
    expect(within(failures).getByRole('link', { name: 'Monitoring' }).getAttribute('href')).toBe('/c/memory/fitness#monitoring');
    expect(card.textContent).toContain('1 alert firing');
  });
});
