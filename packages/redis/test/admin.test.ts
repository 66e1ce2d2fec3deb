import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { ConflictError, InvalidInputError, NotFoundError, UnsupportedError, type StoredMessage } from '@mailroom/core';
import type { RedisAdapter } from '../src/index';
import { adapterFor, bytes, deleteKeys, pollUntil, rawClient, text, uniquePrefix, xinfoGroups } from './helpers';

const prefix = uniquePrefix('admin');
let redis: Redis;
let adapter: RedisAdapter;

beforeAll(() => {
  redis = rawClient();
  adapter = adapterFor({ keyPattern: `${prefix}*` });
});

afterAll(async () => {
  await adapter.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

function values(messages: StoredMessage[]): string[] {
  return messages.map((m) => text(m.value));
}

describe('consumer groups', () => {
  it('lag and pending equal XINFO GROUPS; members, pending list, ack and claim work on the real group', async () => {
    const stream = `${prefix}-lag`;
    const consumer = adapter.createConsumer({ group: 'billing', maxMessages: 20 });
    await consumer.subscribe([stream]);
    await adapter.publish(stream, Array.from({ length: 50 }, (_, i) => ({ key: null, value: bytes(`e${i}`), headers: {} })));
    const got = await pollUntil(consumer, 20, 3000);
    expect(got).toHaveLength(20);

    const [raw] = await xinfoGroups(redis, stream);
    expect(raw).toMatchObject({ name: 'billing', pending: 20, lag: 30, 'entries-read': 20 });
    const [summary] = await adapter.listConsumerGroups(stream);
    expect(summary).toEqual({ name: 'billing', destinations: [stream], state: 'active', members: 1, lag: raw!['lag'], pending: raw!['pending'] });
    const detail = await adapter.describeConsumerGroup('billing', stream);
    const lastGenerated = ((await redis.call('XINFO', 'STREAM', stream)) as unknown[])[7];
    expect(detail.partitions).toEqual([{ destination: stream, partition: null, committed: raw!['last-delivered-id'], end: lastGenerated, lag: 30 }]);
    expect(detail.membersDetail).toHaveLength(1);
    expect(detail.membersDetail[0]!.pending).toBe(20);

    const metrics = await adapter.metrics();
    expect(metrics.groups.find((g) => g.destination === stream && g.group === 'billing')).toMatchObject({ lag: 30, pending: 20 });
    expect(metrics.destinations.find((d) => d.destination === stream)).toMatchObject({ depth: 50, inFlight: 20, consumers: 1 });
    const listed = (await adapter.listDestinations()).find((d) => d.name === stream);
    expect(listed).toMatchObject({ depth: 50, inFlight: 20, lag: 30, consumers: 1, kind: 'stream', isDeadLetter: false });

    const pending = await adapter.listPending(stream, 'billing', 100);
    expect(pending.map((p) => p.id)).toEqual(got.map((m) => m.id));
    expect(pending.every((p) => p.deliveryCount === 1)).toBe(true);

    expect(await adapter.ackPending(stream, 'billing', [got[0]!.id, got[1]!.id])).toBe(2);
    expect(await adapter.claimPending(stream, 'billing', 'operator', [got[2]!.id])).toBe(1);
    const after = await adapter.listPending(stream, 'billing', 100);
    expect(after).toHaveLength(18);
    expect(after.find((p) => p.id === got[2]!.id)).toMatchObject({ consumer: 'operator', deliveryCount: 1 });
    const [raw2] = await xinfoGroups(redis, stream);
    expect((await adapter.listConsumerGroups(stream))[0]!.pending).toBe(raw2!['pending']);
    expect(raw2!['pending']).toBe(18);
    await consumer.close();
    await expect(adapter.listPending(stream, 'nope', 10)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('resetOffsets is refused while members are active and moves the group otherwise', async () => {
    const stream = `${prefix}-reset`;
    const consumer = adapter.createConsumer({ group: 'r' });
    await consumer.subscribe([stream]);
    const { ids } = await adapter.publish(stream, Array.from({ length: 10 }, (_, i) => ({ key: null, value: bytes(`x${i}`), headers: {} })));
    expect(await pollUntil(consumer, 10, 3000)).toHaveLength(10);
    await expect(adapter.resetOffsets('r', stream, { kind: 'earliest' })).rejects.toBeInstanceOf(ConflictError);
    await consumer.commit();
    await consumer.close();

    await adapter.resetOffsets('r', stream, { kind: 'earliest' });
    expect((await xinfoGroups(redis, stream))[0]).toMatchObject({ 'last-delivered-id': '0-0', lag: 10 });
    await adapter.resetOffsets('r', stream, { kind: 'offset', partition: 0, offset: ids[4]! });
    expect((await xinfoGroups(redis, stream))[0]!['last-delivered-id']).toBe(ids[3]);
    await adapter.resetOffsets('r', stream, { kind: 'latest' });
    expect((await xinfoGroups(redis, stream))[0]).toMatchObject({ 'last-delivered-id': ids[9], lag: 0 });
  });
});

describe('browse', () => {
  it('pages newest-first with cursors, by position and by time, without touching the stream or its groups', async () => {
    const stream = `${prefix}-browse`;
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push(String(await redis.xadd(stream, `${1_700_000_000_000 + i * 1000}-0`, 'value', `n${i}`, 'timestamp', '0')));
    await redis.call('XGROUP', 'CREATE', stream, 'watchers', '0');
    const before = [await redis.call('XINFO', 'STREAM', stream), await redis.call('XINFO', 'GROUPS', stream)];

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await adapter.browse({ destination: stream, start: { from: 'newest' }, cursor, limit: 10 });
      expect(page.destructive).toBe(false);
      seen.push(...values(page.messages));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `n${24 - i}`));

    const oldest = await adapter.browse({ destination: stream, start: { from: 'oldest' }, limit: 3 });
    expect(values(oldest.messages)).toEqual(['n0', 'n1', 'n2']);
    const next = await adapter.browse({ destination: stream, start: { from: 'oldest' }, cursor: oldest.nextCursor, limit: 3 });
    expect(values(next.messages)).toEqual(['n3', 'n4', 'n5']);
    const byPosition = await adapter.browse({ destination: stream, start: { from: 'position', position: ids[20]! }, limit: 10 });
    expect(values(byPosition.messages)).toEqual(['n20', 'n21', 'n22', 'n23', 'n24']);
    expect(byPosition.nextCursor).toBeNull();
    const byTime = await adapter.browse({ destination: stream, start: { from: 'timestamp', timestamp: new Date(1_700_000_000_000 + 22_500) }, limit: 10 });
    expect(values(byTime.messages)).toEqual(['n23', 'n24']);

    const filtered = await adapter.browse({
      destination: stream,
      start: { from: 'newest' },
      limit: 2,
      filter: (m) => text(m.value).endsWith('1'),
    });
    expect(values(filtered.messages)).toEqual(['n21', 'n11']);
    expect(filtered.scanned).toBe(14); // n24 down to n11
    const rest = await adapter.browse({ destination: stream, start: { from: 'newest' }, cursor: filtered.nextCursor, limit: 2, filter: (m) => text(m.value).endsWith('1') });
    expect(values(rest.messages)).toEqual(['n1']);
    expect(rest.nextCursor).toBeNull();

    const after = [await redis.call('XINFO', 'STREAM', stream), await redis.call('XINFO', 'GROUPS', stream)];
    expect(after).toEqual(before);
  });

  it('rejects what it cannot read with typed errors', async () => {
    await expect(adapter.browse({ destination: `${prefix}-missing`, start: { from: 'newest' }, limit: 10 })).rejects.toBeInstanceOf(NotFoundError);
    await redis.set(`${prefix}-string`, 'x');
    await expect(adapter.browse({ destination: `${prefix}-string`, start: { from: 'newest' }, limit: 10 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(adapter.browse({ destination: `${prefix}-string`, start: { from: 'newest' }, limit: 501 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(adapter.browse({ destination: `${prefix}-string`, start: { from: 'position', position: 'abc' }, limit: 5 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(adapter.browse({ destination: `${prefix}-string`, start: { from: 'newest' }, cursor: 'garbage', limit: 5 })).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('tail', () => {
  it('starts at the end, delivers what arrives in batches, and ends promptly on abort leaving no connection behind', async () => {
    const stream = `${prefix}-tail`;
    await adapter.publish(stream, [{ key: null, value: bytes('old'), headers: {} }]);
    const controller = new AbortController();
    const received: string[] = [];
    let batches = 0;
    const clientsBefore = ((await redis.call('CLIENT', 'LIST')) as string).split('\n').filter((l) => l.includes('name=mailroom-blocking')).length;
    const reading = (async () => {
      for await (const batch of adapter.tail({ destination: stream, signal: controller.signal })) {
        batches++;
        received.push(...values(batch.messages));
      }
    })();
    await new Promise((r) => setTimeout(r, 150));
    await adapter.publish(stream, Array.from({ length: 300 }, (_, i) => ({ key: null, value: bytes(`new${i}`), headers: {} })));
    const deadline = Date.now() + 3000;
    while (received.length < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(received).toEqual(Array.from({ length: 300 }, (_, i) => `new${i}`));
    expect(batches).toBeLessThanOrEqual(3);
    const started = Date.now();
    controller.abort();
    await reading;
    expect(Date.now() - started).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 50));
    const clientsAfter = ((await redis.call('CLIENT', 'LIST')) as string).split('\n').filter((l) => l.includes('name=mailroom-blocking')).length;
    expect(clientsAfter).toBeLessThanOrEqual(clientsBefore);
    expect(await redis.call('XINFO', 'GROUPS', stream)).toEqual([]);
  });
});

describe('destinations', () => {
  it('creates, describes, links the DLQ, trims with MAXLEN ~, purges and deletes', async () => {
    const stream = `${prefix}-dest`;
    const dlq = adapter.deadLetterNameFor(stream);
    expect(dlq).toBe(`${stream}:dlq`);
    await adapter.createDestination(stream, { partitions: 1, deadLetter: { destination: dlq, maxDeliveries: 5 } });
    await adapter.createDestination(stream); // idempotent for an existing stream
    expect(await redis.type(stream)).toBe('stream');
    expect(await redis.xlen(dlq)).toBe(0);
    expect(await redis.call('XINFO', 'GROUPS', stream)).toEqual([]);
    await expect(adapter.createDestination(`${prefix}-p`, { partitions: 3 })).rejects.toBeInstanceOf(UnsupportedError);
    await redis.set(`${prefix}-str`, '1');
    await expect(adapter.createDestination(`${prefix}-str`)).rejects.toBeInstanceOf(ConflictError);

    await adapter.publish(stream, [{ key: 'a', value: bytes('1'), headers: {}, properties: { messageId: 'id-1' } }]);
    const detail = await adapter.describeDestination(stream);
    expect(detail).toMatchObject({ name: stream, depth: 1, deadLetter: dlq, isDeadLetter: false, kind: 'stream' });
    expect(detail.partitionDetails).toHaveLength(1);
    expect(detail.attributes['entries-added']).toBe(1);
    const dlqDetail = await adapter.describeDestination(dlq);
    expect(dlqDetail).toMatchObject({ isDeadLetter: true, deadLetterSources: [stream] });
    const page = await adapter.browse({ destination: stream, start: { from: 'newest' }, limit: 1 });
    expect(page.messages[0]!.headers['message-id']).toBe('id-1');

    const trimming = adapterFor({ maxLen: 100 });
    try {
      for (let i = 0; i < 5; i++) {
        await trimming.publish(stream, Array.from({ length: 200 }, () => ({ key: null, value: bytes('t'), headers: {} })));
      }
      const length = await redis.xlen(stream);
      expect(length).toBeLessThan(1001);
      expect(length).toBeGreaterThanOrEqual(100);
    } finally {
      await trimming.close();
    }

    const removed = await adapter.purge(stream);
    expect(removed).toBeGreaterThan(0);
    expect(await redis.xlen(stream)).toBe(0);
    await adapter.deleteDestination(stream);
    expect(await redis.exists(stream)).toBe(0);
    await expect(adapter.deleteDestination(stream)).rejects.toBeInstanceOf(NotFoundError);
    await expect(adapter.describeDestination(stream)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('reports the publish rate over successive metrics snapshots from entries-added', async () => {
    const stream = `${prefix}-rate`;
    await adapter.createDestination(stream);
    await adapter.metrics();
    await adapter.publish(stream, Array.from({ length: 100 }, () => ({ key: null, value: bytes('r'), headers: {} })));
    await new Promise((r) => setTimeout(r, 200));
    const snapshot = await adapter.metrics();
    const m = snapshot.destinations.find((d) => d.destination === stream)!;
    expect(m.depth).toBe(100);
    expect(m.publishRate).toBeGreaterThan(100);
    expect(m.publishRate).toBeLessThan(1000);
    expect(m.oldestAgeMs).toBeGreaterThanOrEqual(0);
  });
});
