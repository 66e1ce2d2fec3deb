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

  it('gives every caller the rate over the trailing window, even two callers 1 ms apart', () => {
    let now = 0;
    const tracker = new RateTracker(() => now);
    const counterAt = (t: number) => Math.floor(t / 10); // 100 per second, in whole messages
    const seen: Array<number | null> = [];
    for (let t = 0; t <= 10_000; t += 250) {
      now = t;
      seen.push(tracker.observe('a', counterAt(now)));
      now = t + 1;
      seen.push(tracker.observe('a', counterAt(now)));
    }
    const settled = seen.slice(seen.length - 20);
    for (const rate of settled) {
      expect(rate).not.toBeNull();
      expect(rate).toBeGreaterThan(99);
      expect(rate).toBeLessThan(101);
    }
  });

  it('follows a change of rate within the window', () => {
    let now = 0;
    let counter = 0;
    const tracker = new RateTracker({ now: () => now, windowMs: 5000 });
    for (; now <= 10_000; now += 500) tracker.observe('a', (counter = now / 10));
    for (; now <= 20_000; now += 500) {
      counter += 500; // 1000 per second from here on
      tracker.observe('a', counter);
    }
    now = 20_001;
    expect(tracker.observe('a', counter)).toBeCloseTo(1000, -1);
  });

  it('measures across a gap longer than the window, but not across one longer than maxSpanMs', () => {
    let now = 0;
    const tracker = new RateTracker({ now: () => now, windowMs: 5000, maxSpanMs: 60_000 });
    tracker.observe('a', 0);
    now = 20_000;
    expect(tracker.observe('a', 2000)).toBe(100);
    now = 100_000;
    expect(tracker.observe('a', 3000)).toBeNull();
    now = 101_000;
    expect(tracker.observe('a', 3050)).toBe(50);
  });

  it('says nothing until the span is long enough, then measures from the first sample', () => {
    let now = 0;
    const tracker = new RateTracker({ now: () => now, minSpanMs: 100 });
    expect(tracker.observe('a', 0)).toBeNull();
    now = 5;
    expect(tracker.observe('a', 1)).toBeNull();
    now = 200;
    expect(tracker.observe('a', 40)).toBe(200);
  });

  it('takes a reading made before one already recorded (an await finished late) without calling it a reset', () => {
    let now = 0;
    const tracker = new RateTracker({ now: () => now });
    for (; now <= 3000; now += 500) tracker.observe('a', now / 10);
    now = 3600;
    // Two listings read the counter at 3400 and 3500; the later read is observed first.
    expect(tracker.observe('a', 350, 3500)).toBeCloseTo(100, 5);
    expect(tracker.observe('a', 340, 3400)).toBeCloseTo(100, 5);
    now = 4000;
    expect(tracker.observe('a', 400)).toBeCloseTo(100, 5);
  });

  it('starts over after a counter reset (a destination deleted and created again)', () => {
    let now = 0;
    const tracker = new RateTracker({ now: () => now });
    for (; now <= 3000; now += 500) tracker.observe('a', now);
    expect(tracker.observe('a', 10)).toBeNull();
    now += 1000;
    expect(tracker.observe('a', 60)).toBe(50);
  });

  it('keeps a bounded number of samples however often it is called, and forgets keys it is told to', () => {
    let now = 0;
    const tracker = new RateTracker({ now: () => now, windowMs: 5000, sampleEveryMs: 250 });
    for (; now < 60_000; now += 1) {
      tracker.observe('a', now);
      tracker.observe('b', now);
    }
    expect(tracker.sampleCount).toBeLessThanOrEqual(2 * (5000 / 250 + 2));
    expect(tracker.observe('a', now)).toBeCloseTo(1000, 5);
    tracker.retain((key) => key !== 'b');
    expect(tracker.sampleCount).toBeLessThanOrEqual(5000 / 250 + 2);
    expect(tracker.observe('b', now)).toBeNull();
  });

  it('drops keys nobody observed for longer than maxSpanMs when retaining', () => {
    let now = 0;
    const tracker = new RateTracker({ now: () => now, maxSpanMs: 60_000 });
    tracker.observe('idle', 1);
    now = 61_000;
    tracker.observe('busy', 1);
    tracker.retain(() => true);
    expect(tracker.sampleCount).toBe(1);
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
