import { expect } from 'vitest';
import {
  BoundedDedupeStore,
  Headers,
  RequestReplyClient,
  RequestTimeoutError,
  fromUtf8,
  idempotent,
  pollWithRetry,
  retryHistoryOf,
  serveRequestsOnce,
  utf8,
  type CheckpointStore,
  type ReceivedMessage,
  type RedriveProgress,
  type RetryLoopStats,
  type RetryPolicy,
} from '@mailroom/core';
import type { CaseContext, CaseDefinition } from '../context';
import { bounded, collect, describeError, duplicatesOf, expectBytes, expectRejection, header, message, pseudoRandomBytes, waitFor } from '../helpers';

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

export const requestReply: CaseDefinition = {
  name: 'request-reply',
  title: '100 concurrent requests all get their correlated reply; an unanswered request times out without leaking',
  timeoutMs: 120_000,
  async run({ scope, ms }) {
    const requests = await scope.destination(scope.name('req'));
    const replies = await scope.destination(scope.name('rep'));
    const serverConsumer = await scope.subscribed(scope.group('server'), [requests], 50);
    const serverProducer = scope.producer();
    const replyConsumer = await scope.subscribed(scope.group('client'), [replies], 100);
    const clientProducer = scope.producer();
    const client = new RequestReplyClient({ producer: clientProducer, replyConsumer, replyTopic: replies, pollTimeoutMs: 250 });
    scope.onCleanup('close request-reply client', () => client.close());

    const stop = new AbortController();
    let serverError: unknown = null;
    const serving = (async () => {
      while (!stop.signal.aborted) {
        try {
          await serveRequestsOnce(
            serverConsumer,
            serverProducer,
            async (request) => ({ key: request.key, value: concat(utf8('reply:'), request.value), headers: {} }),
            250,
          );
        } catch (error) {
          if (!stop.signal.aborted) serverError = error;
          return;
        }
      }
    })();

    const count = 100;
    try {
      const answers = await Promise.all(
        Array.from({ length: count }, (_, i) => client.request(requests, message(`request-${i}`, {}, `k-${i % 7}`), ms(45_000))),
      );
      answers.forEach((reply, i) => {
        expect(fromUtf8(reply.value), `reply to request ${i}`).toBe(`reply:request-${i}`);
        expect(reply.headers[Headers.correlationId], `reply ${i} carries its correlation id`).toBeTruthy();
      });
      expect(new Set(answers.map((a) => a.headers[Headers.correlationId])).size, 'distinct correlation ids').toBe(count);
      expect(client.waiting, 'no request left waiting').toBe(0);
    } finally {
      stop.abort();
      await bounded(serving, ms(15_000), 'request server loop');
    }
    if (serverError !== null) expect.fail(`request server failed: ${describeError(serverError)}`);

    // Nobody serves now: the request must time out and leave nothing waiting.
    await expectRejection(client.request(requests, message('unanswered'), 1500), RequestTimeoutError, 'unanswered request', 1500 + ms(3000));
    expect(client.waiting, 'a timed-out request leaves nothing waiting').toBe(0);
  },
};

/** Runs pollWithRetry until `done` says enough happened (or the deadline), summing the stats. */
async function retryUntil(
  context: CaseContext,
  consumer: Parameters<typeof pollWithRetry>[0],
  handler: (m: ReceivedMessage) => Promise<void>,
  policy: RetryPolicy,
  done: (stats: RetryLoopStats) => boolean,
  settleMs: number,
): Promise<RetryLoopStats> {
  const producer = context.scope.producer();
  const total: RetryLoopStats = { processed: 0, deadLettered: 0, retries: 0 };
  const options = { policy, producer, deadLetterFor: (topic: string) => context.adapter.deadLetterNameFor(topic), pollTimeoutMs: 1000 };
  const add = (s: RetryLoopStats) => {
    total.processed += s.processed;
    total.deadLettered += s.deadLettered;
    total.retries += s.retries;
  };
  const deadline = Date.now() + context.ms(60_000);
  while (!done(total) && Date.now() < deadline) add(await pollWithRetry(consumer, handler, options));
  const settleEnd = Date.now() + settleMs;
  while (Date.now() < settleEnd) add(await pollWithRetry(consumer, handler, { ...options, pollTimeoutMs: 500 }));
  return total;
}

export const retryDeadLetter: CaseDefinition = {
  name: 'retry-dead-letter',
  title: 'retry with growing backoff, then dead-letter after maxAttempts with the attempt history',
  timeoutMs: 120_000,
  async run(context) {
    const { adapter, scope, ms } = context;
    const topic = await scope.destination(scope.name('work'));
    const dlq = await scope.destination(adapter.deadLetterNameFor(topic));
    const worker = await scope.subscribed(scope.group('worker'), [topic], 20);
    const dlqReader = await scope.subscribed(scope.group('dlq-reader'), [dlq]);
    const count = 12;
    const failing = new Set<string>();
    const sent = new Map<string, { key: string; value: Uint8Array }>();
    const messages = Array.from({ length: count }, (_, i) => {
      const id = `${scope.prefix}-${i}`;
      if (i % 4 === 1) failing.add(id);
      const value = pseudoRandomBytes(32 + i, i + 1);
      sent.set(id, { key: `k-${i}`, value });
      return message(value, { [Headers.messageId]: id }, `k-${i}`);
    });
    await scope.producer().sendBatch(topic, messages);

    const calls = new Map<string, number>();
    const handler = async (m: ReceivedMessage) => {
      const id = header(m, Headers.messageId);
      calls.set(id, (calls.get(id) ?? 0) + 1);
      if (failing.has(id)) throw new Error(`conformance refuses ${id}`);
    };
    const maxAttempts = 3;
    const policy: RetryPolicy = { maxAttempts, initialDelayMs: 20, multiplier: 2, maxDelayMs: 5_000, jitter: 0.2 };
    const stats = await retryUntil(context, worker, handler, policy, (s) => s.processed + s.deadLettered >= count, ms(1000));

    expect(stats).toEqual({ processed: count - failing.size, deadLettered: failing.size, retries: failing.size * (maxAttempts - 1) });
    for (const id of sent.keys()) {
      expect(calls.get(id), `handler calls for ${id}`).toBe(failing.has(id) ? maxAttempts : 1);
    }

    const dead = await collect(dlqReader, failing.size, { deadlineMs: ms(30_000), settleMs: ms(1000) });
    const deadIds = dead.map((m) => header(m, Headers.messageId));
    expect(duplicatesOf(deadIds), 'each dead letter once').toEqual([]);
    expect([...deadIds].sort(), 'the DLQ holds exactly the failed messages').toEqual([...failing].sort());
    for (const m of dead) {
      const id = header(m, Headers.messageId);
      const original = sent.get(id);
      if (!original) expect.fail(`unexpected dead letter ${id}`);
      expectBytes(m.value, original.value, `dead letter ${id}`);
      expect(m.key).toBe(original.key);
      expect(m.topic).toBe(dlq);
      expect(header(m, Headers.deadLetterOrigin)).toBe(topic);
      expect(header(m, Headers.deadLetterAttempts)).toBe(String(maxAttempts));
      expect(header(m, Headers.deadLetterReason)).toBe(`conformance refuses ${id}`);
      const history = retryHistoryOf(m.headers);
      expect(history.map((a) => a.attempt)).toEqual([1, 2, 3]);
      const delays = history.map((a) => a.delayMs);
      expect(delays[0] ?? 0, `delays grow: ${delays.join(', ')}`).toBeGreaterThan(0);
      expect(delays[1] ?? 0, `delays grow: ${delays.join(', ')}`).toBeGreaterThan(delays[0] ?? 0);
      expect(delays[2], 'no wait after the last attempt').toBe(0);
    }
  },
};

function memoryCheckpoint(): CheckpointStore & { state: unknown } {
  const store = {
    state: undefined as unknown,
    load: async () => store.state,
    save: async (state: unknown) => {
      store.state = state;
    },
  };
  return store;
}

async function browseCount(context: CaseContext, destination: string): Promise<number> {
  const page = await context.adapter.browse({
    destination,
    start: { from: 'oldest' },
    limit: 500,
    force: context.adapter.capabilities.peekIsDestructive,
  });
  return page.messages.length;
}

export const redrive: CaseDefinition = {
  name: 'redrive',
  title: 'redrive moves every dead letter back to its origin, byte-exact, none lost, DLQ left empty',
  timeoutMs: 150_000,
  async run(context) {
    const { adapter, scope, ms } = context;
    const origin = await scope.destination(scope.name('origin'));
    const dlq = await scope.destination(adapter.deadLetterNameFor(origin));
    const group = scope.group('worker');
    const worker = await scope.subscribed(group, [origin], 50);
    const count = 20;
    const sent = new Map<string, { key: string; value: Uint8Array }>();
    const messages = Array.from({ length: count }, (_, i) => {
      const id = `${scope.prefix}-${i}`;
      const value = pseudoRandomBytes(64, 1000 + i);
      sent.set(id, { key: `k-${i}`, value });
      return message(value, { [Headers.messageId]: id }, `k-${i}`);
    });
    await scope.producer().sendBatch(origin, messages);
    const policy: RetryPolicy = { maxAttempts: 2, initialDelayMs: 1, multiplier: 2, maxDelayMs: 10, jitter: 0 };
    const stats = await retryUntil(
      context,
      worker,
      async () => {
        throw new Error('poison');
      },
      policy,
      (s) => s.deadLettered >= count,
      0,
    );
    expect(stats.deadLettered, 'every message dead-lettered').toBe(count);
    await worker.close();

    const inDlq = await waitFor(() => browseCount(context, dlq), (n) => n >= count, ms(20_000));
    expect(inDlq, 'the DLQ holds every dead letter before the redrive').toBe(count);

    const dry = await adapter.redrive(
      { taskId: `${scope.prefix}-dry`, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: true },
      { signal: new AbortController().signal, onProgress: () => {}, checkpoint: memoryCheckpoint() },
    );
    expect(dry.outcome, `dry run: ${dry.error ?? ''}`).toBe('completed');
    expect(dry.moved, 'a dry run reports in `moved` how many would move').toBe(count);
    expect(await browseCount(context, dlq), 'a dry run moves nothing').toBe(count);

    const taskId = `${scope.prefix}-task`;
    const progress: RedriveProgress[] = [];
    const report = await adapter.redrive(
      { taskId, source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false },
      { signal: new AbortController().signal, onProgress: (p) => progress.push({ ...p }), checkpoint: memoryCheckpoint() },
    );
    expect(report.outcome, `redrive: ${report.error ?? ''}`).toBe('completed');
    expect(report.moved).toBe(count);
    expect(report.failed).toBe(0);
    expect(report.failures).toEqual([]);
    const moved = progress.map((p) => p.moved);
    expect(moved.length, 'the redrive reports progress').toBeGreaterThan(0);
    expect(
      moved.every((n, i) => i === 0 || n >= (moved[i - 1] ?? 0)),
      `progress only moves forward: ${moved.join(', ')}`,
    ).toBe(true);
    expect(moved[moved.length - 1], `the last progress event counts every moved message: ${moved.join(', ')}`).toBe(count);

    const back = await scope.subscribed(group, [origin]);
    const received = await collect(back, count, { deadlineMs: ms(60_000), settleMs: ms(1500) });
    const ids = received.map((m) => header(m, Headers.messageId));
    expect(duplicatesOf(ids).length, 'duplicates at the origin are at most what the report admits').toBeLessThanOrEqual(report.possiblyDuplicated);
    expect([...new Set(ids)].sort(), 'every dead letter is back at its origin').toEqual([...sent.keys()].sort());
    for (const m of received) {
      const id = header(m, Headers.messageId);
      const original = sent.get(id);
      if (!original) expect.fail(`unexpected message ${id} at the origin`);
      expectBytes(m.value, original.value, `redriven ${id}`);
      expect(m.key).toBe(original.key);
      expect(m.topic).toBe(origin);
      expect(header(m, Headers.redrivenFrom)).toBe(dlq);
      expect(header(m, Headers.redriveTask)).toBe(taskId);
    }
    const left = await waitFor(() => browseCount(context, dlq), (n) => n === 0, ms(20_000));
    expect(left, 'the DLQ is empty after redriving all').toBe(0);
  },
};

export const idempotentConsumer: CaseDefinition = {
  name: 'idempotent',
  title: "core's idempotent wrapper skips a duplicate send and a redelivery after close",
  timeoutMs: 120_000,
  async run({ scope, ms }) {
    const topic = await scope.destination(scope.name());
    const group = scope.group('g');
    const first = await scope.subscribed(group, [topic]);
    const distinct = 10;
    const messages = Array.from({ length: distinct }, (_, i) => message(`i-${i}`, { [Headers.messageId]: `${scope.prefix}-${i}` }, `k-${i}`));
    const duplicate = messages[3];
    if (!duplicate) throw new Error('unreachable');
    await scope.producer().sendBatch(topic, [...messages, { ...duplicate, timestamp: new Date() }]);

    const handled = new Map<string, number>();
    const handle = idempotent(
      async (m) => {
        const id = header(m, Headers.messageId);
        handled.set(id, (handled.get(id) ?? 0) + 1);
      },
      { store: new BoundedDedupeStore(1000) },
    );

    const firstRound = await collect(first, distinct + 1, { deadlineMs: ms(30_000), commit: false, settleMs: ms(500) });
    expect(firstRound.length, 'the duplicate send arrives as its own message').toBe(distinct + 1);
    for (const m of firstRound) await handle(m);
    await first.close();

    const second = await scope.subscribed(group, [topic]);
    const redelivered = await collect(second, distinct + 1, { deadlineMs: ms(60_000), settleMs: ms(1000) });
    expect(redelivered.length, 'everything uncommitted is redelivered').toBe(distinct + 1);
    for (const m of redelivered) await handle(m);

    expect([...handled.values()], 'each id handled exactly once').toEqual(Array.from({ length: distinct }, () => 1));
    expect(handled.size).toBe(distinct);
    expect(handle.stats).toEqual({ handled: distinct, duplicates: 1 + distinct + 1, withoutIdentity: 0 });
  },
};
