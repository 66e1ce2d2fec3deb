import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, Headers, UnsupportedError, fromUtf8, utf8 } from '@mailroom/core';
import { createRabbitMqAdapter, PEEK_WARNING, type RabbitMqAdapter } from '../src/index';
import { Broker } from './broker';
import { testConfig, uniqueName } from './env';
import { STATS_DEADLINE_MS, waitUntil } from './wait';

const values = (messages: { value: Uint8Array }[]) => messages.map((m) => fromUtf8(m.value));

describe('browse', () => {
  const broker = new Broker();
  let adapter: RabbitMqAdapter;

  // Its own connection name, so the broker's count of its consumers is this suite's alone.
  const connectionName = uniqueName('browse-conn');

  beforeAll(() => {
    adapter = createRabbitMqAdapter(testConfig({ connectionName }));
  });
  afterAll(async () => {
    await adapter.close();
    await broker.cleanup();
  }, 60_000);

  it('declares peek as destructive with an operator warning', () => {
    expect(adapter.capabilities.peekIsDestructive).toBe(true);
    expect(adapter.capabilities.peekWarning).toBe(PEEK_WARNING);
    expect(PEEK_WARNING).toMatch(/redelivered/);
  });

  it('peeks a classic queue with get + requeue: messages stay, in order, marked redelivered', async () => {
    const queue = await broker.queue(uniqueName('peek'));
    await broker.sendToQueue(queue, Array.from({ length: 8 }, (_, i) => ({ body: Buffer.from(`m-${i}`), messageId: `id-${i}` })));

    const first = await adapter.browse({ destination: queue, start: { from: 'oldest' }, limit: 3 });
    expect(values(first.messages)).toEqual(['m-0', 'm-1', 'm-2']);
    expect(first.destructive).toBe(true);
    expect(first.warnings.join(' ')).toMatch(/3 messages were taken with basic.get and requeued/);
    expect(first.messages.map((m) => m.redelivered), 'the first peek sees them fresh').toEqual([false, false, false]);
    expect(first.messages[0]?.position, 'classic queues have no positions').toBeNull();

    const second = await adapter.browse({ destination: queue, start: { from: 'oldest' }, cursor: first.nextCursor, limit: 3 });
    expect(values(second.messages)).toEqual(['m-3', 'm-4', 'm-5']);
    const third = await adapter.browse({ destination: queue, start: { from: 'oldest' }, cursor: second.nextCursor, limit: 3 });
    expect(values(third.messages)).toEqual(['m-6', 'm-7']);
    expect(third.nextCursor).toBeNull();

    const again = await adapter.browse({ destination: queue, start: { from: 'oldest' }, limit: 500 });
    expect(values(again.messages), 'requeue keeps the queue order').toEqual(Array.from({ length: 8 }, (_, i) => `m-${i}`));
    expect(again.messages.slice(0, 3).every((m) => m.redelivered === true), 'peeked messages come back redelivered').toBe(true);
    expect(again.messages.slice(0, 3).every((m) => m.deliveryCount === null), 'a classic queue does not count redeliveries').toBe(true);

    const newest = await adapter.browse({ destination: queue, start: { from: 'newest' }, limit: 3 });
    expect(values(newest.messages), 'newest first').toEqual(['m-7', 'm-6', 'm-5']);
    const older = await adapter.browse({ destination: queue, start: { from: 'newest' }, cursor: newest.nextCursor, limit: 3 });
    expect(values(older.messages)).toEqual(['m-4', 'm-3', 'm-2']);

    const filtered = await adapter.browse({ destination: queue, start: { from: 'oldest' }, limit: 10, filter: (m) => m.id.endsWith('-4') || m.id.endsWith('-6') });
    expect(values(filtered.messages)).toEqual(['m-4', 'm-6']);
    expect(filtered.scanned).toBe(8);

    expect(await broker.ctlCounts(queue), 'nothing consumed, nothing left unacked').toEqual({ ready: 8, unacked: 0 });
    const drained = await broker.drain(queue);
    expect(drained.map((m) => m.body.toString())).toEqual(Array.from({ length: 8 }, (_, i) => `m-${i}`));
  });

  it('refuses to peek a quorum queue with a delivery-limit unless forced, and says which messages went over', async () => {
    const queue = await broker.queue(uniqueName('peek-quorum'), { 'x-queue-type': 'quorum', 'x-delivery-limit': 1 });
    await broker.sendToQueue(queue, [{ body: Buffer.from('a'), messageId: 'a' }, { body: Buffer.from('b'), messageId: 'b' }]);
    await expect(adapter.browse({ destination: queue, start: { from: 'oldest' }, limit: 10 })).rejects.toBeInstanceOf(ConflictError);

    const forced = await adapter.browse({ destination: queue, start: { from: 'oldest' }, limit: 10, force: true });
    expect(values(forced.messages)).toEqual(['a', 'b']);
    expect(forced.messages.map((m) => m.deliveryCount)).toEqual([1, 1]);
    expect(forced.warnings.join(' ')).toMatch(/delivery count/);

    const second = await adapter.browse({ destination: queue, start: { from: 'oldest' }, limit: 10, force: true });
    expect(second.messages.map((m) => m.deliveryCount), 'each peek counted as a delivery').toEqual([2, 2]);
    expect(second.warnings.join(' ')).toMatch(/2 messages went over the delivery-limit of 1/);
    expect(await broker.ctlCountsSettled(queue, { ready: 0, unacked: 0 }), 'over the limit with no DLX: dropped').toEqual({ ready: 0, unacked: 0 });
  });

  it('browses a stream queue by offset without side effects', async () => {
    const stream = uniqueName('stream');
    await adapter.createDestination(stream, { type: 'stream' });
    broker.track('queue', stream);
    broker.track('exchange', stream);
    const before = new Date(Date.now() - 1000);
    await adapter.publish(stream, Array.from({ length: 12 }, (_, i) => ({ key: `k-${i}`, value: utf8(`s-${i}`), headers: { [Headers.messageId]: `s-${i}` } })));

    const oldest = await adapter.browse({ destination: stream, start: { from: 'oldest' }, limit: 5 });
    expect(values(oldest.messages)).toEqual(['s-0', 's-1', 's-2', 's-3', 's-4']);
    expect(oldest.messages.map((m) => m.position)).toEqual(['0', '1', '2', '3', '4']);
    expect(oldest.destructive).toBe(false);
    expect(oldest.messages[0]?.key).toBe('k-0');
    expect(oldest.messages[0]?.redelivered).toBeNull();
    const next = await adapter.browse({ destination: stream, start: { from: 'oldest' }, cursor: oldest.nextCursor, limit: 5 });
    expect(values(next.messages)).toEqual(['s-5', 's-6', 's-7', 's-8', 's-9']);

    const newest = await adapter.browse({ destination: stream, start: { from: 'newest' }, limit: 5 });
    expect(values(newest.messages)).toEqual(['s-11', 's-10', 's-9', 's-8', 's-7']);
    const older = await adapter.browse({ destination: stream, start: { from: 'newest' }, cursor: newest.nextCursor, limit: 5 });
    expect(values(older.messages)).toEqual(['s-6', 's-5', 's-4', 's-3', 's-2']);
    const oldestPage = await adapter.browse({ destination: stream, start: { from: 'newest' }, cursor: older.nextCursor, limit: 5 });
    expect(values(oldestPage.messages)).toEqual(['s-1', 's-0']);
    expect(oldestPage.nextCursor).toBeNull();

    const at = await adapter.browse({ destination: stream, start: { from: 'position', position: '10' }, limit: 5 });
    expect(values(at.messages)).toEqual(['s-10', 's-11']);
    const since = await adapter.browse({ destination: stream, start: { from: 'timestamp', timestamp: before }, limit: 3 });
    expect(values(since.messages)).toEqual(['s-0', 's-1', 's-2']);
    const future = await adapter.browse({ destination: stream, start: { from: 'timestamp', timestamp: new Date(Date.now() + 3_600_000) }, limit: 3 });
    expect(future.messages).toEqual([]);

    const filtered = await adapter.browse({ destination: stream, start: { from: 'oldest' }, limit: 100, filter: (m) => m.key === 'k-3' });
    expect(values(filtered.messages)).toEqual(['s-3']);
    expect(filtered.scanned).toBe(12);

    const again = await adapter.browse({ destination: stream, start: { from: 'oldest' }, limit: 100 });
    expect(values(again.messages), 'reading changed nothing').toEqual(Array.from({ length: 12 }, (_, i) => `s-${i}`));
    // The channels count their consumers at once (a stream's declare-ok always says 0, and the
    // management statistics lag); a leftover consumer would stay counted.
    expect(await broker.ctlConnectionsNamed(`${connectionName}/`), "the adapter's connection is open").toHaveLength(1);
    const consumers = await waitUntil(() => broker.ctlConsumersOn(`${connectionName}/`), (n) => n === 0, STATS_DEADLINE_MS);
    expect(consumers, 'no consumer left behind').toBe(0);
  });

  it('cannot browse an exchange, and says why', async () => {
    const exchange = await broker.exchange(uniqueName('only-exchange'), 'topic');
    await expect(adapter.browse({ destination: exchange, start: { from: 'newest' }, limit: 10 })).rejects.toBeInstanceOf(UnsupportedError);
  });
});
