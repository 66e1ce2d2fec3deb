import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { RedriveTask } from '../api/types';
import { connection, destination, downConnection, message, page, rabbitLikeCaps } from '../test/fixtures';
import { brokerDownError, never, pushStream, renderApp, type Handlers } from '../test/harness';

const link = { deadLetter: 'orders.dlq', origins: ['orders'], depth: 3, via: 'declared dead-letter link' };
const dead = (i: number) => message(i, { destination: 'orders.dlq', deadLetter: { origin: 'orders', reason: `inventory rejected SKU-${i}`, attempts: 3, failedAt: '2026-01-01T00:00:00.000Z', history: [] } });

function task(over: Partial<RedriveTask> = {}): RedriveTask {
  return {
    id: 'task-1', connectionId: 'memory', source: 'orders.dlq', target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false,
    status: 'running', progress: { moved: 0, failed: 0, skipped: 0, remaining: 3, possiblyDuplicated: 0 }, report: null, error: null,
    startedAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', finishedAt: null, resumes: 0, ...over,
  } as RedriveTask;
}

const base: Handlers = {
  'connections.list': () => [connection(), connection({ id: 'ro', name: 'RO', readOnly: true }), downConnection(), connection({ id: 'rabbit', name: 'Rabbit', kind: 'rabbitmq', capabilities: rabbitLikeCaps })],
  'connections.health': async function* () {},
  'deadLetters.list': () => [link, { deadLetter: 'payments.dlq', origins: ['payments'], depth: 0, via: 'naming convention' }],
  'destinations.describe': (input: { name: string }) => ({ ...destination(input.name, { depth: 3, isDeadLetter: true }), partitionDetails: [], config: {} }),
  'destinations.list': () => ({ items: [destination('orders'), destination('orders.dlq', { isDeadLetter: true }), destination('orders-retry')], total: 3, fetchedAt: '' }),
  'messages.browse': () => page([dead(3), dead(2), dead(1)]),
  'redrive.list': () => [],
};

describe('Dead letters', () => {
  it('loading', async () => {
    renderApp('/c/memory/dead-letters', { ...base, 'deadLetters.list': never });
    expect(await screen.findByRole('status', { name: 'Loading dead-letter queues' })).toBeTruthy();
  });

  it('empty', async () => {
    renderApp('/c/memory/dead-letters', { ...base, 'deadLetters.list': () => [] });
    expect(await screen.findByText('No dead-letter queues found')).toBeTruthy();
  });

  it('error', async () => {
    renderApp('/c/memory/dead-letters', { ...base, 'deadLetters.list': () => { throw brokerDownError(); } });
    await waitFor(() => expect(document.querySelector('[data-state="broker-down"]')).not.toBeNull());
  });

  it('broker down', async () => {
    const { calls } = renderApp('/c/staging/dead-letters', base);
    expect(await screen.findByText('Broker unreachable')).toBeTruthy();
    expect(calls.filter((c) => c.path === 'deadLetters.list')).toHaveLength(0);
  });

  it('lists each DLQ with origin, and its messages with origin, reason and attempts', async () => {
    renderApp('/c/memory/dead-letters/orders.dlq', base);
    const table = await screen.findByRole('region', { name: 'Dead-letter queues' });
    expect(within(table).getAllByRole('row')[1]!.textContent).toContain('orders.dlqorders3');
    const grid = await screen.findByRole('grid', { name: 'Dead letters' });
    await waitFor(() => expect(within(grid).getAllByRole('row')).toHaveLength(4));
    const first = within(grid).getAllByRole('row')[1]!;
    expect(first.textContent).toContain('orders');
    expect(first.textContent).toContain('inventory rejected SKU-3');
    expect(within(first).getAllByRole('gridcell').map((c) => c.textContent)).toContain('3');
  });

  it('redrive all: confirmation with count and target, progress with cancel, then the final report', async () => {
    const progress = pushStream<RedriveTask>();
    const started: unknown[] = [];
    const cancelled: unknown[] = [];
    renderApp('/c/memory/dead-letters/orders.dlq', {
      ...base,
      'redrive.start': (input: unknown) => { started.push(input); return task(); },
      'redrive.progress': () => progress,
      'redrive.cancel': (input: unknown) => { cancelled.push(input); return task({ status: 'running' }); },
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Redrive all (3)' }));
    const dialog = await screen.findByRole('dialog', { name: 'Redrive dead letters?' });
    expect(within(dialog).getByTestId('redrive-count').textContent).toContain('3');
    expect(dialog.textContent).toContain('From' + 'orders.dlq');
    expect(dialog.textContent).toContain('its origin (orders)');
    expect(started).toHaveLength(0);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Redrive 3 messages' }));
    await waitFor(() => expect(started).toEqual([{ connectionId: 'memory', source: 'orders.dlq', target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false }]));

    const panel = await screen.findByRole('region', { name: 'Redrive progress' });
    await act(async () => progress.push(task({ progress: { moved: 1, failed: 0, skipped: 0, remaining: 2, possiblyDuplicated: 0 } })));
    await waitFor(() => expect(within(panel).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('33'));
    fireEvent.click(within(panel).getByRole('button', { name: /Cancel/ }));
    await waitFor(() => expect(cancelled).toEqual([{ taskId: 'task-1' }]));

    await act(async () => progress.push(task({
      status: 'completed', finishedAt: '2026-01-01T00:00:02.000Z',
      progress: { moved: 2, failed: 1, skipped: 0, remaining: 0, possiblyDuplicated: 1 },
      report: { outcome: 'completed', moved: 2, failed: 1, skipped: 0, remaining: 0, possiblyDuplicated: 1, error: null, failures: [{ id: '0:1', reason: 'origin orders does not exist' }] },
    })));
    await waitFor(() => expect(panel.getAttribute('data-status')).toBe('completed'));
    expect(panel.textContent).toContain('Redrive completed: 2 moved, 1 failed');
    expect(panel.textContent).toContain('1 message may now exist twice at the target');
    expect(within(panel).getByText('origin orders does not exist')).toBeTruthy();
    expect(within(panel).queryByRole('button', { name: /Cancel/ })).toBeNull();
    progress.end();
  });

  it('reaches the final report by polling when the progress stream misses the end', async () => {
    const finished = task({ status: 'completed', finishedAt: '2026-01-01T00:00:03.000Z', updatedAt: '2026-01-01T00:00:03.000Z', progress: { moved: 3, failed: 0, skipped: 0, remaining: 0, possiblyDuplicated: 0 } });
    let polls = 0;
    renderApp('/c/memory/dead-letters/orders.dlq', {
      ...base,
      'redrive.start': () => task(),
      'redrive.progress': () => pushStream(), // never sends anything
      'redrive.get': () => (++polls >= 1 ? finished : task()),
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Redrive all (3)' }));
    fireEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Redrive 3 messages' }));
    const panel = await screen.findByRole('region', { name: 'Redrive progress' });
    await waitFor(() => expect(panel.getAttribute('data-status')).toBe('completed'), { timeout: 6000 });
    expect(panel.textContent).toContain('Redrive completed: 3 moved');
  });

  it('redrive selected sends exactly the ticked ids to the chosen target', async () => {
    const started: { selection: unknown; target: unknown }[] = [];
    renderApp('/c/memory/dead-letters/orders.dlq', { ...base, 'redrive.start': (input: { selection: unknown; target: unknown }) => { started.push(input); return task({ status: 'completed' }); } });
    const grid = await screen.findByRole('grid', { name: 'Dead letters' });
    await waitFor(() => expect(within(grid).getAllByRole('checkbox')).toHaveLength(3));
    fireEvent.click(within(grid).getByRole('checkbox', { name: 'Select message 3' }));
    fireEvent.click(within(grid).getByRole('checkbox', { name: 'Select message 1' }));
    fireEvent.change(screen.getByRole('combobox', { name: 'Redrive to' }), { target: { value: 'orders-retry' } });
    fireEvent.click(screen.getByRole('button', { name: 'Redrive selected (2)' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain('orders-retry');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Redrive 2 messages' }));
    await waitFor(() => expect(started).toHaveLength(1));
    expect(started[0]).toMatchObject({ target: 'orders-retry', selection: { kind: 'ids', ids: ['0:3', '0:1'] } });
  });

  it('redrive matching a filter counts the matches with a dry run first', async () => {
    const started: { dryRun: boolean; selection: unknown }[] = [];
    renderApp('/c/memory/dead-letters/orders.dlq', {
      ...base,
      'filters.validate': () => ({ ok: true }),
      'redrive.start': (input: { dryRun: boolean; selection: unknown }) => { started.push(input); return input.dryRun ? task({ id: 'dry', dryRun: true, status: 'completed', progress: { moved: 2, failed: 0, skipped: 1, remaining: 0, possiblyDuplicated: 0 } }) : task(); },
      'redrive.progress': () => pushStream(),
    });
    fireEvent.click(await screen.findByRole('button', { name: /Redrive matching/ }));
    const ask = await screen.findByRole('dialog', { name: 'Redrive messages matching a filter' });
    fireEvent.change(within(ask).getByRole('textbox', { name: 'Filter expression' }), { target: { value: 'reason contains "SKU"' } });
    expect(within(ask).queryByText('Reading these messages changes them on the broker')).toBeNull(); // reads are harmless here
    fireEvent.click(within(ask).getByRole('button', { name: 'Count matches…' }));
    const confirm = await screen.findByRole('dialog', { name: 'Redrive dead letters?' });
    expect(within(confirm).queryByText('Reading these messages changes them on the broker')).toBeNull();
    await waitFor(() => expect(within(confirm).getByTestId('redrive-count').textContent).toContain('2 (counted by a dry run just now)'));
    expect(started).toEqual([{ connectionId: 'memory', source: 'orders.dlq', target: null, selection: { kind: 'filter', expression: 'reason contains "SKU"' }, ratePerSecond: null, dryRun: true }]);
    fireEvent.click(within(confirm).getByRole('button', { name: 'Redrive 2 messages' }));
    await waitFor(() => expect(started).toHaveLength(2));
    expect(started[1]).toMatchObject({ dryRun: false, selection: { kind: 'filter', expression: 'reason contains "SKU"' } });
  });

  it('rate limit: validated as a positive number of messages per second, then sent with the redrive', async () => {
    const started: unknown[] = [];
    renderApp('/c/memory/dead-letters/orders.dlq', { ...base, 'redrive.start': (input: unknown) => { started.push(input); return task(); }, 'redrive.progress': () => pushStream() });
    fireEvent.click(await screen.findByRole('button', { name: 'Redrive all (3)' }));
    const dialog = await screen.findByRole('dialog', { name: 'Redrive dead letters?' });
    const rate = within(dialog).getByRole('textbox', { name: 'Rate limit (messages per second)' });
    const go = within(dialog).getByRole('button', { name: 'Redrive 3 messages' }) as HTMLButtonElement;
    expect(within(dialog).getByText('Empty: as fast as the broker allows.')).toBeTruthy();
    for (const bad of ['0', '-5', 'fast', '1e3', '2000000']) {
      fireEvent.change(rate, { target: { value: bad } });
      expect(within(dialog).getByRole('alert').textContent).toMatch(bad === '2000000' ? /At most 1,000,000 messages per second/ : /above 0/);
      expect(go.disabled).toBe(true);
      fireEvent.click(go);
    }
    fireEvent.change(rate, { target: { value: ' 12.5 ' } });
    expect(within(dialog).queryByRole('alert')).toBeNull();
    expect(within(dialog).getByText('At most 12.5 messages per second.')).toBeTruthy();
    expect(go.disabled).toBe(false);
    fireEvent.click(go);
    await waitFor(() => expect(started).toEqual([{ connectionId: 'memory', source: 'orders.dlq', target: null, selection: { kind: 'all' }, ratePerSecond: 12.5, dryRun: false }]));
  });

  it('dry run: counts only, says nothing moved, and reports how many would move', async () => {
    const started: unknown[] = [];
    renderApp('/c/memory/dead-letters/orders.dlq', {
      ...base,
      'redrive.start': (input: { ratePerSecond: number | null }) => {
        started.push(input);
        return task({ id: 'dry-1', dryRun: true, ratePerSecond: input.ratePerSecond, status: 'completed', finishedAt: '2026-01-01T00:00:01.000Z', progress: { moved: 2, failed: 0, skipped: 1, remaining: 0, possiblyDuplicated: 0 } });
      },
    });
    fireEvent.click(await screen.findByRole('button', { name: 'Redrive all (3)' }));
    const dialog = await screen.findByRole('dialog', { name: 'Redrive dead letters?' });
    fireEvent.click(within(dialog).getByRole('checkbox', { name: 'Dry run (count only, move nothing)' }));
    expect(screen.getByRole('dialog', { name: 'Dry run: count what would move?' })).toBe(dialog);
    expect(within(dialog).getByText('Nothing will be moved')).toBeTruthy();
    expect(within(dialog).queryByRole('button', { name: /^Redrive/ })).toBeNull();
    fireEvent.change(within(dialog).getByRole('textbox', { name: 'Rate limit (messages per second)' }), { target: { value: '100' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Start dry run (move nothing)' }));
    await waitFor(() => expect(started).toEqual([{ connectionId: 'memory', source: 'orders.dlq', target: null, selection: { kind: 'all' }, ratePerSecond: 100, dryRun: true }]));

    const panel = await screen.findByRole('region', { name: 'Redrive progress' });
    expect(panel.getAttribute('data-dry-run')).toBe('true');
    expect(panel.textContent).toContain('Dry run · nothing moves');
    expect(panel.textContent).toContain('Dry run completed: 2 messages would move');
    expect(within(panel).getByText('Nothing was moved')).toBeTruthy();
    expect(panel.textContent).toContain('A redrive of the same selection would move 2 messages');
    expect(panel.textContent).not.toMatch(/\d moved|Possibly duplicated|exist twice/);
    expect(within(panel).getByText('Would move').nextElementSibling!.textContent).toBe('2');
  });

  it('destructive-read broker: warns before a filter count or a dry run reads the queue, not before a plain redrive all', async () => {
    const started: { dryRun: boolean; selection: { kind: string } }[] = [];
    const { calls } = renderApp('/c/rabbit/dead-letters/orders.dlq', {
      ...base,
      'filters.validate': () => ({ ok: true }),
      'redrive.start': (input: { dryRun: boolean; selection: { kind: string } }) => { started.push(input); return input.dryRun ? task({ id: 'dry', dryRun: true, status: 'completed', progress: { moved: 1, failed: 0, skipped: 2, remaining: 0, possiblyDuplicated: 0 } }) : task(); },
      'redrive.progress': () => pushStream(),
    });
    expect(await screen.findByRole('button', { name: /Show the messages anyway/ })).toBeTruthy(); // the list is guarded too

    fireEvent.click(screen.getByRole('button', { name: /Redrive matching/ }));
    const ask = await screen.findByRole('dialog', { name: 'Redrive messages matching a filter' });
    expect(within(ask).getByText('Reading these messages changes them on the broker')).toBeTruthy();
    expect(within(ask).getByText(/basic\.get and requeues them/)).toBeTruthy();
    expect(ask.textContent).toContain('Counting the matches reads every message in orders.dlq and puts it back');
    fireEvent.change(within(ask).getByRole('textbox', { name: 'Filter expression' }), { target: { value: 'attempts >= 3' } });
    await new Promise((r) => setTimeout(r, 50));
    expect(started).toHaveLength(0);
    fireEvent.click(within(ask).getByRole('button', { name: 'Count matches anyway…' }));
    const confirm = await screen.findByRole('dialog', { name: 'Redrive dead letters?' });
    await waitFor(() => expect(within(confirm).getByTestId('redrive-count').textContent).toContain('1 (counted by a dry run just now)'));
    expect(started).toEqual([expect.objectContaining({ dryRun: true, selection: { kind: 'filter', expression: 'attempts >= 3' } })]);
    expect(within(confirm).getByText(/basic\.get and requeues them/)).toBeTruthy();
    expect(confirm.textContent).toContain('the ones not selected are put back');
    fireEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());

    fireEvent.click(screen.getByRole('button', { name: 'Redrive all (3)' }));
    const all = await screen.findByRole('dialog', { name: 'Redrive dead letters?' });
    expect(within(all).queryByText('Reading these messages changes them on the broker')).toBeNull(); // everything read is moved
    fireEvent.click(within(all).getByRole('checkbox', { name: 'Dry run (count only, move nothing)' }));
    expect(within(all).getByText(/basic\.get and requeues them/)).toBeTruthy();
    expect(all.textContent).toContain('A dry run reads every message in orders.dlq and puts it back');
    expect(calls.filter((c) => c.path === 'messages.browse')).toHaveLength(0);
  });

  it('purge needs the queue name typed', async () => {
    const purged: unknown[] = [];
    renderApp('/c/memory/dead-letters/orders.dlq', { ...base, 'destinations.purge': (input: unknown) => { purged.push(input); return { removed: 3 }; } });
    fireEvent.click(await screen.findByRole('button', { name: /Purge/ }));
    const dialog = await screen.findByRole('dialog', { name: 'Purge orders.dlq?' });
    const confirm = within(dialog).getByRole('button', { name: 'Delete 3 messages' }) as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    fireEvent.change(within(dialog).getByRole('textbox'), { target: { value: 'orders.dl' } });
    expect(confirm.disabled).toBe(true);
    fireEvent.change(within(dialog).getByRole('textbox'), { target: { value: 'orders.dlq' } });
    expect(confirm.disabled).toBe(false);
    fireEvent.click(confirm);
    await waitFor(() => expect(purged).toEqual([{ connectionId: 'memory', name: 'orders.dlq' }]));
    expect(await screen.findByText('Purged 3 messages from orders.dlq')).toBeTruthy();
  });

  it('read-only: redrive and purge are disabled with the reason', async () => {
    renderApp('/c/ro/dead-letters/orders%2Edlq', base);
    const all = await screen.findByRole('button', { name: 'Redrive all (3)' });
    expect((all as HTMLButtonElement).disabled).toBe(true);
    expect(all.getAttribute('title')).toBe('This connection is read-only');
    expect((screen.getByRole('button', { name: /Purge/ }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByText('Read-only connection')).toBeTruthy();
  });
});
