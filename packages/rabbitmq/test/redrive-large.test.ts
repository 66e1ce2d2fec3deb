import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointStore, RedriveProgress, RedriveReport } from '@mailroom/core';
import { Headers } from '@mailroom/core';
import { createRabbitMqAdapter, type RabbitMqAdapter } from '../src/index';
import { Broker } from './broker';
import { testConfig, uniqueName } from './env';
import { STATS_DEADLINE_MS, waitUntil } from './wait';

const COUNT = 10_000;
/** The kill test closes the redrive connection at the first batch boundary once this many were moved. */
const KILL_AT = 3000;
/** Messages per redrive batch without a rate limit: redriveBatchSize (default 250). */
const KILL_BATCH = 250;

/** The parts of the adapter's checkpoint a test reads: cumulative moved, and the ids of the batch about to be published (write-ahead). */
function checkpointFacts(state: unknown): { moved: number; inFlight: string[] } {
  const record = typeof state === 'object' && state !== null ? (state as Record<string, unknown>) : {};
  const moved = record['moved'];
  const inFlight = record['inFlight'];
  return {
    moved: typeof moved === 'number' ? moved : -1,
    inFlight: Array.isArray(inFlight) ? inFlight.filter((id): id is string => typeof id === 'string') : [],
  };
}

/** An in-memory checkpoint store; `beforeSave` lets a test hold the task at a batch boundary (saves are write-ahead, after a batch was taken from the DLQ and before it is published). */
function checkpointStore(beforeSave: (state: unknown) => Promise<void> = async () => undefined): CheckpointStore & { state: unknown; saves: number } {
  const store = {
    state: undefined as unknown,
    saves: 0,
    load: async () => store.state,
    save: async (state: unknown) => {
      await beforeSave(state);
      store.saves++;
      store.state = structuredClone(state);
    },
  };
  return store;
}

/**
 * The least time a rate-limited redrive can take: core's RateLimiter is a token bucket holding at
 * most `burst` = max(1, rate) tokens, refilled at `rate` per second, and a batch is published only
 * after taking one token per message. So in any interval of T seconds at most burst + rate × T
 * messages are published: N of them take at least (N − burst) / rate seconds, however fast the
 * machine. A limiter that did not hold back would finish sooner and fail this.
 */
function minimumSeconds(messages: number, ratePerSecond: number): number {
  const burst = Math.max(1, ratePerSecond);
  return Math.max(0, (messages - burst) / ratePerSecond);
}

/**
 * 10,000 native dead letters (rejected from `work`, routed by its x-dead-letter-exchange to
 * `work.dlq`) are redriven back to `work` by x-death while the redrive's connection is closed
 * by the management API, again with a cancel and a resume, and again with a failure midway.
 * Nothing may be lost, and possiblyDuplicated is checked against the copies at the origin.
 */
describe('redrive of 10,000 dead letters', () => {
  const broker = new Broker();
  let adapter: RabbitMqAdapter;
  const work = uniqueName('work');
  const dlx = `${work}.dlx`;
  const dlq = `${work}.dlq`;
  const ids = Array.from({ length: COUNT }, (_, i) => `${work}-${i}`);
  const indexOfId = new Map(ids.map((id, i) => [id, i]));

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

  type Drained = Awaited<ReturnType<Broker['drain']>>;

  /** Every id once at the origin, except `duplicatedIds`, which are there exactly twice; bodies and redrive headers intact. */
  function expectEveryIdAtOrigin(drained: Drained, duplicatedIds: string[]): void {
    const seen = new Map<string, number>();
    for (const m of drained) seen.set(m.messageId ?? '', (seen.get(m.messageId ?? '') ?? 0) + 1);
    const missing = ids.filter((id) => !seen.has(id));
    expect(missing.slice(0, 5), `${missing.length} messages lost`).toEqual([]);
    expect(seen.size).toBe(COUNT);
    const twice = [...seen].filter(([, n]) => n > 1);
    expect(twice.filter(([, n]) => n !== 2), 'no message is at the origin more than twice').toEqual([]);
    expect(twice.map(([id]) => id).sort()).toEqual(duplicatedIds.slice().sort());
    expect(drained.length).toBe(COUNT + duplicatedIds.length);
    for (const m of drained) {
      const index = indexOfId.get(m.messageId ?? '');
      if (m.body.toString() !== `payload-${index}`) expect(m.body.toString(), `body of ${m.messageId}`).toBe(`payload-${index}`);
      if (m.headers[Headers.redrivenFrom] !== dlq) expect(m.headers[Headers.redrivenFrom], `${Headers.redrivenFrom} of ${m.messageId}`).toBe(dlq);
    }
  }

  it('survives its connection being closed at a batch boundary: none lost, the batch in flight moved twice and counted exactly', async () => {
    await deadLetterAll();
    const taskId = uniqueName('task-kill');
    const connectionName = `mailroom-test/redrive:${taskId}`;
    const progress: RedriveProgress[] = [];
    /** The redrive connection's management name: the connection list lags by the statistics interval. */
    let listed: string[] = [];
    let killed = false;
    let movedAtKill = -1;
    let inFlightAtKill: string[] = [];
    const checkpoint = checkpointStore(async (state) => {
      // Before the first batch is published: wait until the management API lists the connection,
      // however long its statistics take on a loaded machine, so it can be found to be killed.
      if (listed.length === 0) {
        listed = await waitUntil(() => broker.connectionsNamed(connectionName), (names) => names.length > 0, STATS_DEADLINE_MS);
      }
      const facts = checkpointFacts(state);
      if (killed || facts.moved < KILL_AT || facts.inFlight.length === 0) return;
      // Held here, the redrive has taken the next batch from the DLQ (unacked), acked every earlier
      // one and had each ack answered (basic.get is the sync point), and published none of this
      // batch. The close lands now, and this save returns only once the broker has dropped the
      // connection, which it does after the client answered close-ok, so the redrive knows its
      // connection is gone: it publishes the batch over a new connection, cannot ack it on the dead
      // channel, and the broker has requeued the batch. Exactly this batch is moved twice.
      killed = true;
      movedAtKill = facts.moved;
      inFlightAtKill = facts.inFlight;
      for (const name of listed) await broker.management.closeConnection(name);
      await waitUntil(() => broker.ctlConnectionsNamed(connectionName), (pids) => pids.length === 0, STATS_DEADLINE_MS);
    });
    const report = await adapter.redrive(
      { taskId, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false },
      { signal: new AbortController().signal, checkpoint, onProgress: (p) => progress.push({ ...p }) },
    );
    console.info(
      `redrive with killed connection: ${JSON.stringify({ ...report, failures: report.failures.slice(0, 3) })}, progress events=${progress.length}, killed at moved=${movedAtKill}`,
    );
    expect(listed.length, 'the management API listed the redrive connection by its connection_name').toBe(1);
    expect(killed, 'the redrive connection was closed at a batch boundary').toBe(true);
    expect(movedAtKill, 'the kill happened at the first boundary at or after KILL_AT').toBe(KILL_AT);
    expect(inFlightAtKill, 'the batch held at the kill is the next one in DLQ order').toEqual(ids.slice(KILL_AT, KILL_AT + KILL_BATCH));
    expect(report.outcome, report.error ?? '').toBe('completed');
    expect(report.failed).toBe(0);
    expect(report.moved, 'every message once, and the batch in flight at the kill again').toBe(COUNT + KILL_BATCH);
    expect(report.possiblyDuplicated, 'exactly the copies confirmed whose ack could not reach the DLQ').toBe(KILL_BATCH);
    expect(progress.length, 'progress was reported along the way').toBeGreaterThan(3);
    expect(await broker.ctlCounts(dlq), 'the DLQ is empty').toEqual({ ready: 0, unacked: 0 });
    const back = await broker.ctlCounts(work);
    expect(back).toEqual({ ready: report.moved, unacked: 0 });
    expectEveryIdAtOrigin(await broker.drain(work), inFlightAtKill);
  }, 240_000);

  it('cancels midway and resumes with the same task id: none lost, nothing moved twice', async () => {
    await deadLetterAll();
    const taskId = uniqueName('task-cancel');
    const checkpoint = checkpointStore();
    const abort = new AbortController();
    // Far below what a redrive manages without a limit (one basic.get round trip per message: about
    // 1,000/s on the 2-core test machine, 250/s when it is busy), so the timing check below tells a
    // limiter that holds back (500 messages: at least 9 s) from one that does not (about 0.5 to 2 s).
    // Progress comes at most every 250 ms: the abort (at >= 500) lands near 520 at most, far from
    // the end, however fast the machine.
    const ratePerSecond = 50;
    const abortAt = 500;
    const startedAt = performance.now();
    const first: RedriveReport = await adapter.redrive(
      { taskId, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond, dryRun: false },
      {
        signal: abort.signal,
        checkpoint,
        onProgress: (p) => {
          if (p.moved >= abortAt) abort.abort();
        },
      },
    );
    const firstSeconds = (performance.now() - startedAt) / 1000;
    expect(first.outcome).toBe('cancelled');
    expect(first.moved).toBeGreaterThanOrEqual(abortAt);
    expect(first.moved).toBeLessThan(COUNT);
    expect(first.possiblyDuplicated).toBe(0);
    expect(firstSeconds, `${first.moved} messages at ${ratePerSecond}/s`).toBeGreaterThanOrEqual(minimumSeconds(first.moved, ratePerSecond));
    const afterCancel = await broker.ctlCounts(dlq);
    expect(afterCancel, 'a cancelled redrive leaves the rest in the DLQ, nothing unacked').toEqual({ ready: COUNT - first.moved, unacked: 0 });
    expect((await broker.ctlCounts(work))?.ready).toBe(first.moved);

    const resumedAt = performance.now();
    const second = await adapter.redrive(
      { taskId, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false },
      { signal: new AbortController().signal, checkpoint, onProgress: () => undefined },
    );
    console.info(
      `cancelled redrive: ${first.moved} moved at ${ratePerSecond}/s in ${firstSeconds.toFixed(2)} s (at least ${minimumSeconds(first.moved, ratePerSecond).toFixed(2)} s); resumed without a limit: ${second.moved - first.moved} in ${((performance.now() - resumedAt) / 1000).toFixed(2)} s`,
    );
    expect(second.outcome, second.error ?? '').toBe('completed');
    expect(second.moved, 'the resumed task counts on from the first run').toBe(COUNT);
    expect(second.possiblyDuplicated).toBe(0);
    expect(await broker.ctlCounts(dlq)).toEqual({ ready: 0, unacked: 0 });
    expectEveryIdAtOrigin(await broker.drain(work), []);

    const again = await adapter.redrive(
      { taskId, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false },
      { signal: new AbortController().signal, checkpoint, onProgress: () => undefined },
    );
    expect(again, 'a finished task run again returns its report and moves nothing').toEqual(second);
  }, 180_000);

  it('fails on an error that is not a lost connection without counting possible duplicates: its channel closed cleanly, so every ack was processed', async () => {
    await deadLetterAll();
    const taskId = uniqueName('task-throw');
    let thrown = false;
    // Progress with moved > 0 is reported right after a batch was confirmed and acked, before the
    // next basic.get: those acks are not yet answered when this throws.
    const report = await adapter.redrive(
      { taskId, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false },
      {
        signal: new AbortController().signal,
        checkpoint: checkpointStore(),
        onProgress: (p) => {
          if (p.moved > 0 && !thrown) {
            thrown = true;
            throw new Error('progress store unavailable');
          }
        },
      },
    );
    expect(thrown).toBe(true);
    expect(report.outcome).toBe('failed');
    expect(report.error).toMatch(/progress store unavailable/);
    expect(report.moved).toBeGreaterThan(0);
    expect(report.moved).toBeLessThan(COUNT);
    expect(report.possiblyDuplicated, 'nothing can be at the origin twice').toBe(0);
    expect(await broker.ctlCounts(dlq), 'the acked ones are gone from the DLQ, the rest are back').toEqual({ ready: COUNT - report.moved, unacked: 0 });
    const atOrigin = await broker.drain(work);
    const leftInDlq = await broker.drain(dlq);
    expect(atOrigin.length).toBe(report.moved);
    expect(new Set(atOrigin.map((m) => m.messageId)).size, 'no duplicates at the origin').toBe(report.moved);
    expect([...atOrigin, ...leftInDlq].map((m) => m.messageId).sort()).toEqual(ids.slice().sort());
  });
});
