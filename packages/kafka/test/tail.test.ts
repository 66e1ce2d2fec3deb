import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromUtf8, utf8, type PublishMessage, type TailBatch } from '@mailroom/core';
import { groupsLeftBehind, newAdapter, uniqueName } from './helpers';
import type { KafkaAdapter } from '../src';

let adapter: KafkaAdapter;
const topic = uniqueName('tail');

const publish = (prefix: string, n: number): PublishMessage[] =>
  Array.from({ length: n }, (_, i) => ({ key: `k-${i % 7}`, value: utf8(`${prefix}-${i}`), headers: { 'message-id': `${prefix}-${i}` } }));

beforeAll(async () => {
  adapter = newAdapter();
  await adapter.createDestination(topic, { partitions: 2 });
});

afterAll(async () => {
  await adapter.deleteDestination(topic).catch(() => undefined);
  await adapter.close();
});

describe('tail', () => {
  it('starts at the end of every partition, yields new records, ends promptly on abort, and leaves no consumer group', async () => {
    await adapter.publish(topic, publish('old', 10));
    const left = await groupsLeftBehind([topic], async () => {
      const controller = new AbortController();
      const iterator = adapter.tail({ destination: topic, signal: controller.signal, maxBatch: 50 })[Symbol.asyncIterator]();
      const firstBatch = iterator.next();
      await new Promise((resolve) => setTimeout(resolve, 500));
      await adapter.publish(topic, publish('new', 40));
      const seen: string[] = [];
      let pending: Promise<IteratorResult<TailBatch>> = firstBatch;
      const deadline = Date.now() + 15_000;
      while (seen.length < 40 && Date.now() < deadline) {
        const result = await pending;
        if (result.done) break;
        expect(result.value.messages.length).toBeLessThanOrEqual(50);
        expect(result.value.skipped).toBe(0);
        seen.push(...result.value.messages.map((m) => fromUtf8(m.value)));
        pending = iterator.next();
      }
      expect([...seen].sort()).toEqual(Array.from({ length: 40 }, (_, i) => `new-${i}`).sort());
      const started = Date.now();
      controller.abort();
      const end = await pending;
      expect(end.done).toBe(true);
      expect(Date.now() - started).toBeLessThan(1000);
    });
    expect(left).toEqual([]);
    expect(await adapter.listConsumerGroups(topic)).toEqual([]);
  });

  it('applies a filter and a partition restriction', async () => {
    const controller = new AbortController();
    const iterator = adapter.tail({ destination: topic, signal: controller.signal, partition: 1, filter: (m) => fromUtf8(m.value).endsWith('1') })[Symbol.asyncIterator]();
    const first = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const result = await adapter.publish(
      topic,
      Array.from({ length: 20 }, (_, i) => ({ key: null, value: utf8(`f-${i}`), headers: {}, properties: { partition: i % 2 } })),
    );
    expect(result.ids.filter((id) => id?.startsWith('1:')).length).toBe(10);
    const seen: string[] = [];
    let pending = first;
    const deadline = Date.now() + 10_000;
    while (seen.length < 2 && Date.now() < deadline) {
      const got = await pending;
      if (got.done) break;
      seen.push(...got.value.messages.map((m) => fromUtf8(m.value)));
      expect(got.value.messages.every((m) => m.partition === 1)).toBe(true);
      pending = iterator.next();
    }
    controller.abort();
    await pending;
    // Partition 1 holds the odd ones; of those only f-1 and f-11 end in 1.
    expect(seen.sort()).toEqual(['f-1', 'f-11']);
  });

  it('keeps memory bounded when the reader is slower than the topic: jumps ahead and reports skipped', async () => {
    const controller = new AbortController();
    const maxBatch = 100;
    const iterator = adapter.tail({ destination: topic, signal: controller.signal, maxBatch })[Symbol.asyncIterator]();
    const first = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const total = 10_000;
    for (let i = 0; i < total; i += 1000) await adapter.publish(topic, publish(`burst${i}`, 1000));
    let received = 0;
    let skipped = 0;
    let pending = first;
    const deadline = Date.now() + 20_000;
    while (received + skipped < total && Date.now() < deadline) {
      const result = await pending;
      if (result.done) break;
      expect(result.value.messages.length).toBeLessThanOrEqual(maxBatch);
      received += result.value.messages.length;
      skipped += result.value.skipped;
      pending = iterator.next();
    }
    controller.abort();
    await pending;
    expect(skipped).toBeGreaterThan(0);
    expect(received + skipped).toBe(total);
    expect(received).toBeLessThan(total);
  });
});

describe('tail and adapter close', () => {
  it('a tail running when its adapter closes ends with ClientClosedError instead of reconnecting', async () => {
    const own = newAdapter();
    const iterator = own.tail({ destination: topic, signal: new AbortController().signal })[Symbol.asyncIterator]();
    const pending = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await own.close();
    const outcome = await pending.then(
      (r) => (r.done ? 'done' : 'batch'),
      (e: unknown) => (e instanceof Error ? e.name : 'error'),
    );
    // The fetch in flight may still deliver; the next one must fail.
    if (outcome !== 'ClientClosedError') await expect(iterator.next()).rejects.toThrow(/closed/);
  });
});
