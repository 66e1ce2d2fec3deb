import { describe, expect, it } from 'vitest';
import { Headers, compileFilter, pollWithRetry, type RedriveProgress, type RetryPolicy } from '@mailroom/core';
import { createMemoryAdapter } from '../src';
import { drain, memoryCheckpoint, msg, text } from './helpers';

const FAIL_FAST: RetryPolicy = { maxAttempts: 2, initialDelayMs: 1, multiplier: 2, maxDelayMs: 5, jitter: 0 };

/** `count` messages sent to `origin` and failed through core's retry into `<origin>.dlq`. */
async function deadLetters(adapter: ReturnType<typeof createMemoryAdapter>, origin: string, count: number) {
  await adapter.createDestination(origin);
  await adapter.createDestination(adapter.deadLetterNameFor(origin));
  const worker = adapter.createConsumer({ group: `${origin}-worker`, maxMessages: 500 });
  await worker.subscribe([origin]);
  const producer = adapter.createProducer();
  await producer.sendBatch(
    origin,
    Array.from({ length: count }, (_, i) => msg(`v-${i}`, `k-${i}`, { [Headers.messageId]: `id-${i}`, tier: i % 2 === 0 ? 'gold' : 'basic' })),
  );
  let dead = 0;
  while (dead < count) {
    const stats = await pollWithRetry(
      worker,
      async () => {
        throw new Error('nope');
      },
      { policy: FAIL_FAST, producer, deadLetterFor: (t) => adapter.deadLetterNameFor(t), pollTimeoutMs: 50 },
    );
    dead += stats.deadLettered;
  }
  await worker.close();
  return adapter.deadLetterNameFor(origin);
}

describe('redrive', () => {
  it('resumes a cancelled task from its checkpoint without moving anything twice', async () => {
    const adapter = createMemoryAdapter();
    const dlq = await deadLetters(adapter, 'orders', 60);
    const checkpoint = memoryCheckpoint();
    const abort = new AbortController();
    const progress: RedriveProgress[] = [];
    const request = { taskId: 'task-1', source: dlq, target: null, selection: { kind: 'all' as const }, ratePerSecond: 200, dryRun: false };
    setTimeout(() => abort.abort(), 120);
    const first = await adapter.redrive(request, { signal: abort.signal, onProgress: (p) => progress.push(p), checkpoint });
    expect(first.outcome).toBe('cancelled');
    expect(first.moved).toBeGreaterThan(0);
    expect(first.moved).toBeLessThan(60);
    expect(checkpoint.state).toMatchObject({ taskId: 'task-1', moved: first.moved });
    expect((await adapter.describeDestination(dlq)).depth).toBe(60 - first.moved);
    expect(progress.length).toBeGreaterThan(0);

    const second = await adapter.redrive({ ...request, ratePerSecond: null }, { signal: new AbortController().signal, onProgress: () => {}, checkpoint });
    expect(second).toMatchObject({ outcome: 'completed', moved: 60, failed: 0, remaining: 0, possiblyDuplicated: 0 });

    const back = await adapter.browse({ destination: 'orders', start: { from: 'oldest' }, limit: 500 });
    const redriven = back.messages.filter((m) => m.headers[Headers.redriveTask] === 'task-1');
    expect(redriven.map((m) => m.headers[Headers.messageId]).sort()).toEqual(Array.from({ length: 60 }, (_, i) => `id-${i}`).sort());
    for (const m of redriven) {
      expect(m.headers[Headers.redrivenFrom]).toBe(dlq);
      expect(m.headers[Headers.deadLetterOrigin]).toBeUndefined();
      expect(m.deadLetter).toBeNull();
    }
    expect((await adapter.describeDestination(dlq)).depth).toBe(0);
    await adapter.close();
  });

  it('an id selection resumed from its checkpoint skips the ids it already moved', async () => {
    const adapter = createMemoryAdapter();
    const dlq = await deadLetters(adapter, 'pay', 5);
    await adapter.createDestination('elsewhere');
    const ids = (await adapter.browse({ destination: dlq, start: { from: 'oldest' }, limit: 10 })).messages.map((m) => m.id);
    const checkpoint = memoryCheckpoint();
    const ctx = { signal: new AbortController().signal, onProgress: () => {}, checkpoint };
    const request = { taskId: 't-ids', source: dlq, target: 'elsewhere', selection: { kind: 'ids' as const, ids: ids.slice(0, 3) }, ratePerSecond: null, dryRun: false };
    expect(await adapter.redrive(request, ctx)).toMatchObject({ outcome: 'completed', moved: 3, failed: 0 });
    const again = await adapter.redrive(request, ctx);
    expect(again).toMatchObject({ outcome: 'completed', moved: 3, failed: 0, failures: [] });
    expect((await adapter.describeDestination('elsewhere')).depth).toBe(3);
    expect((await adapter.describeDestination(dlq)).depth).toBe(2);
    await adapter.close();
  });

  it('filter selection, dry run and unknown origins', async () => {
    const adapter = createMemoryAdapter();
    const dlq = await deadLetters(adapter, 'shop', 10);
    const filter = { kind: 'filter' as const, expression: 'headers.tier == "gold"', predicate: compileFilter('headers.tier == "gold"') };
    const ctx = () => ({ signal: new AbortController().signal, onProgress: () => {}, checkpoint: memoryCheckpoint() });
    const dry = await adapter.redrive({ taskId: 'dry', source: dlq, target: null, selection: filter, ratePerSecond: null, dryRun: true }, ctx());
    expect(dry).toMatchObject({ outcome: 'completed', moved: 5, skipped: 5, failed: 0 });
    expect((await adapter.describeDestination(dlq)).depth).toBe(10);

    const real = await adapter.redrive({ taskId: 'gold', source: dlq, target: null, selection: filter, ratePerSecond: null, dryRun: false }, ctx());
    expect(real).toMatchObject({ outcome: 'completed', moved: 5, skipped: 5 });
    const left = await adapter.browse({ destination: dlq, start: { from: 'oldest' }, limit: 50 });
    expect(left.messages.map((m) => m.headers['tier'])).toEqual(['basic', 'basic', 'basic', 'basic', 'basic']);

    // No origin header: the naming convention (shop.dlq -> shop) still says where it goes.
    await adapter.publish(dlq, [{ key: null, value: new Uint8Array([1]), headers: {} }]);
    const rest = await adapter.redrive({ taskId: 'rest', source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false }, ctx());
    expect(rest).toMatchObject({ moved: 6, failed: 0 });

    // Nothing links `limbo` to an origin: the message stays and the report says why.
    await adapter.createDestination('limbo');
    const ids = await adapter.publish('limbo', [{ key: null, value: new Uint8Array([2]), headers: {} }]);
    const orphan = await adapter.redrive({ taskId: 'orphan', source: 'limbo', target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false }, ctx());
    expect(orphan).toMatchObject({ outcome: 'completed', moved: 0, failed: 1 });
    expect(orphan.failures).toEqual([{ id: ids.ids[0], reason: 'the message does not say where it came from; choose a target' }]);
    expect((await adapter.describeDestination('limbo')).depth).toBe(1);
    await adapter.close();
  });
});

describe('tail', () => {
  it('starts at the end, batches, and reports what a slow reader skipped', async () => {
    const adapter = createMemoryAdapter({ tailCapacity: 10, tailFlushMs: 20 });
    await adapter.createDestination('live');
    await adapter.publish('live', [{ key: null, value: msg('before').value, headers: {} }]);
    const abort = new AbortController();
    const iterator = adapter.tail({ destination: 'live', signal: abort.signal, maxBatch: 100 })[Symbol.asyncIterator]();
    await adapter.publish('live', Array.from({ length: 25 }, (_, i) => ({ key: null, value: msg(`m-${i}`).value, headers: {} })));
    const first = await iterator.next();
    expect(first.done).toBe(false);
    expect(first.value?.skipped).toBe(15);
    expect(first.value?.messages.map(text)).toEqual(Array.from({ length: 10 }, (_, i) => `m-${15 + i}`));

    const pending = iterator.next();
    await adapter.publish('live', [{ key: null, value: msg('after').value, headers: {} }]);
    const second = await pending;
    expect(second.value?.skipped).toBe(0);
    expect(second.value?.messages.map(text)).toEqual(['after']);

    const waiting = iterator.next();
    abort.abort();
    expect((await waiting).done).toBe(true);
    expect(adapter.broker.destinations.get('live')?.listeners.size).toBe(0);
    await adapter.close();
  });

  it('applies partition and filter, and ends when the adapter closes', async () => {
    const adapter = createMemoryAdapter({ tailFlushMs: 10 });
    await adapter.createDestination('t', { partitions: 2 });
    const abort = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const batch of adapter.tail({ destination: 't', partition: 1, filter: compileFilter('key != "skip"'), signal: abort.signal })) {
        seen.push(...batch.messages.map(text));
      }
    })();
    await adapter.publish('t', [
      { key: 'a', value: msg('p0').value, headers: {}, properties: { partition: 0 } },
      { key: 'skip', value: msg('filtered').value, headers: {}, properties: { partition: 1 } },
      { key: 'b', value: msg('p1').value, headers: {}, properties: { partition: 1 } },
    ]);
    await new Promise((r) => setTimeout(r, 50));
    await adapter.close();
    await reading;
    expect(seen).toEqual(['p1']);
    expect(adapter.broker.destinations.get('t')?.listeners.size).toBe(0);
  });
});

describe('consumers', () => {
  it('a closed consumer wakes its waiting poll and returns its messages to the group', async () => {
    const adapter = createMemoryAdapter();
    await adapter.createDestination('w');
    const a = adapter.createConsumer({ group: 'g' });
    await a.subscribe(['w']);
    const waiting = a.poll(5000);
    await a.close();
    expect(await waiting).toEqual([]);
    const b = adapter.createConsumer({ group: 'g' });
    await b.subscribe(['w']);
    await adapter.publish('w', [{ key: null, value: new Uint8Array([9]), headers: {} }]);
    const got = await drain(b, 1, false);
    expect(got.map((m) => [m.value[0], m.deliveryCount])).toEqual([[9, 1]]);
    await b.close();
    const c = adapter.createConsumer({ group: 'g' });
    await c.subscribe(['w']);
    const again = await drain(c, 1);
    expect(again.map((m) => [m.value[0], m.deliveryCount])).toEqual([[9, 2]]);
    await adapter.close();
  });
});
