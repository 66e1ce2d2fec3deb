import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { Headers, type CheckpointStore, type RedriveProgress } from '@mailroom/core';
import { Field, type RedisAdapter } from '../src/index';
import { adapterFor, bytes, deleteKeys, rawClient, text, uniquePrefix } from './helpers';

const prefix = uniquePrefix('redrive');
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

class MemoryCheckpoint implements CheckpointStore {
  state: unknown = null;
  saves = 0;
  failAfter = Infinity;
  async load(): Promise<unknown> {
    return this.state === null ? null : structuredClone(this.state);
  }
  async save(state: unknown): Promise<void> {
    if (++this.saves > this.failAfter) throw new Error('process crashed');
    this.state = structuredClone(state);
  }
}

/** Every entry's message-id header on `stream`, with the entries' raw fields. */
async function messageIds(stream: string): Promise<Map<string, Map<string, Buffer>>> {
  const out = new Map<string, Map<string, Buffer>>();
  let start = '-';
  for (;;) {
    const batch = (await redis.callBuffer('XRANGE', stream, start, '+', 'COUNT', 2000)) as [Buffer, Buffer[]][];
    if (batch.length === 0) break;
    for (const [id, list] of batch) {
      const fields = new Map<string, Buffer>();
      for (let i = 0; i < list.length; i += 2) fields.set(list[i]!.toString(), list[i + 1]!);
      const mid = fields.get(`h:${Headers.messageId}`)!.toString();
      if (out.has(mid)) throw new Error(`duplicate ${mid} on ${stream}`);
      out.set(mid, fields);
      start = `(${id.toString()}`;
    }
  }
  return out;
}

describe('redrive', () => {
  it('moves 10,000 dead letters back to their origins with none lost or duplicated, across a cancel and a crash', async () => {
    const orders = `${prefix}-orders`;
    const payments = `${prefix}-payments`;
    const dlq = adapter.deadLetterNameFor(orders);
    const TOTAL = 10_000;
    for (let i = 0; i < TOTAL; i += 1000) {
      const pipeline = redis.pipeline();
      for (let j = i; j < i + 1000; j++) {
        const fields = ['key', `k${j}`, 'timestamp', '1700000000000', `h:${Headers.messageId}`, `m-${j}`];
        // Half carry the adapter's dlq:* fields, half core's origin header naming another stream.
        if (j % 2 === 0) fields.push(Field.dlqOrigin, orders, Field.dlqId, `1-${j}`, Field.dlqDeliveries, '5');
        else fields.push(`h:${Headers.deadLetterOrigin}`, payments, `h:${Headers.deadLetterReason}`, 'boom');
        pipeline.xadd(dlq, '*', ...fields, 'value', Buffer.from([j & 0xff, 0x00, 0xff, (j >> 8) & 0xff]));
      }
      await pipeline.exec();
    }
    expect(await redis.xlen(dlq)).toBe(TOTAL);

    const conserved = async () => {
      const [a, b, c] = await Promise.all([messageIds(orders), messageIds(payments), messageIds(dlq)]);
      const all = new Set([...a.keys(), ...b.keys(), ...c.keys()]);
      expect(a.size + b.size + c.size, 'no entry exists twice').toBe(all.size);
      expect(all.size, 'no entry is lost').toBe(TOTAL);
      return { orders: a, payments: b, dlq: c };
    };

    const checkpoint = new MemoryCheckpoint();
    const request = { taskId: `${prefix}-task`, source: dlq, target: null, selection: { kind: 'all' as const }, ratePerSecond: null, dryRun: false };

    // 1. Cancelled midway by the operator.
    const controller = new AbortController();
    const progress: RedriveProgress[] = [];
    const first = await adapter.redrive(request, {
      signal: controller.signal,
      checkpoint,
      onProgress: (p) => {
        progress.push(p);
        if (p.moved >= 3000) controller.abort();
      },
    });
    expect(first.outcome).toBe('cancelled');
    expect(first.moved).toBeGreaterThanOrEqual(3000);
    expect(first.moved).toBeLessThan(TOTAL);
    expect(first.possiblyDuplicated).toBe(0);
    expect(progress.length).toBeGreaterThan(10);
    let state = await conserved();
    expect(state.dlq.size).toBe(TOTAL - first.moved);

    // 2. The process "dies" after a few more batches: the checkpoint save fails, the run stops.
    checkpoint.failAfter = checkpoint.saves + 5;
    const second = await adapter.redrive(request, { signal: new AbortController().signal, checkpoint, onProgress: () => {} });
    expect(second.outcome).toBe('failed');
    expect(second.error).toContain('process crashed');
    state = await conserved();
    expect(state.dlq.size).toBeLessThan(TOTAL - first.moved);

    // 3. Resumed from the last saved checkpoint: finishes, nothing moved twice.
    checkpoint.failAfter = Infinity;
    const third = await adapter.redrive(request, { signal: new AbortController().signal, checkpoint, onProgress: () => {} });
    expect(third.outcome).toBe('completed');
    expect(third.failed).toBe(0);
    expect(third.possiblyDuplicated).toBe(0);
    state = await conserved();
    expect(state.dlq.size).toBe(0);
    expect(state.orders.size).toBe(TOTAL / 2);
    expect(state.payments.size).toBe(TOTAL / 2);
    // The report can only under-count the batch moved after the last saved checkpoint.
    expect(third.moved).toBeLessThanOrEqual(TOTAL);
    expect(third.moved).toBeGreaterThanOrEqual(TOTAL - 200);

    for (const [mid, fields] of [...state.orders, ...state.payments]) {
      const j = Number(mid.slice(2));
      expect(Buffer.compare(fields.get('value')!, Buffer.from([j & 0xff, 0x00, 0xff, (j >> 8) & 0xff]))).toBe(0);
      expect(fields.get('key')!.toString()).toBe(`k${j}`);
      expect(fields.get(`h:${Headers.redrivenFrom}`)!.toString()).toBe(dlq);
      expect(fields.get(`h:${Headers.redriveTask}`)!.toString()).toBe(request.taskId);
    }
  }, 120_000);

  it('redrives selected ids, a filter, to a chosen target; dry-runs; rate-limits; fails entries with no origin', async () => {
    const dead = `${prefix}-misc-dead`; // not DLQ-shaped: entries without origin cannot be routed
    const target = `${prefix}-chosen`;
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const origin = i < 7 ? ['h:' + Headers.deadLetterOrigin, `${prefix}-origin`] : [];
      ids.push(String(await redis.xadd(dead, '*', 'key', i % 2 === 0 ? 'even' : 'odd', ...origin, 'value', `v${i}`)));
    }
    const ctx = () => ({ signal: new AbortController().signal, checkpoint: new MemoryCheckpoint(), onProgress: () => {} });
    const base = { source: dead, ratePerSecond: null, dryRun: false };

    const dry = await adapter.redrive({ ...base, taskId: 't-dry', target: null, selection: { kind: 'all' }, dryRun: true }, ctx());
    expect(dry).toMatchObject({ outcome: 'completed', moved: 7, failed: 3, skipped: 0 });
    expect(dry.failures.map((f) => f.id)).toEqual(ids.slice(7));
    expect(await redis.xlen(dead)).toBe(10);

    const selected = await adapter.redrive({ ...base, taskId: 't-ids', target, selection: { kind: 'ids', ids: [ids[3]!, ids[1]!, '1-1'] } }, ctx());
    expect(selected).toMatchObject({ outcome: 'completed', moved: 2, failed: 1, remaining: 0 });
    expect(selected.failures[0]!.id).toBe('1-1');
    const moved = await adapter.browse({ destination: target, start: { from: 'oldest' }, limit: 10 });
    expect(moved.messages.map((m) => text(m.value))).toEqual(['v1', 'v3']);

    const filtered = await adapter.redrive(
      { ...base, taskId: 't-filter', target, selection: { kind: 'filter', expression: 'key == "even"', predicate: (m) => m.key === 'even' } },
      ctx(),
    );
    expect(filtered).toMatchObject({ outcome: 'completed', moved: 5, skipped: 3 });

    const started = performance.now();
    const limited = await adapter.redrive({ ...base, taskId: 't-rate', target, selection: { kind: 'all' }, ratePerSecond: 10 }, ctx());
    expect(limited).toMatchObject({ outcome: 'completed', moved: 3 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    expect(await redis.xlen(dead)).toBe(0);
    expect(await redis.xlen(target)).toBe(10);

    await expect(adapter.redrive({ ...base, taskId: 't-self', target: dead, selection: { kind: 'all' } }, ctx())).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(adapter.redrive({ ...base, source: `${prefix}-none`, taskId: 't-none', target, selection: { kind: 'all' } }, ctx())).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await redis.set(`${prefix}-str`, 'x');
    await redis.xadd(dead, '*', 'value', bytes('w').toString());
    const wrong = await adapter.redrive({ ...base, taskId: 't-wrong', target: `${prefix}-str`, selection: { kind: 'all' } }, ctx());
    expect(wrong).toMatchObject({ outcome: 'completed', moved: 0, failed: 1 });
    expect(await redis.xlen(dead)).toBe(1);
  });
  it('moves 1 MiB dead letters byte-exact, in scripts that copy a bounded number of bytes', async () => {
    const dlq = `${prefix}-big:dlq`;
    const origin = `${prefix}-big`;
    const values = Array.from({ length: 20 }, (_, i) => Buffer.alloc(1024 * 1024, i + 1));
    for (const value of values) await redis.xadd(dlq, '*', 'value', value);
    const report = await adapter.redrive(
      { taskId: 't-big', source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false },
      { signal: new AbortController().signal, checkpoint: new MemoryCheckpoint(), onProgress: () => {} },
    );
    expect(report).toMatchObject({ outcome: 'completed', moved: 20, failed: 0 });
    const moved = (await redis.callBuffer('XRANGE', origin, '-', '+')) as [Buffer, Buffer[]][];
    expect(moved).toHaveLength(20);
    moved.forEach(([, fields], i) => expect(Buffer.compare(fields[1]!, values[i]!)).toBe(0));
    expect(await redis.xlen(dlq)).toBe(0);
  });
});
