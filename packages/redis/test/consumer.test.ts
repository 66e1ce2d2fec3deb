import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { Headers, pollWithRetry, type MessageConsumer } from '@mailroom/core';
import { Field, RELEASED_CONSUMER, type RedisAdapter } from '../src/index';
import { adapterFor, bytes, deleteKeys, pollUntil, rawClient, text, uniquePrefix } from './helpers';

const prefix = uniquePrefix('consumer');
let redis: Redis;
let adapter: RedisAdapter;

beforeAll(() => {
  redis = rawClient();
  adapter = adapterFor();
});

afterAll(async () => {
  await adapter.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

describe('stream fields', () => {
  it('stores key, headers, timestamp and value as fields and reads them back byte-exact', async () => {
    const stream = `${prefix}-fields`;
    const allBytes = new Uint8Array(256).map((_, i) => i);
    const producer = adapter.createProducer();
    const timestamp = new Date('2024-02-03T04:05:06.789Z');
    await producer.send(stream, { key: 'ключ', value: allBytes, headers: { 'h-ü': 'värde ✓', empty: '' }, timestamp });
    await producer.send(stream, { key: null, value: new Uint8Array(), headers: {}, timestamp });
    await producer.close();

    const raw = (await redis.callBuffer('XRANGE', stream, '-', '+')) as [Buffer, Buffer[]][];
    expect(raw).toHaveLength(2);
    const fields = new Map<string, Buffer>();
    const list = raw[0]![1];
    for (let i = 0; i < list.length; i += 2) fields.set(list[i]!.toString(), list[i + 1]!);
    expect(fields.get(Field.key)?.toString()).toBe('ключ');
    expect(fields.get(Field.timestamp)?.toString()).toBe(String(timestamp.getTime()));
    expect(fields.get('h:h-ü')?.toString()).toBe('värde ✓');
    expect(fields.get('h:empty')?.toString()).toBe('');
    expect(Buffer.compare(fields.get(Field.value)!, Buffer.from(allBytes))).toBe(0);
    const second = raw[1]![1].map((b) => b.toString());
    expect(second).not.toContain(Field.key);

    const page = await adapter.browse({ destination: stream, start: { from: 'oldest' }, limit: 10 });
    expect(page.messages.map((m) => m.key)).toEqual(['ключ', null]);
    expect(page.messages[0]!.value).toEqual(allBytes);
    expect(page.messages[0]!.headers).toEqual({ 'h-ü': 'värde ✓', empty: '' });
    expect(page.messages[0]!.timestamp.toISOString()).toBe(timestamp.toISOString());
    expect(page.messages[1]!.value).toEqual(new Uint8Array());
  });

  it('shows an entry written by another tool as its fields', async () => {
    const stream = `${prefix}-foreign`;
    const id = await redis.xadd(stream, '*', 'order', '42', 'state', 'paid');
    const page = await adapter.browse({ destination: stream, start: { from: 'newest' }, limit: 1 });
    expect(page.messages[0]!.id).toBe(id);
    expect(JSON.parse(text(page.messages[0]!.value))).toEqual({ order: '42', state: 'paid' });
    expect(page.messages[0]!.properties['layout']).toBe('fields');
  });
});

describe('consumer groups', () => {
  it('reclaims the pending entries of a consumer that died without closing, after the idle threshold', async () => {
    const stream = `${prefix}-dead`;
    const group = 'workers';
    const fast = adapterFor({ reclaimIdleMs: 400 });
    try {
      const c1 = fast.createConsumer({ group });
      await c1.subscribe([stream]);
      await fast.publish(stream, [1, 2, 3].map((i) => ({ key: `k${i}`, value: bytes(`v${i}`), headers: {} })));
      // A consumer that reads and then dies: plain XREADGROUP from another client, never acked.
      const read = (await redis.call('XREADGROUP', 'GROUP', group, 'crashed-1', 'COUNT', 10, 'STREAMS', stream, '>')) as [string, [string, string[]][]][];
      const ids = read[0]![1].map(([id]) => id);
      expect(ids).toHaveLength(3);

      const before = await c1.poll(100);
      expect(before, 'not reclaimed before the idle threshold').toEqual([]);
      await new Promise((r) => setTimeout(r, 450));
      const reclaimed = await pollUntil(c1, 3, 3000);
      expect(reclaimed.map((m) => m.id)).toEqual(ids);
      expect(reclaimed.map((m) => m.deliveryCount)).toEqual([2, 2, 2]);
      expect(reclaimed.map((m) => text(m.value))).toEqual(['v1', 'v2', 'v3']);
      await c1.commit();
      const pending = (await redis.call('XPENDING', stream, group)) as [number, ...unknown[]];
      expect(pending[0]).toBe(0);
      await c1.close();
    } finally {
      await fast.close();
    }
  });

  it('hands uncommitted entries back on close: another consumer gets them at once, with the delivery count raised', async () => {
    const stream = `${prefix}-release`;
    const group = 'g';
    const a = adapter.createConsumer({ group, maxMessages: 5 });
    const b = adapter.createConsumer({ group, maxMessages: 50 });
    await a.subscribe([stream]);
    await b.subscribe([stream]);
    await adapter.publish(stream, Array.from({ length: 8 }, (_, i) => ({ key: null, value: bytes(`m${i}`), headers: {} })));
    const first = await pollUntil(a, 5, 3000);
    expect(first).toHaveLength(5);
    await a.commit();
    const held = await pollUntil(a, 3, 3000);
    expect(held.map((m) => text(m.value))).toEqual(['m5', 'm6', 'm7']);
    const started = Date.now();
    await a.close();
    const again = await pollUntil(b, 3, 3000);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(again.map((m) => m.id)).toEqual(held.map((m) => m.id));
    expect(again.map((m) => m.deliveryCount)).toEqual([2, 2, 2]);
    await b.commit();
    // The closed consumer is gone from the group; the released pseudo consumer holds nothing.
    const consumers = (await redis.call('XINFO', 'CONSUMERS', stream, group)) as unknown[][];
    const names = consumers.map((c) => String(c[1]));
    expect(names).not.toContain((a as unknown as { name: string }).name);
    expect(names).not.toContain(RELEASED_CONSUMER);
    expect(((await redis.call('XPENDING', stream, group)) as [number])[0]).toBe(0);
    await b.close();
  });

  it('a live consumer that holds entries longer than the idle threshold keeps them (heartbeat)', async () => {
    const stream = `${prefix}-heartbeat`;
    const group = 'g';
    const fast = adapterFor({ reclaimIdleMs: 300 });
    try {
      const holder = fast.createConsumer({ group });
      const other = fast.createConsumer({ group });
      await holder.subscribe([stream]);
      await other.subscribe([stream]);
      await fast.publish(stream, [{ key: null, value: bytes('slow job'), headers: {} }]);
      const got = await pollUntil(holder, 1, 3000);
      expect(got).toHaveLength(1);
      // Three idle thresholds pass while the holder is "processing"; the other consumer keeps polling.
      const stolen = await pollUntil(other, 1, 1000);
      expect(stolen).toEqual([]);
      await holder.commit();
      await holder.close();
      await other.close();
    } finally {
      await fast.close();
    }
  });

  it('moves an entry delivered more than maxDeliveries times to the DLQ with origin, id, count and reason', async () => {
    const stream = `${prefix}-poison`;
    const group = 'g';
    const strict = adapterFor({ reclaimIdleMs: 200, maxDeliveries: 2 });
    try {
      const [id] = (await strict.publish(stream, [{ key: 'p', value: new Uint8Array([0xff, 0xfe, 0x00]), headers: { a: 'b' } }])).ids;
      await redis.call('XGROUP', 'CREATE', stream, group, '0');
      let consumer: MessageConsumer = strict.createConsumer({ group });
      await consumer.subscribe([stream]);
      const first = await pollUntil(consumer, 1, 2000);
      expect(first.map((m) => m.deliveryCount)).toEqual([1]);
      await consumer.close(); // uncommitted: released
      consumer = strict.createConsumer({ group });
      await consumer.subscribe([stream]);
      const second = await pollUntil(consumer, 1, 2000);
      expect(second.map((m) => [m.id, m.deliveryCount])).toEqual([[id, 2]]);
      await consumer.close(); // released again: the next reclaim would be delivery 3
      consumer = strict.createConsumer({ group });
      await consumer.subscribe([stream]);
      expect(await consumer.poll(300)).toEqual([]);
      await consumer.close();

      expect(await redis.xlen(stream)).toBe(1);
      expect(((await redis.call('XPENDING', stream, group)) as [number])[0]).toBe(0);
      const dlq = strict.deadLetterNameFor(stream);
      const page = await strict.browse({ destination: dlq, start: { from: 'newest' }, limit: 10 });
      expect(page.messages).toHaveLength(1);
      const dead = page.messages[0]!;
      expect(dead.value).toEqual(new Uint8Array([0xff, 0xfe, 0x00]));
      expect(dead.key).toBe('p');
      expect(dead.headers).toEqual({ a: 'b' });
      expect(dead.properties[Field.dlqId]).toBe(id);
      expect(dead.deadLetter).toMatchObject({ origin: stream, attempts: 2, reason: 'not acknowledged after 2 deliveries' });
      const links = await strict.listDeadLetterQueues();
      expect(links.find((l) => l.deadLetter === dlq)).toMatchObject({ origins: [stream], depth: 1 });
    } finally {
      await strict.close();
    }
  });

  it("recognises core's retry headers on dead letters written by handleWithRetry", async () => {
    const stream = `${prefix}-retry`;
    const consumer = adapter.createConsumer({ group: 'g' });
    await consumer.subscribe([stream]);
    const producer = adapter.createProducer();
    await producer.send(stream, { key: 'r', value: bytes('fails'), headers: { [Headers.messageId]: 'm-1' }, timestamp: new Date() });
    let stats = { processed: 0, deadLettered: 0, retries: 0 };
    for (let i = 0; i < 20 && stats.deadLettered === 0; i++) {
      stats = await pollWithRetry(consumer, async () => Promise.reject(new Error('boom')), {
        pollTimeoutMs: 200,
        policy: { maxAttempts: 3, initialDelayMs: 1, multiplier: 2, maxDelayMs: 10, jitter: 0 },
        producer,
        deadLetterFor: (t) => adapter.deadLetterNameFor(t),
      });
    }
    expect(stats.deadLettered).toBe(1);
    // The entry id on the origin stream, straight from Redis: the id the consumer saw.
    const originEntries = (await redis.call('XRANGE', stream, '-', '+')) as [string, string[]][];
    expect(originEntries).toHaveLength(1);
    const originalId = originEntries[0]![0];
    const page = await adapter.browse({ destination: adapter.deadLetterNameFor(stream), start: { from: 'newest' }, limit: 5 });
    expect(page.messages).toHaveLength(1);
    const dead = page.messages[0]!;
    expect(dead.headers).toMatchObject({
      [Headers.messageId]: 'm-1',
      [Headers.deadLetterOriginalId]: originalId,
      [Headers.deadLetterOrigin]: stream,
      [Headers.deadLetterReason]: 'boom',
      [Headers.deadLetterAttempts]: '3',
    });
    const info = dead.deadLetter!;
    expect(info.origin).toBe(stream);
    expect(info.reason).toBe('boom');
    expect(info.attempts).toBe(3);
    expect(info.history.map((h) => h.reason)).toEqual(['boom', 'boom', 'boom']);
    expect(((await redis.call('XPENDING', stream, 'g')) as [number])[0]).toBe(0);
    await consumer.close();
    await producer.close();
  });

  it('closing while a poll blocks ends it promptly and leaves nothing pending', async () => {
    const stream = `${prefix}-blocked`;
    const consumer = adapter.createConsumer({ group: 'g' });
    await consumer.subscribe([stream]);
    const polling = consumer.poll(10_000);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await consumer.close();
    expect(await polling).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1500);
    const consumers = (await redis.call('XINFO', 'CONSUMERS', stream, 'g')) as unknown[];
    expect(consumers).toHaveLength(0);
  });

  it('a dead Redis fails a poll with BrokerUnavailableError within seconds', async () => {
    const dead = adapterFor({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 1000 });
    const consumer = dead.createConsumer({ group: 'g' });
    const started = Date.now();
    await expect(consumer.subscribe([`${prefix}-x`])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(5000);
    await dead.close();
    await expect(dead.ping()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
