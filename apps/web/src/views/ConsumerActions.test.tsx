import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { connection, detail, kafkaLikeCaps } from '../test/fixtures';
import { never, renderApp, serverError, type Handlers } from '../test/harness';

const streamCaps = { ...kafkaLikeCaps, partitions: false, pendingEntries: true };

const groups = [
  { name: 'analytics', destinations: ['orders'], state: 'Stable', members: 2, lag: 45, pending: 3 },
  { name: 'billing', destinations: ['orders'], state: 'Empty', members: 0, lag: 12, pending: 0 },
];

const base: Handlers = {
  'connections.list': () => [
    connection(),
    connection({ id: 'ro', name: 'Read only', readOnly: true }),
    connection({ id: 'streams', name: 'Streams', kind: 'redis', capabilities: streamCaps }),
    connection({ id: 'ro-streams', name: 'RO streams', kind: 'redis', readOnly: true, capabilities: streamCaps }),
    connection({ id: 'plain', name: 'Plain', capabilities: { ...kafkaLikeCaps, resetOffsets: false } }),
  ],
  'connections.health': async function* () {},
  'destinations.describe': (input: { name: string }) => detail(input.name),
  'groups.list': () => groups,
  'groups.describe': (input: { name: string }) => ({
    ...groups.find((g) => g.name === input.name)!,
    partitions: [
      { destination: 'orders', partition: 0, committed: '10', end: '40', lag: 30 },
      { destination: 'orders', partition: 1, committed: '5', end: '20', lag: 15 },
    ],
    membersDetail: input.name === 'analytics' ? [{ id: 'worker-1', host: null, pending: 2, idleMs: 100 }, { id: 'worker-2', host: null, pending: 1, idleMs: 5 }] : [],
  }),
};

const pendingEntries = [
  { id: '1700000000000-0', consumer: 'worker-1', idleMs: 65_000, deliveryCount: 3 },
  { id: '1700000000001-0', consumer: 'worker-1', idleMs: 64_000, deliveryCount: 1 },
  { id: '1700000000002-0', consumer: 'worker-2', idleMs: 2_000, deliveryCount: 1 },
];

async function openReset(group: string) {
  const card = (await screen.findByText(/^Lag per partition/)).closest('section')!;
  if (group !== 'analytics') {
    fireEvent.click(screen.getByRole('button', { name: group }));
    await waitFor(() => expect(card.textContent).toContain(group));
  }
  fireEvent.click(await screen.findByRole('button', { name: 'Reset offsets…' }));
  return screen.findByRole('dialog', { name: `Reset offsets of ${group}` });
}

describe('Consumers: reset offsets', () => {
  it('names group, destination and target before resetting, sends exactly that, then refreshes lag', async () => {
    const resets: unknown[] = [];
    const { calls } = renderApp('/c/memory/d/orders/consumers', { ...base, 'groups.resetOffsets': (input: unknown) => { resets.push(input); return { ok: true }; } });
    const dialog = await openReset('billing');
    expect(within(dialog).queryByText(/active member/)).toBeNull();
    fireEvent.click(within(dialog).getByRole('radio', { name: /An exact offset/ }));
    fireEvent.change(within(dialog).getByRole('combobox', { name: 'Partition' }), { target: { value: '1' } });
    expect(within(dialog).getByText('Stored: 0 to 10 (10 is the end). The group reads from here on.')).toBeTruthy();
    fireEvent.change(within(dialog).getByRole('textbox', { name: 'Offset' }), { target: { value: '7x' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Review…' }));
    expect(within(dialog).getByRole('alert').textContent).toBe('Enter the offset as a whole number.');
    fireEvent.change(within(dialog).getByRole('textbox', { name: 'Offset' }), { target: { value: '7' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Review…' }));

    const confirm = await screen.findByRole('dialog', { name: 'Reset offsets of billing?' });
    expect(confirm.className).toContain('danger');
    expect(within(confirm).getByTestId('reset-summary').textContent).toBe('GroupbillingDestinationordersReset tooffset 7 of partition 1');
    expect(within(confirm).getByText('Only partition 1 moves; the other partitions keep their positions.')).toBeTruthy();
    const listedBefore = calls.filter((c) => c.path === 'groups.list').length;
    fireEvent.click(within(confirm).getByRole('button', { name: 'Reset offsets' }));
    expect(await screen.findByText('Offsets of billing on orders reset to offset 7 of partition 1')).toBeTruthy();
    expect(resets).toEqual([{ connectionId: 'memory', group: 'billing', destination: 'orders', target: { kind: 'offset', partition: 1, offset: '7' } }]);
    expect(screen.queryByRole('dialog')).toBeNull();
    await waitFor(() => expect(calls.filter((c) => c.path === 'groups.list').length).toBeGreaterThan(listedBefore));
  });

  it('converts a local time to the instant the server gets', async () => {
    const resets: { target: unknown }[] = [];
    renderApp('/c/memory/d/orders/consumers', { ...base, 'groups.resetOffsets': (input: { target: unknown }) => { resets.push(input); return { ok: true }; } });
    const dialog = await openReset('billing');
    fireEvent.click(within(dialog).getByRole('radio', { name: /A point in time/ }));
    fireEvent.change(within(dialog).getByLabelText('Time (your local time)'), { target: { value: '2026-01-02T03:04:05' } });
    const iso = new Date(2026, 0, 2, 3, 4, 5).toISOString();
    expect(within(dialog).getByText(`${iso} UTC`)).toBeTruthy();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Review…' }));
    const confirm = await screen.findByRole('dialog', { name: 'Reset offsets of billing?' });
    expect(within(confirm).getByTestId('reset-summary').textContent).toContain(`(${iso})`);
    fireEvent.click(within(confirm).getByRole('button', { name: 'Reset offsets' }));
    await waitFor(() => expect(resets).toHaveLength(1));
    expect(resets[0]!.target).toEqual({ kind: 'timestamp', timestamp: iso });
  });

  it('warns about active members and shows the CONFLICT refusal with its hint, keeping the dialog open', async () => {
    let refuse: (e: Error) => void = () => undefined;
    renderApp('/c/memory/d/orders/consumers', {
      ...base,
      'groups.resetOffsets': () => new Promise((_, reject) => (refuse = reject)),
    });
    const dialog = await openReset('analytics');
    expect(within(dialog).getByText('analytics has 2 active members')).toBeTruthy();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Review…' }));
    const confirm = await screen.findByRole('dialog', { name: 'Reset offsets of analytics?' });
    expect(within(confirm).getByTestId('reset-summary').textContent).toBe('GroupanalyticsDestinationordersReset tothe earliest stored message');
    fireEvent.click(within(confirm).getByRole('button', { name: 'Reset offsets' }));
    // Loading: the button says so and cannot be pressed twice.
    const busy = await within(confirm).findByRole('button', { name: 'Resetting…' });
    expect((busy as HTMLButtonElement).disabled).toBe(true);
    await act(async () => refuse(serverError('CONFLICT', 'Group analytics has 2 active member(s); stop its consumers before resetting offsets', { mailroomCode: 'CONFLICT', hint: 'Offsets can only be reset while the group is empty.', httpStatus: 409 })));
    const alert = await within(confirm).findByRole('alert');
    expect(alert.textContent).toBe('Not reset: analytics has active consumersGroup analytics has 2 active member(s); stop its consumers before resetting offsetsOffsets can only be reset while the group is empty.');
    expect(screen.getByRole('dialog', { name: 'Reset offsets of analytics?' })).toBeTruthy();
    fireEvent.click(within(confirm).getByRole('button', { name: 'Back' }));
    expect(await screen.findByRole('dialog', { name: 'Reset offsets of analytics' })).toBeTruthy();
  });

  it('is disabled with the reason on a read-only connection, and absent where the broker cannot reset', async () => {
    const { calls, unmount } = renderApp('/c/ro/d/orders/consumers', base);
    const button = await screen.findByRole('button', { name: 'Reset offsets…' });
    expect((button as HTMLButtonElement).disabled).toBe(true);
    expect(button.getAttribute('title')).toBe('This connection is read-only: resetting offsets is disabled.');
    expect(screen.getByText('Read-only connection')).toBeTruthy();
    expect(calls.some((c) => c.path === 'groups.resetOffsets')).toBe(false);
    unmount();
    renderApp('/c/plain/d/orders/consumers', base);
    await screen.findByText(/^Lag per partition/);
    expect(screen.queryByRole('button', { name: 'Reset offsets…' })).toBeNull();
  });

  it('offers an exact position (no partition) where the broker has no partitions', async () => {
    const resets: { target: unknown }[] = [];
    renderApp('/c/streams/d/orders/consumers', { ...base, 'pending.list': () => [], 'groups.resetOffsets': (input: { target: unknown }) => { resets.push(input); return { ok: true }; } });
    const dialog = await openReset('billing');
    fireEvent.click(within(dialog).getByRole('radio', { name: /An exact position/ }));
    expect(within(dialog).queryByRole('combobox', { name: 'Partition' })).toBeNull();
    fireEvent.change(within(dialog).getByRole('textbox', { name: 'Position' }), { target: { value: '1700000000000-' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Review…' }));
    expect(within(dialog).getByRole('alert').textContent).toBe('Enter a position: a number, or an entry id such as 1700000000000-0.');
    fireEvent.change(within(dialog).getByRole('textbox', { name: 'Position' }), { target: { value: ' 1700000000000-3 ' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Review…' }));
    const confirm = await screen.findByRole('dialog', { name: 'Reset offsets of billing?' });
    expect(within(confirm).getByTestId('reset-summary').textContent).toBe('GroupbillingDestinationordersReset toposition 1700000000000-3');
    fireEvent.click(within(confirm).getByRole('button', { name: 'Reset offsets' }));
    await waitFor(() => expect(resets).toHaveLength(1));
    expect(resets[0]!.target).toEqual({ kind: 'offset', partition: 0, offset: '1700000000000-3' });
  });
});

describe('Consumers: pending entries', () => {
  it('loading, then error with the server message, then empty', async () => {
    const { unmount } = renderApp('/c/streams/d/orders/consumers', { ...base, 'pending.list': never });
    expect(await screen.findByRole('status', { name: 'Loading pending entries' })).toBeTruthy();
    unmount();
    const second = renderApp('/c/streams/d/orders/consumers', { ...base, 'pending.list': () => { throw serverError('NOT_FOUND', 'No group analytics on stream orders', { mailroomCode: 'NOT_FOUND', httpStatus: 404 }); } });
    const region = await screen.findByRole('region', { name: 'Pending entries of analytics' });
    await waitFor(() => expect(within(region).getByText('No group analytics on stream orders')).toBeTruthy());
    second.unmount();
    renderApp('/c/streams/d/orders/consumers', { ...base, 'pending.list': () => [] });
    expect(await screen.findByText('No pending entries')).toBeTruthy();
  });

  it('lists entries, acknowledges the selected ones behind a red confirmation, and refreshes', async () => {
    const acks: unknown[] = [];
    let current = pendingEntries;
    const { calls } = renderApp('/c/streams/d/orders/consumers', {
      ...base,
      'pending.list': () => current,
      'pending.ack': (input: { ids: string[] }) => { acks.push(input); current = pendingEntries.filter((e) => !input.ids.includes(e.id)); return { acked: input.ids.length - 1 }; },
    });
    const region = await screen.findByRole('region', { name: 'Pending entries of analytics' });
    const rows = await within(region).findAllByRole('row');
    expect(rows.slice(1).map((r) => Array.from(r.querySelectorAll('td')).slice(1).map((td) => td.textContent))).toEqual([
      ['1700000000000-0', 'worker-1', '1m 5s', '3'],
      ['1700000000001-0', 'worker-1', '1m 4s', '1'],
      ['1700000000002-0', 'worker-2', '2 s', '1'],
    ]);
    const ack = within(region).getByRole('button', { name: /Acknowledge/ }) as HTMLButtonElement;
    expect(ack.disabled).toBe(true);
    fireEvent.click(within(region).getByRole('checkbox', { name: 'Select entry 1700000000000-0' }));
    fireEvent.click(within(region).getByRole('checkbox', { name: 'Select entry 1700000000002-0' }));
    expect(within(region).getByText(/of 3 selected/).textContent).toBe('2 of 3 selected');
    fireEvent.click(ack);
    const dialog = await screen.findByRole('dialog', { name: 'Acknowledge 2 entries?' });
    expect(dialog.className).toContain('danger');
    expect(within(dialog).getByText('1700000000000-0, 1700000000002-0')).toBeTruthy();
    expect(acks).toHaveLength(0);
    const listed = calls.filter((c) => c.path === 'pending.list').length;
    fireEvent.click(within(dialog).getByRole('button', { name: 'Acknowledge 2 entries' }));
    expect(await screen.findByText('Acknowledged 1 entry of analytics (1 no longer pending)')).toBeTruthy();
    expect(acks).toEqual([{ connectionId: 'streams', destination: 'orders', group: 'analytics', ids: ['1700000000000-0', '1700000000002-0'] }]);
    await waitFor(() => expect(calls.filter((c) => c.path === 'pending.list').length).toBeGreaterThan(listed));
    await waitFor(() => expect(within(region).getAllByRole('row')).toHaveLength(2));
    expect(within(region).getByText(/of 1 selected/).textContent).toBe('0 of 1 selected');
  });

  it('claims the selected entries for a consumer, and shows a refusal in the dialog', async () => {
    const claims: unknown[] = [];
    let fail = true;
    renderApp('/c/streams/d/orders/consumers', {
      ...base,
      'pending.list': () => pendingEntries,
      'pending.claim': (input: unknown) => {
        if (fail) throw serverError('BAD_REQUEST', 'claimPending needs a consumer name of 1 to 200 characters', { mailroomCode: 'INVALID_INPUT', hint: 'Use the name the consumer reads with.', httpStatus: 400 });
        claims.push(input);
        return { claimed: 3 };
      },
    });
    const region = await screen.findByRole('region', { name: 'Pending entries of analytics' });
    await within(region).findAllByRole('row');
    fireEvent.click(within(region).getByRole('checkbox', { name: 'Select all pending entries' }));
    fireEvent.click(within(region).getByRole('button', { name: 'Claim…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Claim 3 entries' });
    const input = within(dialog).getByRole('combobox', { name: 'Consumer' });
    expect(document.activeElement).toBe(input);
    expect(within(dialog).getByText('Known: worker-1, worker-2')).toBeTruthy();
    expect((within(dialog).getByRole('button', { name: 'Claim' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(input, { target: { value: 'worker-2' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Claim for worker-2' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert.textContent).toBe('Invalid requestclaimPending needs a consumer name of 1 to 200 charactersUse the name the consumer reads with.');
    fail = false;
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(await screen.findByText('Claimed 3 entries for worker-2')).toBeTruthy();
    expect(claims).toEqual([{ connectionId: 'streams', destination: 'orders', group: 'analytics', consumer: 'worker-2', ids: pendingEntries.map((e) => e.id) }]);
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('read-only: entries are listed without selection or actions, with the reason', async () => {
    renderApp('/c/ro-streams/d/orders/consumers', { ...base, 'pending.list': () => pendingEntries });
    const region = await screen.findByRole('region', { name: 'Pending entries of analytics' });
    await waitFor(() => expect(within(region).getAllByRole('row')).toHaveLength(4));
    expect(within(region).getByText(/This connection is read-only: acknowledging and claiming pending entries is disabled\./).textContent).toBe(' 3 · This connection is read-only: acknowledging and claiming pending entries is disabled.');
    expect(screen.getByText('Read-only connection')).toBeTruthy();
    expect(within(region).queryByRole('checkbox')).toBeNull();
    expect(within(region).queryByRole('button', { name: 'Claim…' })).toBeNull();
    expect(within(region).queryByRole('button', { name: /Acknowledge/ })).toBeNull();
  });
});
