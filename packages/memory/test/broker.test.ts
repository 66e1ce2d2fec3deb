import { describe, expect, it } from 'vitest';
import { ConflictError, Headers, InvalidInputError, NotFoundError, TooLargeError, compileFilter } from '@mailroom/core';
import { createMemoryAdapter } from '../src';
import type { MemoryConsumer } from '../src/clients';
import { drain, msg, text } from './helpers';

describe('retention', () => {
  it('keeps at most retentionPerPartition messages per partition and drops the oldest', async () => {
    const adapter = createMemoryAdapter({ retentionPerPartition: 100 });
    await adapter.createDestination('events', { partitions: 2 });
    for (let i = 0; i < 250; i++) await adapter.publish('events', [{ key: 'one-key', value: msg(`e-${i}`).value, headers: {}, properties: { partition: 0 } }]);
    for (let i = 0; i < 30; i++) await adapter.publish('events', [{ key: null, value: msg(`other-${i}`).value, headers: {}, properties: { partition: 1 } }]);
    const detail = await adapter.describeDestination('events');
    expect(detail.partitionDetails.map((p) => [p.low, p.high, p.count])).toEqual([
      ['150', '250', 100],
      ['0', '30', 30],
    ]);
    expect(detail.depth).toBe(130);

    const page = await adapter.browse({ destination: 'events', start: { from: 'oldest' }, limit: 500, filter: compileFilter('key == "one-key"') });
    expect(page.messages.map(text)).toEqual(Array.from({ length: 100 }, (_, i) => `e-${150 + i}`));
    expect(page.scanned).toBe(130);
    await adapter.close();
  });

  it('a group behind the retention window lags by at most what is retained', async () => {
    const adapter = createMemoryAdapter({ retentionPerPartition: 10 });
    await adapter.createDestination('t');
    const consumer = adapter.createConsumer({ group: 'slow' });
    await consumer.subscribe(['t']);
    await adapter.publish('t', Array.from({ length: 25 }, (_, i) => ({ key: null, value: new Uint8Array([i]), headers: {} })));
    const group = await adapter.describeConsumerGroup('slow', 't');
    expect(group.lag).toBe(10);
    const got = await drain(consumer, 10);
    expect(got.map((m) => m.value[0])).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    expect((await adapter.describeConsumerGroup('slow', 't')).lag).toBe(0);
    await adapter.close();
  });
});

describe('consumer groups and lag', () => {
  it('reports per-partition lag = end - committed, and pending for polled-but-uncommitted', async () => {
    const adapter = createMemoryAdapter();
    await adapter.createDestination('orders', { partitions: 3 });
    const consumer = adapter.createConsumer({ group: 'g', maxMessages: 10 });
    await consumer.subscribe(['orders']);
    const producer = adapter.createProducer();
    await producer.sendBatch('orders', Array.from({ length: 30 }, (_, i) => msg(`o-${i}`, `k-${i % 3}`)));
    let detail = await adapter.describeConsumerGroup('g');
    expect(detail.lag).toBe(30);
    expect(detail.partitions.map((p) => p.lag).reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(30);
    const ends = detail.partitions.map((p) => Number(p.end));
    expect(ends.reduce((a, b) => a + b, 0)).toBe(30);

    const first = await consumer.poll(100);
    expect(first).toHaveLength(10);
    detail = await adapter.describeConsumerGroup('g');
    expect(detail.pending).toBe(10);
    expect(detail.lag).toBe(30);
    await consumer.commit();
    detail = await adapter.describeConsumerGroup('g');
    expect(detail.pending).toBe(0);
    expect(detail.lag).toBe(20);
    for (const p of detail.partitions) expect(p.lag).toBe(Number(p.end) - Number(p.committed));
    const summary = (await adapter.listDestinations()).find((d) => d.name === 'orders');
    expect(summary).toMatchObject({ depth: 30, lag: 20, inFlight: 0, consumers: 1, partitions: 3 });
    expect(detail.membersDetail).toHaveLength(1);
    expect(detail.state).toBe('active');
    await consumer.close();
    expect((await adapter.listConsumerGroups('orders')).map((g) => [g.name, g.state, g.members, g.lag])).toEqual([['g', 'empty', 0, 20]]);
    await adapter.close();
  });

  it('out-of-order commits from competing consumers advance the committed offset only over a contiguous prefix', async () => {
    const adapter = createMemoryAdapter();
    await adapter.createDestination('q');
    const a = adapter.createConsumer({ group: 'g', maxMessages: 2 });
    const b = adapter.createConsumer({ group: 'g', maxMessages: 2 });
    await a.subscribe(['q']);
    await b.subscribe(['q']);
    await adapter.publish('q', Array.from({ length: 4 }, (_, i) => ({ key: null, value: new Uint8Array([i]), headers: {} })));
    const fromA = await a.poll(10);
    const fromB = await b.poll(10);
    expect(fromA.map((m) => m.value[0])).toEqual([0, 1]);
    expect(fromB.map((m) => m.value[0])).toEqual([2, 3]);
    await b.commit();
    let lag = await adapter.describeConsumerGroup('g', 'q');
    expect(lag.partitions[0]?.committed).toBe('0');
    expect(lag.lag).toBe(2);
    await a.commit();
    lag = await adapter.describeConsumerGroup('g', 'q');
    expect(lag.partitions[0]?.committed).toBe('4');
    expect(lag.lag).toBe(0);
    await adapter.close();
  });

  it('resetOffsets is refused with ConflictError while the group has members, then replays', async () => {
    const adapter = createMemoryAdapter();
    await adapter.createDestination('t', { partitions: 2 });
    const consumer = adapter.createConsumer({ group: 'g' });
    await consumer.subscribe(['t']);
    await adapter.publish('t', Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: new Uint8Array([i]), headers: {} })));
    expect(await drain(consumer, 6)).toHaveLength(6);
    await expect(adapter.resetOffsets('g', 't', { kind: 'earliest' })).rejects.toBeInstanceOf(ConflictError);
    await consumer.close();
    await adapter.resetOffsets('g', 't', { kind: 'earliest' });
    expect((await adapter.describeConsumerGroup('g', 't')).lag).toBe(6);

    const again = adapter.createConsumer({ group: 'g' });
    await again.subscribe(['t']);
    const replayed = await drain(again, 6);
    expect(replayed.map((m) => m.value[0]).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    await again.close();

    await adapter.resetOffsets('g', 't', { kind: 'offset', partition: 0, offset: '0' });
    const p0 = (await adapter.describeConsumerGroup('g', 't')).partitions.find((p) => p.partition === 0);
    expect(p0?.committed).toBe('0');
    expect(p0?.lag).toBe(Number(p0?.end));
    await adapter.resetOffsets('g', 't', { kind: 'latest' });
    expect((await adapter.describeConsumerGroup('g', 't')).lag).toBe(0);
    await expect(adapter.resetOffsets('g', 'missing', { kind: 'latest' })).rejects.toBeInstanceOf(NotFoundError);
    await adapter.close();
  });

  it('resetOffsets of a group with no positions yet creates them, as Kafka does; an invalid target creates nothing', async () => {
    const adapter = createMemoryAdapter();
    await adapter.createDestination('t', { partitions: 2 });
    await adapter.publish('t', Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: new Uint8Array([i]), headers: {} })));
    await expect(adapter.resetOffsets('fresh', 't', { kind: 'timestamp', timestamp: new Date(Number.NaN) })).rejects.toBeInstanceOf(InvalidInputError);
    expect((await adapter.listConsumerGroups('t')).map((g) => g.name)).toEqual([]);
    await adapter.resetOffsets('fresh', 't', { kind: 'earliest' });
    const group = await adapter.describeConsumerGroup('fresh', 't');
    expect(group.lag).toBe(5);
    expect(group.members).toBe(0);
    const consumer = adapter.createConsumer({ group: 'fresh' });
    await consumer.subscribe(['t']);
    expect((await drain(consumer, 5)).map((m) => m.value[0]).sort()).toEqual([0, 1, 2, 3, 4]);
    await consumer.close();
    await adapter.close();
  });

  it('pending entries can be listed, claimed to another member and acked', async () => {
    const adapter = createMemoryAdapter();
    await adapter.createDestination('work');
    const a = adapter.createConsumer({ group: 'g' }) as MemoryConsumer;
    const b = adapter.createConsumer({ group: 'g' }) as MemoryConsumer;
    await a.subscribe(['work']);
    await b.subscribe(['work']);
    await adapter.publish('work', [0, 1, 2].map((i) => ({ key: null, value: new Uint8Array([i]), headers: {} })));
    const held = await a.poll(10);
    expect(held).toHaveLength(3);
    const pending = await adapter.listPending('work', 'g', 10);
    expect(pending.map((p) => [p.id, p.consumer, p.deliveryCount])).toEqual(held.map((m) => [m.id, a.id, 1]));

    expect(await adapter.claimPending('work', 'g', b.id, [held[0]!.id])).toBe(1);
    const claimed = await b.poll(10);
    expect(claimed.map((m) => [m.id, m.deliveryCount])).toEqual([[held[0]!.id, 2]]);
    await b.commit();
    expect(await adapter.ackPending('work', 'g', [held[1]!.id, 'no-such-id'])).toBe(1);
    await a.commit();
    expect(await adapter.listPending('work', 'g', 10)).toEqual([]);
    expect((await adapter.describeConsumerGroup('g', 'work')).lag).toBe(0);
    await adapter.close();
  });
});

describe('dead letters by delivery count', () => {
  it('moves a message delivered maxDeliveries times without commit to the declared DLQ', async () => {
    const adapter = createMemoryAdapter();
    await adapter.createDestination('jobs', { type: 'queue', deadLetter: { destination: 'jobs-failed', maxDeliveries: 2 } });
    await adapter.publish('jobs', [{ key: 'k', value: new Uint8Array([7, 7]), headers: { [Headers.messageId]: 'job-1' } }]);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const consumer = adapter.createConsumer({ group: 'workers' });
      await consumer.subscribe(['jobs']);
      const got = await drain(consumer, 1, false);
      expect(got.map((m) => [m.deliveryCount, m.headers[Headers.messageId]])).toEqual([[attempt, 'job-1']]);
      await consumer.close();
    }
    const page = await adapter.browse({ destination: 'jobs-failed', start: { from: 'newest' }, limit: 10 });
    expect(page.messages).toHaveLength(1);
    expect(Array.from(page.messages[0]!.value)).toEqual([7, 7]);
    expect(page.messages[0]!.deadLetter).toMatchObject({ origin: 'jobs', attempts: 2 });
    expect((await adapter.describeConsumerGroup('workers', 'jobs')).lag).toBe(0);
    const links = await adapter.listDeadLetterQueues();
    expect(links).toEqual([{ deadLetter: 'jobs-failed', origins: ['jobs'], depth: 1, via: 'declared dead-letter link, origin header' }]);
    const jobs = (await adapter.listDestinations()).find((d) => d.name === 'jobs');
    expect(jobs?.deadLetter).toBe('jobs-failed');
    await adapter.close();
  });

  it('finds DLQs by naming convention and by origin header', async () => {
    const adapter = createMemoryAdapter();
    await adapter.createDestination('a');
    await adapter.createDestination('a.dlq');
    await adapter.createDestination('b');
    await adapter.createDestination('parking');
    await adapter.publish('parking', [{ key: null, value: new Uint8Array(), headers: { [Headers.deadLetterOrigin]: 'b' } }]);
    const links = await adapter.listDeadLetterQueues();
    expect(links).toEqual([
      { deadLetter: 'a.dlq', origins: ['a'], depth: 0, via: 'naming convention' },
      { deadLetter: 'parking', origins: ['b'], depth: 1, via: 'origin header' },
    ]);
    const byName = new Map((await adapter.listDestinations()).map((d) => [d.name, d]));
    expect(byName.get('a')?.deadLetter).toBe('a.dlq');
    expect(byName.get('parking')).toMatchObject({ isDeadLetter: true, deadLetterSources: ['b'] });
    expect(byName.get('b')?.deadLetter).toBe('parking');
    await adapter.close();
  });
});

describe('browse', () => {
  it('browses by position, timestamp, partition and newest first across partitions', async () => {
    const adapter = createMemoryAdapter();
    await adapter.createDestination('t', { partitions: 2 });
    const base = Date.parse('2024-01-01T00:00:00Z');
    const producer = adapter.createProducer();
    for (let i = 0; i < 10; i++) {
      await producer.send('t', { key: null, value: new Uint8Array([i]), headers: {}, timestamp: new Date(base + i * 1000) });
    }
    const newest = await adapter.browse({ destination: 't', start: { from: 'newest' }, limit: 4 });
    expect(newest.messages.map((m) => m.value[0])).toEqual([9, 8, 7, 6]);
    const fromTime = await adapter.browse({ destination: 't', start: { from: 'timestamp', timestamp: new Date(base + 5500) }, limit: 500 });
    expect(fromTime.messages.map((m) => m.value[0])).toEqual([6, 7, 8, 9]);
    expect(fromTime.nextCursor).toBeNull();
    const p1 = await adapter.browse({ destination: 't', start: { from: 'oldest' }, partition: 1, limit: 500 });
    expect(p1.messages.every((m) => m.partition === 1)).toBe(true);
    expect(p1.messages.map((m) => m.position)).toEqual(['0', '1', '2', '3', '4']);
    const at = await adapter.browse({ destination: 't', start: { from: 'position', position: '1:3' }, limit: 500 });
    expect(at.messages.map((m) => `${m.partition}:${m.position}`)).toEqual(['1:3', '1:4']);
    await expect(adapter.browse({ destination: 't', start: { from: 'newest' }, limit: 501 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(adapter.browse({ destination: 't', start: { from: 'newest' }, cursor: 'garbage', limit: 5 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(adapter.browse({ destination: 'missing', start: { from: 'newest' }, limit: 5 })).rejects.toBeInstanceOf(NotFoundError);
    await adapter.close();
  });

  it('a filter scan stops at the scan budget and returns a cursor to continue', async () => {
    const adapter = createMemoryAdapter();
    await adapter.createDestination('big');
    await adapter.publish('big', Array.from({ length: 10_050 }, (_, i) => ({ key: null, value: new Uint8Array([i === 10_040 ? 1 : 0]), headers: {} })));
    const first = await adapter.browse({ destination: 'big', start: { from: 'oldest' }, limit: 10, filter: (m) => m.value[0] === 1 });
    expect(first.messages).toEqual([]);
    expect(first.scanned).toBe(10_000);
    expect(first.nextCursor).not.toBeNull();
    const second = await adapter.browse({ destination: 'big', start: { from: 'oldest' }, cursor: first.nextCursor, limit: 10, filter: (m) => m.value[0] === 1 });
    expect(second.messages.map((m) => m.position)).toEqual(['10040']);
    expect(second.scanned).toBe(50);
    expect(second.nextCursor).toBeNull();
    await adapter.close();
  });
});

describe('publish', () => {
  it('honours partition, messageId, expiration, delay and deduplication properties', async () => {
    const adapter = createMemoryAdapter();
    await adapter.createDestination('p', { partitions: 3 });
    const result = await adapter.publish('p', [
      { key: 'x', value: new Uint8Array([1]), headers: {}, properties: { partition: 2, messageId: 'm-1', contentType: 'application/json' } },
      { key: null, value: new Uint8Array([2]), headers: {}, properties: { expirationMs: 0 } },
      { key: null, value: new Uint8Array([3]), headers: {}, properties: { deduplicationId: 'd' } },
      { key: null, value: new Uint8Array([4]), headers: {}, properties: { deduplicationId: 'd' } },
      { key: null, value: new Uint8Array([5]), headers: {}, properties: { delaySeconds: 1 } },
    ]);
    expect(result.published).toBe(5);
    expect(result.ids[0]).toBe('2:0');
    expect(result.ids[3]).toBeNull();
    expect(result.ids[4]).toBeNull();
    const page = await adapter.browse({ destination: 'p', start: { from: 'oldest' }, limit: 500 });
    expect(page.messages.map((m) => m.value[0]).sort()).toEqual([1, 3]);
    expect(page.messages.find((m) => m.value[0] === 1)?.properties).toEqual({ messageId: 'm-1', contentType: 'application/json' });
    expect((await adapter.metrics()).destinations.find((d) => d.destination === 'p')?.delayed).toBe(1);
    await new Promise((r) => setTimeout(r, 1100));
    const later = await adapter.browse({ destination: 'p', start: { from: 'oldest' }, limit: 500 });
    expect(later.messages.map((m) => m.value[0]).sort()).toEqual([1, 3, 5]);
    await expect(adapter.publish('p', [{ key: null, value: new Uint8Array(), headers: {}, properties: { partition: 3 } }])).rejects.toBeInstanceOf(InvalidInputError);
    await expect(adapter.publish('missing', [])).rejects.toBeInstanceOf(NotFoundError);
    await adapter.close();
  });

  it('rejects values above maxMessageBytes with TooLargeError', async () => {
    const adapter = createMemoryAdapter({ maxMessageBytes: 1024 });
    await adapter.createDestination('t');
    expect(adapter.capabilities.maxMessageBytes).toBe(1024);
    await expect(adapter.createProducer().send('t', { key: null, value: new Uint8Array(1025), headers: {}, timestamp: new Date() })).rejects.toBeInstanceOf(TooLargeError);
    await adapter.createProducer().send('t', { key: null, value: new Uint8Array(1024), headers: {}, timestamp: new Date() });
    await adapter.close();
  });
});

describe('destinations', () => {
  it('create, conflict, purge and delete', async () => {
    const adapter = createMemoryAdapter();
    await adapter.createDestination('d', { partitions: 2 });
    await expect(adapter.createDestination('d')).rejects.toBeInstanceOf(ConflictError);
    await expect(adapter.createDestination('e', { partitions: 0 })).rejects.toBeInstanceOf(InvalidInputError);
    const consumer = adapter.createConsumer({ group: 'g' });
    await consumer.subscribe(['d']);
    await adapter.publish('d', Array.from({ length: 5 }, () => ({ key: null, value: new Uint8Array([1]), headers: {} })));
    expect(await adapter.purge('d')).toBe(5);
    expect((await adapter.describeDestination('d')).depth).toBe(0);
    expect((await adapter.describeConsumerGroup('g', 'd')).lag).toBe(0);
    expect(await consumer.poll(10)).toEqual([]);
    await adapter.deleteDestination('d');
    await expect(adapter.describeDestination('d')).rejects.toBeInstanceOf(NotFoundError);
    await expect(adapter.deleteDestination('d')).rejects.toBeInstanceOf(NotFoundError);
    await adapter.close();
  });
});

describe('metrics', () => {
  it('turns counters into rates between snapshots', async () => {
    let now = 1_000_000;
    const adapter = createMemoryAdapter({ now: () => now });
    await adapter.createDestination('m');
    const consumer = adapter.createConsumer({ group: 'g' });
    await consumer.subscribe(['m']);
    const first = await adapter.metrics();
    expect(first.destinations[0]?.publishRate).toBeNull();
    await adapter.publish('m', Array.from({ length: 50 }, () => ({ key: null, value: new Uint8Array([1]), headers: {} })));
    await drain(consumer, 50);
    await new Promise((r) => setTimeout(r, 200));
    now += 1000;
    const second = await adapter.metrics();
    const m = second.destinations[0];
    expect(m?.publishRate).toBeGreaterThan(0);
    expect(m?.depth).toBe(50);
    expect(second.groups).toEqual([{ group: 'g', destination: 'm', lag: 0, pending: 0, consumeRate: expect.any(Number) }]);
    expect(second.groups[0]?.consumeRate).toBeGreaterThan(0);
    await adapter.close();
  });

  it('gives every caller the rate over the last few seconds, however close together they call', async () => {
    const adapter = createMemoryAdapter();
    await adapter.createDestination('steady');
    const consumer = adapter.createConsumer({ group: 'steady-readers' });
    await consumer.subscribe(['steady']);
    const started = Date.now();
    let published = 0;
    let delivered = 0;
    const traffic = setInterval(() => {
      published += 5;
      void adapter.publish('steady', Array.from({ length: 5 }, () => ({ key: null, value: new Uint8Array([1]), headers: {} })));
    }, 10);
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const batch = await consumer.poll(5);
        delivered += batch.length;
        if (batch.length > 0) await consumer.commit();
      }
    })();
    // The other callers of the same adapter: the destinations cache, the fitness gatherer, a destination page.
    const others = [
      setInterval(() => void adapter.listDestinations(), 250),
      setInterval(() => void adapter.metrics(), 400),
      setInterval(() => void adapter.describeDestination('steady'), 300),
    ];
    await new Promise((r) => setTimeout(r, 2000));
    const first = (await adapter.listDestinations()).find((d) => d.name === 'steady');
    await new Promise((r) => setTimeout(r, 5));
    const second = (await adapter.listDestinations()).find((d) => d.name === 'steady');
    const elapsedSeconds = (Date.now() - started) / 1000;
    const realPublishRate = published / elapsedSeconds;
    const realDeliverRate = delivered / elapsedSeconds;
    clearInterval(traffic);
    for (const timer of others) clearInterval(timer);
    reading = false;
    await reader;
    for (const listed of [first, second]) {
      expect(listed?.publishRate).toBeGreaterThan(realPublishRate * 0.7);
      expect(listed?.publishRate).toBeLessThan(realPublishRate * 1.3);
      expect(listed?.deliverRate).toBeGreaterThan(realDeliverRate * 0.7);
      expect(listed?.deliverRate).toBeLessThan(realDeliverRate * 1.3);
    }
    await adapter.close();
  });
});
