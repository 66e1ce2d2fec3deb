import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '../src/admin';
import { utf8 } from '../src/bytes';
import { RateLimiter } from '../src/streaming/rate-limiter';
import { RateTracker } from '../src/streaming/rate-tracker';
import { TailBuffer } from '../src/streaming/tail-buffer';

function stored(i: number): StoredMessage {
  return {
    id: String(i), destination: 't', partition: null, position: String(i), key: null, value: utf8(String(i)), headers: {},
    timestamp: new Date(i), deliveryCount: null, redelivered: null, deadLetter: null, properties: {},
  };
}

describe('TailBuffer', () => {
  it('keeps at most `capacity` messages and reports the dropped ones as skipped', async () => {
    const buffer = new TailBuffer({ capacity: 10, maxBatch: 4, flushMs: 5 });
    for (let i = 0; i < 25; i++) buffer.push(stored(i));
    expect(buffer.size).toBe(10);
    buffer.end();
    const controller = new AbortController();
    const batches = [];
    for await (const batch of buffer.batches(controller.signal)) batches.push(batch);
    expect(batches.map((b) => b.messages.length)).toEqual([4, 4, 2]);
    expect(batches[0]!.skipped).toBe(15);
    expect(batches.slice(1).every((b) => b.skipped === 0)).toBe(true);
    expect(batches.flatMap((b) => b.messages.map((m) => m.id))).toEqual(Array.from({ length: 10 }, (_, i) => String(i + 15)));
  });

  it('flushes a partial batch after flushMs and ends on abort', async () => {
    const buffer = new TailBuffer({ capacity: 100, maxBatch: 50, flushMs: 20 });
    const controller = new AbortController();
    const iterator = buffer.batches(controller.signal)[Symbol.asyncIterator]();
    buffer.push(stored(1));
    const first = await iterator.next();
    expect(first.value?.messages.map((m: StoredMessage) => m.id)).toEqual(['1']);
    const pending = iterator.next();
    controller.abort();
    expect((await pending).done).toBe(true);
  });

  it('wakes a reader idling on an empty buffer when a single message arrives', async () => {
    const buffer = new TailBuffer({ capacity: 100, maxBatch: 50, flushMs: 10 });
    const controller = new AbortController();
    const iterator = buffer.batches(controller.signal)[Symbol.asyncIterator]();
    const first = iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 30));
    buffer.push(stored(7));
    const batch = await first;
    expect(batch.value?.messages.map((m: StoredMessage) => m.id)).toEqual(['7']);
    controller.abort();
  });

  it('rethrows the error the producer side ended with', async () => {
    const buffer = new TailBuffer({ capacity: 10, maxBatch: 10, flushMs: 1 });
    buffer.end(new Error('connection lost'));
    const run = async () => {
      for await (const _ of buffer.batches(new AbortController().signal)) void _;
    };
    await expect(run()).rejects.toThrow('connection lost');
  });
});

describe('RateTracker', () => {
  it('computes per-second rates between observations', () => {
    let now = 1000;
    const tracker = new RateTracker(() => now);
    expect(tracker.observe('a', 100)).toBeNull();
    now = 3000;
    expect(tracker.observe('a', 300)).toBe(100);
    now = 4000;
    expect(tracker.observe('a', 50)).toBeNull();
  });
});

describe('RateLimiter', () => {
  it('waits about count/rate seconds for a burst beyond the bucket', async () => {
    const limiter = new RateLimiter(50);
    const start = performance.now();
    for (let i = 0; i < 10; i++) await limiter.take(1);
    const elapsed = performance.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(1000);
  });

  it('does not wait when unlimited', async () => {
    const limiter = new RateLimiter(null);
    const start = performance.now();
    for (let i = 0; i < 1000; i++) await limiter.take(1);
    expect(performance.now() - start).toBeLessThan(100);
  });
});
