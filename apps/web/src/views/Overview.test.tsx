import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { connection, destination, downConnection } from '../test/fixtures';
import { brokerDownError, never, renderApp } from '../test/harness';

const list = (items: ReturnType<typeof destination>[]) => ({ items, total: items.length, fetchedAt: '2026-01-01T00:00:00Z' });

describe('Overview', () => {
  it('shows a loading state while connections load', async () => {
    renderApp('/', { 'connections.list': never });
    expect(await screen.findByRole('status', { name: 'Loading connections', hidden: false }, { timeout: 3000 })).toBeTruthy();
  });

  it('shows an empty state when no connection is configured', async () => {
    renderApp('/', { 'connections.list': () => [] });
    expect(await screen.findByText('No connections configured', { selector: '.state-title' })).toBeTruthy();
  });

  it('says the server is unreachable when the request fails', async () => {
    renderApp('/', { 'connections.list': () => { throw new TypeError('Failed to fetch'); } });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Mailroom server unreachable');
  });

  it('renders totals, lag and DLQ tops, and fitness as unknown until the procedure exists', async () => {
    renderApp('/', {
      'connections.list': () => [connection()],
      'connections.health': async function* () {},
      'destinations.list': (input: { sort?: string; deadLettersOnly?: boolean; limit: number }) => {
        const all = [
          destination('orders', { depth: 120, lag: 45, inFlight: 2, deadLetter: 'orders.dlq' }),
          destination('payments', { depth: 30, lag: 0 }),
          destination('orders.dlq', { depth: 7, lag: null, isDeadLetter: true }),
        ];
        if (input.deadLettersOnly) return list(all.filter((d) => d.isDeadLetter));
        if (input.sort === 'lag') return list([...all].sort((a, b) => (b.lag ?? -1) - (a.lag ?? -1)).slice(0, input.limit));
        return list(all);
      },
    });
    const card = await screen.findByRole('region', { name: 'Connection Demo' });
    await waitFor(() => expect(within(card).getByText('157')).toBeTruthy()); // 120 + 30 + 7 stored
    expect(within(card).getByText('45', { selector: '.value' })).toBeTruthy(); // lag total
    expect(within(card).getByText('7', { selector: '.value' })).toBeTruthy(); // dead letters
    const mostLag = within(card).getByText('Most lag').parentElement!;
    expect(within(mostLag).getByRole('link', { name: 'orders' }).getAttribute('href')).toBe('/c/memory/d/orders/consumers');
    expect(within(mostLag).queryByText('payments')).toBeNull(); // no lag, not listed
    const dlqs = within(card).getByText('Deepest dead-letter queues').parentElement!;
    expect(within(dlqs).getByRole('link', { name: 'orders.dlq' }).getAttribute('href')).toBe('/c/memory/dead-letters/orders.dlq');
    const scores = within(card).getByRole('list', { name: 'Fitness scores' });
    await waitFor(() => expect(within(scores).getAllByText('unknown')).toHaveLength(5));
    expect(card.textContent).toContain('Fitness scoring is not available on this server yet');
  });

  it('with more than 500 destinations, labels every total summed over the top 500 and keeps the dead-letter total exact', async () => {
    // 600 work destinations deeper than the one DLQ: the DLQ is not among the 500 deepest.
    const work = Array.from({ length: 600 }, (_, i) => destination(`t-${String(i).padStart(3, '0')}`, { depth: 10 + i, inFlight: 1, lag: 3 }));
    const dlq = destination('orders.dlq', { depth: 7, lag: null, isDeadLetter: true });
    const pageOf = (rows: ReturnType<typeof destination>[], input: { offset: number; limit: number }) =>
      ({ items: [...rows].sort((a, b) => (b.depth ?? -1) - (a.depth ?? -1)).slice(input.offset, input.offset + input.limit), total: rows.length, fetchedAt: '2026-01-01T00:00:00Z' });
    renderApp('/', {
      'connections.list': () => [connection()],
      'connections.health': async function* () {},
      'destinations.list': (input: { deadLettersOnly?: boolean; offset: number; limit: number }) => pageOf(input.deadLettersOnly ? [dlq] : [...work, dlq], input),
    });
    const card = await screen.findByRole('region', { name: 'Connection Demo' });
    await waitFor(() => expect(within(card).getByText('601')).toBeTruthy());
    const stat = (label: string) => within(card).getByText(label, { selector: '.label' }).nextElementSibling!.textContent;
    expect(stat('Messages stored (top 500)')).toBe('179.8K'); // depths 110..609: the 500 deepest
    expect(stat('In flight (top 500)')).toBe('500');
    expect(stat('Consumer lag (top 500)')).toBe('1,500');
    expect(stat('Dead letters')).toBe('7'); // from the dead-letter list, not the top 500
    expect(within(card).queryByText('Dead letters (top 500)', { selector: '.label' })).toBeNull();
    expect(within(card).getByTestId('partial-totals').textContent).toBe('Messages stored, in flight and consumer lag add up only the 500 deepest of 601 destinations. The full totals can only be higher.');
  });

  it('labels the dead-letter total partial when there are more than 500 dead-letter queues', async () => {
    const dlqs = Array.from({ length: 502 }, (_, i) => destination(`q-${i}.dlq`, { depth: 1, isDeadLetter: true }));
    renderApp('/', {
      'connections.list': () => [connection()],
      'connections.health': async function* () {},
      'destinations.list': (input: { offset: number; limit: number }) => ({ items: dlqs.slice(input.offset, input.offset + input.limit), total: dlqs.length, fetchedAt: '' }),
    });
    const card = await screen.findByRole('region', { name: 'Connection Demo' });
    const label = await within(card).findByText('Dead letters (top 500)', { selector: '.label' });
    expect(label.nextElementSibling!.textContent).toBe('500');
    expect(within(card).getByTestId('partial-totals').textContent).toContain('Dead letters add up only the 500 deepest of 502 dead-letter queues.');
  });

  it('shows real fitness scores against their thresholds once fitness.scores answers', async () => {
    renderApp('/', {
      'connections.list': () => [connection()],
      'connections.health': async function* () {},
      'destinations.list': () => list([]),
      'fitness.scores': () => ({ scores: [
        { criterion: 'message_acknowledgment', score: 1, threshold: 1 },
        { criterion: 'error_retry', score: 0.85, threshold: 0.9 },
        { criterion: 'monitoring', score: null, threshold: 1, reason: 'no alert rules found' },
      ] }),
    });
    const scores = await screen.findByRole('list', { name: 'Fitness scores' });
    await waitFor(() => expect(scores.querySelector('[data-criterion="message_acknowledgment"]')!.getAttribute('data-state')).toBe('pass'));
    expect(scores.querySelector('[data-criterion="error_retry"]')!.getAttribute('data-state')).toBe('fail');
    expect(scores.querySelector('[data-criterion="error_retry"]')!.textContent).toContain('85%');
    expect(scores.querySelector('[data-criterion="monitoring"]')!.getAttribute('data-state')).toBe('unknown');
    expect(scores.querySelector('[data-criterion="monitoring"]')!.getAttribute('title')).toBe('no alert rules found');
  });

  it('puts a down broker first, says why, and does not query it', async () => {
    const { calls } = renderApp('/', {
      'connections.list': () => [connection(), downConnection()],
      'connections.health': async function* () {},
      'destinations.list': () => list([]),
    });
    const cards = await screen.findAllByRole('region', { name: /^Connection / });
    expect(cards[0]!.getAttribute('aria-label')).toBe('Connection Kafka staging');
    expect(within(cards[0]!).getByText('Broker unreachable')).toBeTruthy();
    expect(cards[0]!.textContent).toContain('ECONNREFUSED 127.0.0.1:9099');
    await waitFor(() => expect(calls.some((c) => c.path === 'destinations.list')).toBe(true));
    expect(calls.filter((c) => c.path === 'destinations.list' && (c.input as { connectionId: string }).connectionId === 'staging')).toHaveLength(0);
  });

  it('shows the broker-down error when a healthy-looking broker fails a request', async () => {
    renderApp('/', {
      'connections.list': () => [connection()],
      'connections.health': async function* () {},
      'destinations.list': () => { throw brokerDownError(); },
    });
    const card = await screen.findByRole('region', { name: 'Connection Demo' });
    await waitFor(() => expect(card.querySelector('[data-state="broker-down"]')).not.toBeNull());
    expect(card.textContent).toContain('Broker unreachable');
    expect(card.textContent).toContain('Check that the broker is running.');
  });

  it('keeps health current from the health stream', async () => {
    renderApp('/', {
      'connections.list': () => [connection()],
      'connections.health': async function* () {
        yield [{ ...connection(), health: { ...connection().health, status: 'down', reason: 'lost connection' } }];
      },
      'destinations.list': () => list([]),
    });
    await waitFor(() => expect(screen.getAllByText('Down').length).toBeGreaterThan(0));
  });
});
