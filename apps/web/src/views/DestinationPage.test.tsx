import { toBase64 } from '@mailroom/core';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { connection, detail, downConnection, message, page, rabbitLikeCaps } from '../test/fixtures';
import { brokerDownError, never, pushStream, renderApp, serverError, type Handlers } from '../test/harness';

const base: Handlers = {
  'connections.list': () => [connection(), connection({ id: 'rabbit', name: 'Rabbit', kind: 'rabbitmq', capabilities: rabbitLikeCaps })],
  'connections.health': async function* () {},
  'destinations.describe': (input: { name: string }) => detail(input.name, { depth: 1234, lag: 56, deadLetter: 'orders.dlq' }),
};

describe('Destination: browse', () => {
  it('loading, then newest-first data with the stats header', async () => {
    let release: (v: unknown) => void = () => undefined;
    renderApp('/c/memory/d/orders', { ...base, 'messages.browse': () => new Promise((r) => (release = r)) });
    expect(await screen.findByRole('status', { name: 'Loading messages' })).toBeTruthy();
    await act(async () => release(page([message(3), message(2), message(1)], { nextCursor: 'c2' })));
    const grid = await screen.findByRole('grid', { name: 'Messages' });
    await waitFor(() => expect(within(grid).getAllByRole('row')).toHaveLength(4));
    expect(within(grid).getAllByRole('row')[1]!.textContent).toContain('c-3');
    expect(screen.getByText('1,234')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Load 100 more' })).toBeTruthy();
  });

  it('empty', async () => {
    renderApp('/c/memory/d/orders', { ...base, 'messages.browse': () => page([]) });
    expect(await screen.findByText('No messages')).toBeTruthy();
  });

  it('broker error', async () => {
    renderApp('/c/memory/d/orders', { ...base, 'messages.browse': () => { throw brokerDownError(); } });
    await waitFor(() => expect(document.querySelector('[data-state="broker-down"]')).not.toBeNull());
  });

  it('browses by partition and position, sending exactly that to the server', async () => {
    const { calls } = renderApp('/c/memory/d/orders?from=position&pos=42&p=1', { ...base, 'messages.browse': () => page([message(42, { partition: 1 })]) });
    await screen.findByRole('grid', { name: 'Messages' });
    const input = calls.find((c) => c.path === 'messages.browse')!.input;
    expect(input).toMatchObject({ connectionId: 'memory', destination: 'orders', start: { from: 'position', position: '42' }, partition: 1, limit: 100 });
    expect(input).not.toHaveProperty('force');
  });

  it('opens a message: pretty JSON, key, headers, offset, and a shareable link', async () => {
    renderApp('/c/memory/d/orders', { ...base, 'messages.browse': () => page([message(7)]) });
    const grid = await screen.findByRole('grid', { name: 'Messages' });
    await waitFor(() => expect(within(grid).getAllByRole('row')).toHaveLength(2));
    fireEvent.click(within(grid).getAllByRole('row')[1]!);
    const viewer = await screen.findByRole('region', { name: 'Message' });
    expect(within(viewer).getByTestId('value-json').textContent).toBe('{\n  "orderId": "o-7",\n  "amount": 70\n}');
    expect(within(viewer).getByTestId('value-json').querySelector('.k')!.textContent).toBe('"orderId"');
    expect(within(viewer).getByText('c-7')).toBeTruthy();
    expect(within(viewer).getByText('content-type')).toBeTruthy();
    expect(within(viewer).getByRole('link', { name: /Link/ }).getAttribute('href')).toBe('/c/memory/d/orders/m/0%3A7?partition=0&position=7');
    fireEvent.click(within(viewer).getByRole('button', { name: 'Hex' }));
    expect(within(viewer).getByTestId('value-hex').textContent).toMatch(/^00000000 {2}7b 22 6f 72/);
  });

  it('shows binary values as hex and cuts a large value with "show all"', async () => {
    const big = 'x'.repeat(25_000);
    renderApp('/c/memory/d/orders', {
      ...base,
      'messages.browse': () => page([
        message(1, { valueBase64: toBase64(new Uint8Array([0, 1, 2, 255])), size: 4 }),
        message(2, { valueBase64: toBase64(new TextEncoder().encode(big)), size: 25_000 }),
      ]),
    });
    const grid = await screen.findByRole('grid', { name: 'Messages' });
    await waitFor(() => expect(within(grid).getAllByRole('row')).toHaveLength(3));
    fireEvent.click(within(grid).getAllByRole('row')[1]!);
    let viewer = await screen.findByRole('region', { name: 'Message' });
    expect(within(viewer).getByTestId('value-hex').textContent).toContain('00 01 02 ff');
    fireEvent.click(within(grid).getAllByRole('row')[2]!);
    viewer = await screen.findByRole('region', { name: 'Message' });
    expect(within(viewer).getByTestId('value-text').textContent).toHaveLength(20_000);
    fireEvent.click(within(viewer).getByRole('button', { name: 'Show all' }));
    expect(within(viewer).getByTestId('value-text').textContent).toHaveLength(25_000);
  });

  it('reads nothing on a destructive-peek broker until the operator confirms, then sends force', async () => {
    const { calls } = renderApp('/c/rabbit/d/jobs', { ...base, 'messages.browse': () => page([message(1)], { destructive: true, warnings: ['3 messages were requeued and are now marked redelivered'] }) });
    expect(await screen.findByText('Reading these messages changes them on the broker')).toBeTruthy();
    expect(screen.getByText(/basic\.get and requeues them/)).toBeTruthy();
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.filter((c) => c.path === 'messages.browse')).toHaveLength(0);
    fireEvent.click(screen.getByRole('button', { name: /Browse anyway/ }));
    await screen.findByRole('grid', { name: 'Messages' });
    expect(calls.filter((c) => c.path === 'messages.browse')).toHaveLength(1);
    expect(calls.find((c) => c.path === 'messages.browse')!.input).toMatchObject({ force: true });
    expect(screen.getByText('This read had side effects on the broker')).toBeTruthy();
    expect(screen.getByText('3 messages were requeued and are now marked redelivered')).toBeTruthy();
  });

  it('validates a filter on the server before applying it', async () => {
    const { calls } = renderApp('/c/memory/d/orders', {
      ...base,
      'messages.browse': () => page([message(1)]),
      'filters.validate': (input: { expression: string }) => (input.expression.includes('==') ? { ok: true } : { ok: false, error: 'Expected an operator', position: 4 }),
    });
    await screen.findByRole('grid', { name: 'Messages' });
    const box = screen.getByRole('textbox', { name: 'Filter expression' });
    fireEvent.change(box, { target: { value: 'key c-1' } });
    fireEvent.submit(box.closest('form')!);
    expect((await screen.findByRole('alert')).textContent).toBe('Expected an operator (at 4)');
    expect(calls.filter((c) => c.path === 'messages.browse').every((c) => !('filter' in (c.input as object)))).toBe(true);
    fireEvent.change(box, { target: { value: 'key == "c-1"' } });
    fireEvent.submit(box.closest('form')!);
    await waitFor(() => expect(calls.some((c) => c.path === 'messages.browse' && (c.input as { filter?: string }).filter === 'key == "c-1"')).toBe(true));
  });
});

describe('Destination: live tail', () => {
  it('shows batches newest first, counts what was skipped, pauses and clears', async () => {
    const stream = pushStream<unknown>();
    renderApp('/c/memory/d/orders/tail', { ...base, 'messages.tail': () => stream });
    expect(await screen.findByText('Waiting for messages…')).toBeTruthy();
    stream.push({ kind: 'open', messages: [], skipped: 0, gap: false, notice: null });
    await screen.findByRole('status', { name: 'Tail status: Live' });
    stream.push({ kind: 'batch', messages: [message(1), message(2)], skipped: 0, gap: false, notice: null });
    stream.push({ kind: 'batch', messages: [message(3)], skipped: 40, gap: false, notice: null });
    const grid = await screen.findByRole('grid', { name: 'Tailed messages' }, { timeout: 2000 });
    await waitFor(() => expect(within(grid).getAllByRole('row')).toHaveLength(4));
    expect(within(grid).getAllByRole('row')[1]!.textContent).toContain('c-3');
    expect(screen.getByTestId('tail-skipped').textContent).toBe('40');
    expect(screen.getByRole('status', { name: 'Tail status: Live' })).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: /Pause/ }));
    stream.push({ kind: 'batch', messages: [message(4), message(5)], skipped: 0, gap: false, notice: null });
    expect(await screen.findByRole('button', { name: 'Resume (+2)' }, { timeout: 2000 })).toBeTruthy();
    expect(within(grid).getAllByRole('row')).toHaveLength(4);
    fireEvent.click(screen.getByRole('button', { name: 'Resume (+2)' }));
    await waitFor(() => expect(within(screen.getByRole('grid', { name: 'Tailed messages' })).getAllByRole('row')).toHaveLength(6));

    fireEvent.click(screen.getByRole('button', { name: /Clear/ }));
    expect(await screen.findByText('Waiting for messages…')).toBeTruthy();
    expect(screen.getByTestId('tail-skipped').textContent).toBe('0');
    stream.end();
  });

  it('says Connecting… until the server reports the broker-side reader positioned, then Live', async () => {
    const stream = pushStream<unknown>();
    renderApp('/c/memory/d/orders/tail', { ...base, 'messages.tail': () => stream });
    const tail = await screen.findByRole('region', { name: 'Live tail' });
    expect(screen.getByRole('status', { name: 'Tail status: Connecting…' })).toBeTruthy();
    expect(tail.getAttribute('data-tail-ready')).toBe('false');
    stream.push({ kind: 'batch', messages: [], skipped: 0, gap: false, notice: null });
    await new Promise((r) => setTimeout(r, 50));
    expect(screen.getByRole('status', { name: 'Tail status: Connecting…' })).toBeTruthy();
    stream.push({ kind: 'open', messages: [], skipped: 0, gap: false, notice: null });
    expect(await screen.findByRole('status', { name: 'Tail status: Live' })).toBeTruthy();
    expect(tail.getAttribute('data-tail-ready')).toBe('true');
    stream.push({ kind: 'end' });
    expect(await screen.findByText('The broker ended this tail (the destination may have been deleted).')).toBeTruthy();
    stream.end();
  });

  it('warns before tailing a destructive-peek broker', async () => {
    const { calls } = renderApp('/c/rabbit/d/jobs/tail', { ...base, 'messages.tail': () => pushStream() });
    expect(await screen.findByRole('button', { name: /Start the live tail anyway/ })).toBeTruthy();
    expect(calls.filter((c) => c.path === 'messages.tail')).toHaveLength(0);
    fireEvent.click(screen.getByRole('button', { name: /Start the live tail anyway/ }));
    await waitFor(() => expect(calls.filter((c) => c.path === 'messages.tail')).toHaveLength(1));
    expect(calls.find((c) => c.path === 'messages.tail')!.input).toMatchObject({ force: true });
  });

  it('shows the tail error when the broker fails', async () => {
    renderApp('/c/memory/d/orders/tail', { ...base, 'messages.tail': () => { throw brokerDownError(); } });
    await waitFor(() => expect(document.querySelector('[data-state="broker-down"]')).not.toBeNull());
  });
});

describe('Destination: consumers and metrics', () => {
  it('lists groups with lag and shows per-partition lag of the selected group', async () => {
    renderApp('/c/memory/d/orders/consumers', {
      ...base,
      'groups.list': () => [
        { name: 'analytics', destinations: ['orders'], state: 'Stable', members: 2, lag: 45, pending: null },
        { name: 'billing', destinations: ['orders'], state: 'Empty', members: 0, lag: 0, pending: null },
      ],
      'groups.describe': (input: { name: string }) => ({
        name: input.name, destinations: ['orders'], state: 'Stable', members: 2, lag: 45, pending: null,
        partitions: [
          { destination: 'orders', partition: 0, committed: '10', end: '40', lag: 30 },
          { destination: 'orders', partition: 1, committed: '5', end: '20', lag: 15 },
        ],
        membersDetail: [{ id: 'consumer-1', host: '/10.0.0.1', pending: null, idleMs: null }],
      }),
    });
    expect(await screen.findByRole('button', { name: 'analytics' })).toBeTruthy();
    const bars = await screen.findByRole('list', { name: 'Lag per partition for analytics' });
    expect(within(bars).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['orders[0]30', 'orders[1]15']);
    expect(screen.getByRole('img', { name: 'Consumer lag over time' })).toBeTruthy();
  });

  it('consumers loading', async () => {
    renderApp('/c/memory/d/orders/consumers', { ...base, 'groups.list': never });
    expect(await screen.findByRole('status', { name: 'Loading consumer groups' })).toBeTruthy();
  });

  it('consumers error: says what failed and retries', async () => {
    let fail = true;
    renderApp('/c/memory/d/orders/consumers', {
      ...base,
      'groups.list': () => {
        if (fail) throw serverError('FORBIDDEN', 'Describing consumer groups needs the DESCRIBE ACL on group *', { httpStatus: 403 });
        return [{ name: 'analytics', destinations: ['orders'], state: 'Stable', members: 2, lag: 45, pending: null }];
      },
      'groups.describe': never,
    });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Not allowed');
    expect(alert.textContent).toContain('Describing consumer groups needs the DESCRIBE ACL on group *');
    expect(screen.queryByRole('button', { name: 'analytics' })).toBeNull();
    fail = false;
    fireEvent.click(within(alert).getByRole('button', { name: /Retry/ }));
    expect(await screen.findByRole('button', { name: 'analytics' })).toBeTruthy();
  });

  it('consumers when the broker goes down: the broker-down state', async () => {
    renderApp('/c/memory/d/orders/consumers', { ...base, 'groups.list': () => { throw brokerDownError(); } });
    await waitFor(() => expect(document.querySelector('[data-state="broker-down"]')).not.toBeNull());
    expect(document.querySelector('[data-state="broker-down"]')!.textContent).toContain('Broker unreachable');
  });

  it('consumers: a group whose detail fails on a down broker says so in its panel', async () => {
    renderApp('/c/memory/d/orders/consumers', {
      ...base,
      'groups.list': () => [{ name: 'analytics', destinations: ['orders'], state: 'Stable', members: 2, lag: 45, pending: null }],
      'groups.describe': () => { throw brokerDownError(); },
    });
    const heading = await screen.findByText('Lag per partition ·');
    const panel = heading.closest('section')!;
    await waitFor(() => expect(panel.querySelector('[data-state="broker-down"]')).not.toBeNull());
    expect(panel.textContent).toContain('broker memory is unreachable');
    expect(screen.getByRole('button', { name: 'analytics' })).toBeTruthy(); // the list stays
  });

  it('consumers on a connection whose broker is down: no tab content and no group requests', async () => {
    const { calls } = renderApp('/c/staging/d/orders/consumers', { ...base, 'connections.list': () => [connection(), downConnection()], 'groups.list': () => [] });
    expect(await screen.findByText('Broker unreachable')).toBeTruthy();
    expect(screen.getByText('connect ECONNREFUSED 127.0.0.1:9099')).toBeTruthy();
    expect(screen.queryByRole('navigation', { name: 'Destination views' })).toBeNull();
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.filter((c) => c.path === 'groups.list' || c.path === 'destinations.describe')).toHaveLength(0);
  });

  it('says when a destination has no consumer groups', async () => {
    renderApp('/c/memory/d/orders/consumers', { ...base, 'groups.list': () => [] });
    expect(await screen.findByText('No consumer groups read this destination')).toBeTruthy();
  });

  it('shows metrics for the destination', async () => {
    renderApp('/c/memory/d/orders/metrics', {
      ...base,
      'metrics.snapshot': () => ({ connectionId: 'memory', at: '2026-01-01T00:00:00Z', destinations: [{ destination: 'orders', depth: 100, inFlight: 3, delayed: null, consumers: 2, publishRate: 7.5, deliverRate: 11, ackRate: 10, oldestAgeMs: 65_000 }], groups: [] }),
    });
    expect((await screen.findAllByText('7.5/s')).length).toBeGreaterThan(0);
    expect(screen.getByText('1m 5s')).toBeTruthy();
    expect(screen.getByRole('img', { name: 'Publish, deliver and ack rates' })).toBeTruthy();
  });

  it('loading metrics', async () => {
    renderApp('/c/memory/d/orders/metrics', { ...base, 'metrics.snapshot': never });
    expect(await screen.findByRole('status', { name: 'Loading metrics' })).toBeTruthy();
  });

  it('metrics error: says what failed, retries, and then shows the metrics', async () => {
    let fail = true;
    renderApp('/c/memory/d/orders/metrics', {
      ...base,
      'metrics.snapshot': () => {
        if (fail) throw serverError('INTERNAL_SERVER_ERROR', 'management API answered 500 for /api/queues');
        return { connectionId: 'memory', at: '2026-01-01T00:00:00Z', destinations: [{ destination: 'orders', depth: 100, inFlight: 3, delayed: null, consumers: 2, publishRate: 7.5, deliverRate: 11, ackRate: 10, oldestAgeMs: 65_000 }], groups: [] };
      },
    });
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Request failed');
    expect(alert.textContent).toContain('management API answered 500 for /api/queues');
    expect(document.querySelector('[data-state="error"]')).not.toBeNull();
    expect(screen.queryByRole('img', { name: 'Publish, deliver and ack rates' })).toBeNull();
    fail = false;
    fireEvent.click(within(alert).getByRole('button', { name: /Retry/ }));
    expect(await screen.findByRole('img', { name: 'Publish, deliver and ack rates' })).toBeTruthy();
    expect(screen.getByText('1m 5s')).toBeTruthy();
  });

  it('metrics when the broker is down: the broker-down state', async () => {
    renderApp('/c/memory/d/orders/metrics', { ...base, 'metrics.snapshot': () => { throw brokerDownError(); } });
    await waitFor(() => expect(document.querySelector('[data-state="broker-down"]')).not.toBeNull());
    expect(document.querySelector('[data-state="broker-down"]')!.textContent).toContain('Check that the broker is running.');
  });

  it('metrics empty: says the broker reported none for this destination instead of drawing empty charts', async () => {
    renderApp('/c/memory/d/orders/metrics', {
      ...base,
      'metrics.snapshot': () => ({ connectionId: 'memory', at: '2026-01-01T00:00:00Z', destinations: [{ destination: 'payments', depth: 5, inFlight: 0, delayed: null, consumers: 1, publishRate: 1, deliverRate: 1, ackRate: 1, oldestAgeMs: 1000 }], groups: [] }),
    });
    expect(await screen.findByText('No metrics for this destination')).toBeTruthy();
    const empty = document.querySelector('[data-state="empty"]')!;
    expect(empty.textContent).toContain('has no entry for orders');
    expect(screen.queryByRole('img', { name: 'Publish, deliver and ack rates' })).toBeNull();
    expect(screen.queryByText('Ack rate')).toBeNull();
  });
});
