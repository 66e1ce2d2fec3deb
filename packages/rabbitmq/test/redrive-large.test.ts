import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointStore, RedriveProgress, RedriveReport } from '@mailroom/core';
import { Headers } from '@mailroom/core';
import { createRabbitMqAdapter, type RabbitMqAdapter } from '../src/index';
import { Broker } from './broker';
import { testConfig, uniqueName } from './env';
import { STATS_DEADLINE_MS, waitUntil } from './wait';

const COUNT = 10_000;
/** The kill test closes the redrive connection once this many were moved... */
const KILL_AT = 3000;
/** ...and holds the redrive at its next batch from here on until the close went through. */
const KILL_LATEST = 6000;

/** An in-memory checkpoint store; `beforeSave` lets a test hold the task at a batch boundary (saves are write-ahead, before each batch is published). */
function checkpointStore(beforeSave: () => Promise<void> = async () => undefined): CheckpointStore & { state: unknown; saves: number } {
  const store = {
    state: undefined as unknown,
    saves: 0,
    load: async () => store.state,
    save: async (state: unknown) => {
      await beforeSave();
      store.saves++;
      store.state = structuredClone(state);
    },
  };
  return store;
}

/**
 * 10,000 native dead letters (rejected from `work`, routed by its x-dead-letter-exchange to
 * `work.dlq`) are redriven back to `work` by x-death while the redrive's connection is closed
 * by the management API, and again with a cancel and a resume. Nothing may be lost.
 */
describe('redrive of 10,000 dead letters', () => {
  const broker = new Broker();
  let adapter: RabbitMqAdapter;
  const work = uniqueName('work');
  const dlx = `${work}.dlx`;
  const dlq = `${work}.dlq`;
  const ids = Array.from({ length: COUNT }, (_, i) => `${work}-${i}`);

  beforeAll(async () => {
    adapter = createRabbitMqAdapter(testConfig());
    await broker.exchange(dlx, 'fanout');
    await broker.queue(dlq);
    await broker.bind(dlq, dlx, '');
    await broker.queue(work, { 'x-dead-letter-exchange': dlx });
  }, 60_000);

  afterAll(async () => {
    await adapter.close();
    await broker.cleanup();
  }, 60_000);

  async function deadLetterAll(): Promise<void> {
    const ch = await broker.channel();
    await ch.purgeQueue(work);
    await ch.purgeQueue(dlq);
    await ch.close();
    const batch = 1000;
    for (let i = 0; i < COUNT; i += batch) {
      await broker.sendToQueue(
        work,
        ids.slice(i, i + batch).map((id, j) => ({ body: Buffer.from(`payload-${i + j}`), messageId: id })),
      );
    }
    await broker.rejectAll(work, COUNT);
    const counts = await broker.ctlCounts(dlq);
    expect(counts).toEqual({ ready: COUNT, unacked: 0 });
  }

  function expectNoneLost(drained: Awaited<ReturnType<Broker['drain']>>, possiblyDuplicated: number): void {
    const seen = new Map<string, number>();
    for (const m of drained) seen.set(m.messageId ?? '', (seen.get(m.messageId ?? '') ?? 0) + 1);
    const missing = ids.filter((id) => !seen.has(id));
    expect(missing.slice(0, 5), `${missing.length} messages lost`).toEqual([]);
    expect(seen.size).toBe(COUNT);
    const duplicates = drained.length - COUNT;
    expect(duplicates, `duplicates at the origin (${duplicates}) are at most possiblyDuplicated (${possiblyDuplicated})`).toBeLessThanOrEqual(possiblyDuplicated);
    for (const m of drained.slice(0, 50)) {
      const index = ids.indexOf(m.messageId ?? '');
      expect(m.body.toString()).toBe(`payload-${index}`);
      expect(m.headers[Headers.redrivenFrom]).toBe(dlq);
    }
  }

  it('survives its connection being closed midway: none lost, duplicates counted', async () => {
    await deadLetterAll();
    const taskId = uniqueName('task-kill');
    const connectionName = `mailroom-test/redrive:${taskId}`;
    const progress: RedriveProgress[] = [];
    let lastMoved = 0;
    /** The redrive connection's management name: the connection list lags by the statistics interval. */
    let listed: string[] = [];
    let gated = false;
    let killed: string[] = [];
    let movedAtKill: number | null = null;
    let killing: Promise<void> | null = null;
    const kill = (): Promise<void> =>
      (killing ??= (async () => {
        for (const name of listed) await broker.management.closeConnection(name);
        killed = listed;
        movedAtKill = lastMoved;
      })());
    const checkpoint = checkpointStore(async () => {
      // Before the first batch is published: wait until the management API lists the connection,
      // however long its statistics take on a loaded machine, so it can be found to be killed.
      if (!gated) {
        gated = true;
        listed = await waitUntil(() => broker.connectionsNamed(connectionName), (names) => names.length > 0, STATS_DEADLINE_MS);
      }
      // A starved machine may have the kill request still under way: it must land before the end.
      if (lastMoved >= KILL_LATEST) await kill();
    });
    const report = await adapter.redrive(
      // Rate-limited so the kill, started once KILL_AT were moved, lands while batches are in flight.
      { taskId, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: 2500, dryRun: false },
      {
        signal: new AbortController().signal,
        checkpoint,
        onProgress: (p) => {
          progress.push({ ...p });
          lastMoved = p.moved;
          if (p.moved >= KILL_AT && listed.length > 0) void kill();
        },
      },
    );
    await killing;
    console.info(
      `redrive with killed connection: ${JSON.stringify({ ...report, failures: report.failures.slice(0, 3) })}, progress events=${progress.length}, killed=${killed.length} at moved=${movedAtKill}`,
    );
    expect(listed.length, 'the management API listed the redrive connection by its connection_name').toBe(1);
    expect(killed.length, 'the redrive connection was found by its connection_name and closed').toBe(1);
    expect(movedAtKill, 'the kill happened midway, not after the end').toBeGreaterThanOrEqual(KILL_AT);
    expect(movedAtKill).toBeLessThan(COUNT);
    expect(report.outcome, report.error ?? '').toBe('completed');
    expect(report.failed).toBe(0);
    expect(report.moved - report.possiblyDuplicated).toBeLessThanOrEqual(COUNT);
    expect(report.moved).toBeGreaterThanOrEqual(COUNT);
    expect(progress.length, 'progress was reported along the way').toBeGreaterThan(3);
    expect(await broker.ctlCounts(dlq), 'the DLQ is empty').toEqual({ ready: 0, unacked: 0 });
    const back = await broker.ctlCounts(work);
    expect(back?.unacked).toBe(0);
    expect(back?.ready).toBe(report.moved);
    expectNoneLost(await broker.drain(work), report.possiblyDuplicated);
  }, 240_000);

  it('cancels midway and resumes with the same task id: none lost, nothing moved twice', async () => {
    await deadLetterAll();
    const taskId = uniqueName('task-cancel');
    const checkpoint = checkpointStore();
    const abort = new AbortController();
    // Progress comes at most every 250 ms: at 5,000/s the abort (at >= 2,500) lands near 4,000 at
    // most, far from the end, however fast the machine; a slower one only makes it land sooner.
    const first: RedriveReport = await adapter.redrive(
      { taskId, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: 5000, dryRun: false },
      {
        signal: abort.signal,
        checkpoint,
        onProgress: (p) => {
          if (p.moved >= 2500) abort.abort();
        },
      },
    );
    expect(first.outcome).toBe('cancelled');
    expect(first.moved).toBeGreaterThanOrEqual(2500);
    expect(first.moved).toBeLessThan(COUNT);
    const afterCancel = await broker.ctlCounts(dlq);
    expect(afterCancel, 'a cancelled redrive leaves the rest in the DLQ, nothing unacked').toEqual({ ready: COUNT - first.moved, unacked: 0 });
    expect((await broker.ctlCounts(work))?.ready).toBe(first.moved);

    const second = await adapter.redrive(
      { taskId, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false },
      { signal: new AbortController().signal, checkpoint, onProgress: () => undefined },
    );
    expect(second.outcome, second.error ?? '').toBe('completed');
    expect(second.moved, 'the resumed task counts on from the first run').toBe(COUNT);
    expect(second.possiblyDuplicated).toBe(0);
    expect(await broker.ctlCounts(dlq)).toEqual({ ready: 0, unacked: 0 });
    expectNoneLost(await broker.drain(work), 0);

    const again = await adapter.redrive(
      { taskId, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false },
      { signal: new AbortController().signal, checkpoint, onProgress: () => undefined },
    );
    expect(again, 'a finished task run again returns its report and moves nothing').toEqual(second);
  }, 180_000);
});
