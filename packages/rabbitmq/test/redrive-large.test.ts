import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointStore, RedriveProgress, RedriveReport } from '@mailroom/core';
import { Headers } from '@mailroom/core';
import { createRabbitMqAdapter, type RabbitMqAdapter } from '../src/index';
import { Broker } from './broker';
import { testConfig, uniqueName } from './env';

const COUNT = 10_000;

function checkpointStore(): CheckpointStore & { state: unknown; saves: number } {
  const store = {
    state: undefined as unknown,
    saves: 0,
    load: async () => store.state,
    save: async (state: unknown) => {
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
    const progress: RedriveProgress[] = [];
    let killed: string[] = [];
    let killing: Promise<void> | null = null;
    const checkpoint = checkpointStore();
    const report = await adapter.redrive(
      // Rate-limited so the connection is still there (and listed by the management API) midway.
      { taskId, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: 2500, dryRun: false },
      {
        signal: new AbortController().signal,
        checkpoint,
        onProgress: (p) => {
          progress.push({ ...p });
          if (p.moved >= 3000 && killing === null) {
            killing = (async () => {
              const deadline = Date.now() + 2000;
              killed = await broker.connectionsNamed(`mailroom-test/redrive:${taskId}`);
              while (killed.length === 0 && Date.now() < deadline) {
                await new Promise((r) => setTimeout(r, 100));
                killed = await broker.connectionsNamed(`mailroom-test/redrive:${taskId}`);
              }
              for (const name of killed) await broker.management.closeConnection(name);
            })();
          }
        },
      },
    );
    await killing;
    console.info(`redrive with killed connection: ${JSON.stringify({ ...report, failures: report.failures.slice(0, 3) })}, progress events=${progress.length}, killed=${killed.length}`);
    expect(killed.length, 'the redrive connection was found by its connection_name and closed').toBe(1);
    expect(report.outcome, report.error ?? '').toBe('completed');
    expect(report.failed).toBe(0);
    expect(report.moved - report.possiblyDuplicated).toBeLessThanOrEqual(COUNT);
    expect(report.moved).toBeGreaterThanOrEqual(COUNT);
    expect(progress.some((p) => p.moved < COUNT && p.moved > 3000), 'the kill happened midway, not after the end').toBe(true);
    expect(progress.length, 'progress was reported along the way').toBeGreaterThan(3);
    expect(await broker.ctlCounts(dlq), 'the DLQ is empty').toEqual({ ready: 0, unacked: 0 });
    const back = await broker.ctlCounts(work);
    expect(back?.unacked).toBe(0);
    expect(back?.ready).toBe(report.moved);
    expectNoneLost(await broker.drain(work), report.possiblyDuplicated);
  }, 180_000);

  it('cancels midway and resumes with the same task id: none lost, nothing moved twice', async () => {
    await deadLetterAll();
    const taskId = uniqueName('task-cancel');
    const checkpoint = checkpointStore();
    const abort = new AbortController();
    const first: RedriveReport = await adapter.redrive(
      { taskId, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: 20_000, dryRun: false },
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
