import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Headers, bytesEqual, fromUtf8, utf8, type CheckpointStore, type Message, type RedriveProgress, type RedriveSelection as RedriveRequestSelection, type StoredMessage } from '@mailroom/core';
import { newAdapter, uniqueName } from './helpers';
import { fileCheckpoint } from './fixtures/file-checkpoint';
import { progressGroupOf, type KafkaAdapter } from '../src';

const TOTAL = 10_000;
let adapter: KafkaAdapter;
let dir: string;
const created: string[] = [];

function valueOf(i: number): Uint8Array {
  const bytes = new Uint8Array(24);
  bytes.set(utf8(`v-${i}`));
  bytes[23] = i % 256;
  bytes[22] = 0xff;
  return bytes;
}

async function everything(a: KafkaAdapter, topic: string): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  let page = await a.browse({ destination: topic, start: { from: 'oldest' }, limit: 500 });
  out.push(...page.messages);
  while (page.nextCursor !== null) {
    page = await a.browse({ destination: topic, start: { from: 'oldest' }, cursor: page.nextCursor, limit: 500 });
    out.push(...page.messages);
  }
  return out;
}

function ids(messages: StoredMessage[]): string[] {
  return messages.map((m) => m.headers[Headers.messageId] ?? '?');
}

function memoryCheckpoint(): CheckpointStore & { state: unknown } {
  const store = { state: undefined as unknown, load: async () => store.state, save: async (s: unknown) => void (store.state = s) };
  return store;
}

async function topic(name: string, partitions: number): Promise<string> {
  await adapter.createDestination(name, { partitions });
  created.push(name);
  return name;
}

/** Runs a redrive in a child process and SIGKILLs it once it reports `killAt` moved. */
function runAndKill(taskId: string, source: string, checkpointPath: string, killAt: number): Promise<{ lastMoved: number; killed: boolean }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./fixtures/redrive-child.ts', import.meta.url)), taskId, source, checkpointPath, '3000'],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let lastMoved = 0;
    let killed = false;
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^progress (\d+)$/.exec(line);
        if (!match) continue;
        lastMoved = Number(match[1]);
        if (lastMoved >= killAt && !killed) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('error', reject);
    child.on('exit', () => resolve({ lastMoved, killed }));
  });
}

beforeAll(async () => {
  adapter = newAdapter();
  dir = await mkdtemp(join(tmpdir(), 'mailroom-kafka-redrive-'));
});

afterAll(async () => {
  for (const t of created) await adapter.deleteDestination(t).catch(() => undefined);
  await adapter.close();
  await rm(dir, { recursive: true, force: true });
});

describe('redrive', () => {
  it('moves 10,000 dead letters exactly once across a cancel, a crash (SIGKILL) and a resume after restart', async () => {
    const origin = await topic(uniqueName('rd-origin'), 3);
    const dlq = await topic(adapter.deadLetterNameFor(origin), 3);
    const producer = adapter.createProducer();
    const sent = new Map<string, { key: string; value: Uint8Array }>();
    for (let start = 0; start < TOTAL; start += 1000) {
      const batch: Message[] = [];
      for (let i = start; i < start + 1000; i++) {
        const id = `r-${i}`;
        sent.set(id, { key: `k-${i}`, value: valueOf(i) });
        batch.push({ key: `k-${i}`, value: valueOf(i), timestamp: new Date(), headers: { [Headers.messageId]: id, [Headers.deadLetterOrigin]: origin, [Headers.deadLetterReason]: 'poison' } });
      }
      await producer.sendBatch(dlq, batch);
    }
    await producer.close();
    const taskId = uniqueName('task');
    const group = progressGroupOf(taskId);

    const dry = await adapter.redrive(
      { taskId: `${taskId}-dry`, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: true },
      { signal: new AbortController().signal, onProgress: () => undefined, checkpoint: memoryCheckpoint() },
    );
    expect([dry.outcome, dry.moved, dry.failed]).toEqual(['completed', TOTAL, 0]);
    expect((await adapter.describeDestination(origin)).depth).toBe(0);
    expect((await adapter.describeDestination(dlq)).depth).toBe(TOTAL);

    // 1. Cancel midway.
    const checkpointPath = join(dir, `${taskId}.json`);
    const checkpoint = fileCheckpoint(checkpointPath);
    const controller = new AbortController();
    const progress: RedriveProgress[] = [];
    const cancelled = await adapter.redrive(
      { taskId, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: 4000, dryRun: false },
      {
        signal: controller.signal,
        onProgress: (p) => {
          progress.push({ ...p });
          if (p.moved >= 2000) controller.abort();
        },
        checkpoint,
      },
    );
    expect(cancelled.outcome).toBe('cancelled');
    expect(cancelled.moved).toBeGreaterThanOrEqual(2000);
    expect(cancelled.moved).toBeLessThan(TOTAL);
    expect(cancelled.remaining).toBe(TOTAL - cancelled.moved);
    expect(progress.length).toBeGreaterThan(2);
    const afterCancel = await everything(adapter, origin);
    expect(afterCancel.length).toBe(cancelled.moved);
    expect(new Set(ids(afterCancel)).size).toBe(cancelled.moved);
    // What moved left the DLQ (its log start advanced); the rest is still there.
    expect((await everything(adapter, dlq)).length).toBe(TOTAL - cancelled.moved);
    expect((await adapter.listConsumerGroups(dlq)).map((g) => g.name)).toEqual([group]);

    // 2. Resume in another process and kill it hard in the middle of its work.
    const crash = await runAndKill(taskId, dlq, checkpointPath, cancelled.moved + 2500);
    expect(crash.killed).toBe(true);
    expect(crash.lastMoved).toBeGreaterThanOrEqual(cancelled.moved + 2500);

    // 3. A "restarted server": a new adapter resumes the same task from the same checkpoint.
    await adapter.close();
    adapter = newAdapter();
    const resumedProgress: RedriveProgress[] = [];
    const report = await adapter.redrive(
      { taskId, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false },
      { signal: new AbortController().signal, onProgress: (p) => resumedProgress.push({ ...p }), checkpoint },
    );
    expect(report).toMatchObject({ outcome: 'completed', moved: TOTAL, failed: 0, skipped: 0, remaining: 0, possiblyDuplicated: 0, error: null, failures: [] });
    expect(resumedProgress[0]?.moved ?? 0).toBeGreaterThanOrEqual(crash.lastMoved);

    const moved = await everything(adapter, origin);
    const movedIds = ids(moved);
    expect(movedIds.length).toBe(TOTAL);
    expect(new Set(movedIds).size).toBe(TOTAL);
    expect([...movedIds].sort()).toEqual([...sent.keys()].sort());
    for (const m of moved) {
      const original = sent.get(m.headers[Headers.messageId] ?? '');
      if (!original) throw new Error(`unexpected ${m.id}`);
      expect(bytesEqual(m.value, original.value)).toBe(true);
      expect(m.key).toBe(original.key);
      expect(m.headers[Headers.redrivenFrom]).toBe(dlq);
      expect(m.headers[Headers.redriveTask]).toBe(taskId);
    }
    expect(await everything(adapter, dlq)).toEqual([]);
    expect((await adapter.listConsumerGroups()).map((g) => g.name)).not.toContain(group);

    // Running the finished task again moves nothing.
    const again = await adapter.redrive(
      { taskId, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false },
      { signal: new AbortController().signal, onProgress: () => undefined, checkpoint },
    );
    expect(again).toEqual(report);
    expect((await everything(adapter, origin)).length).toBe(TOTAL);
  });

  it('is rate-limited: N records at R/s take at least (N − burst)/R seconds, and progress never runs ahead of the limit', async () => {
    const origin = await topic(uniqueName('rd-rate'), 1);
    const dlq = await topic(adapter.deadLetterNameFor(origin), 2);
    const count = 600;
    const ratePerSecond = 200;
    // core's RateLimiter (a token bucket) holds at most one second of tokens: burst = R. A limiter
    // that started full could let `burst` records through at once; none can go faster than that.
    const burst = ratePerSecond;
    await adapter.publish(
      dlq,
      Array.from({ length: count }, (_, i) => ({ key: `k-${i}`, value: utf8(`rate-${i}`), headers: { [Headers.messageId]: `rate-${i}`, [Headers.deadLetterOrigin]: origin } })),
    );
    const progress: { atMs: number; moved: number }[] = [];
    const started = performance.now();
    const report = await adapter.redrive(
      { taskId: uniqueName('rate'), source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond, dryRun: false },
      { signal: new AbortController().signal, onProgress: (p) => progress.push({ atMs: performance.now() - started, moved: p.moved }), checkpoint: memoryCheckpoint() },
    );
    const elapsedMs = performance.now() - started;
    expect(report).toMatchObject({ outcome: 'completed', moved: count, failed: 0 });
    expect(elapsedMs).toBeGreaterThanOrEqual(((count - burst) / ratePerSecond) * 1000);
    expect(progress.length).toBeGreaterThan(2);
    for (const p of progress) expect(p.moved, `moved ${p.moved} after ${Math.round(p.atMs)} ms`).toBeLessThanOrEqual(burst + (ratePerSecond * p.atMs) / 1000);
    expect(progress[progress.length - 1]?.moved).toBe(count);
    expect(ids(await everything(adapter, origin)).sort()).toEqual(Array.from({ length: count }, (_, i) => `rate-${i}`).sort());
  });

  it('redrives a selection of ids or a filter to a chosen topic, leaving the DLQ intact', async () => {
    const dlq = await topic(uniqueName('rd-sel') + '.DLT', 2);
    const target = await topic(uniqueName('rd-target'), 1);
    const result = await adapter.publish(
      dlq,
      Array.from({ length: 20 }, (_, i) => ({ key: `k-${i}`, value: utf8(`s-${i}`), headers: { [Headers.messageId]: `s-${i}` }, properties: { partition: i % 2 } })),
    );
    const picked = [result.ids[3], result.ids[8], result.ids[15]].filter((x): x is string => x !== null);
    expect(picked.length).toBe(3);
    const byIds = await adapter.redrive(
      { taskId: uniqueName('ids'), source: dlq, target, selection: { kind: 'ids', ids: picked }, ratePerSecond: null, dryRun: false },
      { signal: new AbortController().signal, onProgress: () => undefined, checkpoint: memoryCheckpoint() },
    );
    expect([byIds.outcome, byIds.moved, byIds.failed, byIds.remaining]).toEqual(['completed', 3, 0, 0]);
    expect(ids(await everything(adapter, target)).sort()).toEqual(['s-15', 's-3', 's-8']);

    const byFilter = await adapter.redrive(
      {
        taskId: uniqueName('filter'),
        source: dlq,
        target,
        selection: { kind: 'filter', expression: 'value ends with 7', predicate: (m) => fromUtf8(m.value).endsWith('7') },
        ratePerSecond: null,
        dryRun: false,
      },
      { signal: new AbortController().signal, onProgress: () => undefined, checkpoint: memoryCheckpoint() },
    );
    expect([byFilter.outcome, byFilter.moved, byFilter.skipped]).toEqual(['completed', 2, 18]);
    expect(ids(await everything(adapter, target)).sort()).toEqual(['s-15', 's-17', 's-3', 's-7', 's-8']);
    // Kafka cannot delete single records: a partial redrive leaves the DLQ as it was.
    expect((await everything(adapter, dlq)).length).toBe(20);
    await expect(
      adapter.redrive(
        { taskId: uniqueName('bad'), source: dlq, target, selection: { kind: 'ids', ids: ['nope'] }, ratePerSecond: null, dryRun: false },
        { signal: new AbortController().signal, onProgress: () => undefined, checkpoint: memoryCheckpoint() },
      ),
    ).rejects.toThrow(/partition:offset/);
  });

  it('never sends a record twice: "all" after "ids" skips the records the ids task already redrove (ledger)', async () => {
    const origin = await topic(uniqueName('rd-twice'), 2);
    const dlq = await topic(adapter.deadLetterNameFor(origin), 2);
    const result = await adapter.publish(
      dlq,
      Array.from({ length: 30 }, (_, i) => ({
        key: `k-${i}`,
        value: utf8(`t-${i}`),
        headers: { [Headers.messageId]: `t-${i}`, [Headers.deadLetterOrigin]: origin },
        properties: { partition: i % 2 },
      })),
    );
    const picked = [result.ids[1], result.ids[4], result.ids[17], result.ids[28]].filter((x): x is string => x !== null);
    expect(picked.length).toBe(4);
    const run = (taskId: string, selection: RedriveRequestSelection, dryRun = false) =>
      adapter.redrive(
        { taskId, source: dlq, target: null, selection, ratePerSecond: null, dryRun },
        { signal: new AbortController().signal, onProgress: () => undefined, checkpoint: memoryCheckpoint() },
      );
    const byIds = await run(uniqueName('ids'), { kind: 'ids', ids: picked });
    // Offsets between the chosen ids are examined and not selected: p0 offsets 2..14, p1 0..8 hold 18 unselected.
    expect(byIds).toMatchObject({ outcome: 'completed', moved: 4, failed: 0, skipped: 18, possiblyDuplicated: 0 });
    expect(ids(await everything(adapter, origin)).sort()).toEqual(['t-1', 't-17', 't-28', 't-4']);
    // Kafka keeps them in the DLT.
    expect((await everything(adapter, dlq)).length).toBe(30);

    // The same ids again: nothing moves, they are reported skipped.
    const idsAgain = await run(uniqueName('ids-again'), { kind: 'ids', ids: picked });
    expect(idsAgain.error).toBeNull();
    expect(idsAgain).toMatchObject({ outcome: 'completed', moved: 0, skipped: 18 + 4, possiblyDuplicated: 0 });
    // A dry run of "all" already counts only what would really move.
    const dry = await run(uniqueName('dry'), { kind: 'all' }, true);
    expect(dry).toMatchObject({ outcome: 'completed', moved: 26, skipped: 4 });

    const all = await run(uniqueName('all'), { kind: 'all' });
    expect(all).toMatchObject({ outcome: 'completed', moved: 26, failed: 0, skipped: 4, remaining: 0, possiblyDuplicated: 0 });
    const onOrigin = ids(await everything(adapter, origin));
    expect(onOrigin.length).toBe(30);
    expect([...onOrigin].sort()).toEqual(Array.from({ length: 30 }, (_, i) => `t-${i}`).sort());
    // Every record moved or was moved before: "all" empties the DLT.
    expect(await everything(adapter, dlq)).toEqual([]);
  });

  it('reports records without a reachable origin as failures and keeps them', async () => {
    const origin = await topic(uniqueName('rd-o'), 1);
    const misc = await topic(uniqueName('rd-misc'), 1);
    await adapter.publish(misc, [
      { key: 'a', value: utf8('a'), headers: { [Headers.deadLetterOrigin]: origin } },
      { key: 'b', value: utf8('b'), headers: {} },
      { key: 'c', value: utf8('c'), headers: { [Headers.deadLetterOrigin]: `${origin}-gone` } },
    ]);
    const report = await adapter.redrive(
      { taskId: uniqueName('fail'), source: misc, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false },
      { signal: new AbortController().signal, onProgress: () => undefined, checkpoint: memoryCheckpoint() },
    );
    expect([report.outcome, report.moved, report.failed]).toEqual(['completed', 1, 2]);
    expect(report.failures.map((f) => f.id)).toEqual(['0:1', '0:2']);
    expect(report.failures[1]?.reason).toMatch(/does not exist/);
    expect((await everything(adapter, misc)).map((m) => m.key)).toEqual(['a', 'b', 'c']);
    expect((await everything(adapter, origin)).map((m) => m.key)).toEqual(['a']);
  });
});
