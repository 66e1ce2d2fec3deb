import {
  CancelMessageMoveTaskCommand,
  type CancelMessageMoveTaskCommandOutput,
  ListMessageMoveTasksCommand,
  StartMessageMoveTaskCommand,
  type ListMessageMoveTasksResultEntry,
  type Message as SqsMessage,
} from '@aws-sdk/client-sqs';
import {
  Headers,
  InvalidInputError,
  MailroomError,
  RateLimiter,
  sleep,
  type RedriveContext,
  type RedriveProgress,
  type RedriveReport,
  type RedriveRequest,
} from '@mailroom/core';
import type { SqsConnection } from './connection';
import { queueContext } from './context';
import { PartialBatchError } from './errors';
import { queueNameFromArn, validateQueueName } from './names';
import { deadLetterSourceQueues, loadQueue, type QueueInfo } from './queues';
import { receive } from './receive';
import { redriveCopy } from './redrive-copy';
import { sendMessages } from './send';
import { toStoredMessage, type QueueContext } from './stored';
import { deleteMessages, release, type HeldMessage } from './visibility';

/** SQS's bounds for MaxNumberOfMessagesPerSecond of a message move task. */
const NATIVE_RATE_MIN = 1;
const NATIVE_RATE_MAX = 500;
const PROGRESS_INTERVAL_MS = 250;
/** How long a native move waits for messages held in flight (e.g. by a browse) to become visible again. */
const IN_FLIGHT_WAIT_MS = 15_000;

interface NativeState {
  mode: 'native';
  handle: string;
  /** Moved by earlier tasks of this redrive (a cancelled task resumed by a new one). */
  movedBefore: number;
  startedAfter: number;
  startedTimestamp: number | null;
  lastMoved: number;
}

interface ManualState {
  mode: 'manual';
  moved: number;
  failed: number;
  skipped: number;
  possiblyDuplicated: number;
  /** Source message ids whose copy may or may not have reached the target (crash during the send). */
  sending: string[];
  /** Source message ids whose copy is durable at the target but which are not yet deleted from the source. */
  sent: string[];
}

type State = NativeState | ManualState;

function freshManualState(): ManualState {
  return { mode: 'manual', moved: 0, failed: 0, skipped: 0, possiblyDuplicated: 0, sending: [], sent: [] };
}

function restore(raw: unknown): State | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const s = raw as { [K in keyof NativeState | keyof ManualState]?: unknown };
  if (s.mode === 'native' && typeof s.handle === 'string') {
    return {
      mode: 'native',
      handle: s.handle as string,
      movedBefore: Number(s.movedBefore) || 0,
      startedAfter: Number(s.startedAfter) || 0,
      startedTimestamp: typeof s.startedTimestamp === 'number' ? s.startedTimestamp : null,
      lastMoved: Number(s.lastMoved) || 0,
    };
  }
  if (s.mode === 'manual') {
    return {
      mode: 'manual',
      moved: Number(s.moved) || 0,
      failed: Number(s.failed) || 0,
      skipped: Number(s.skipped) || 0,
      possiblyDuplicated: Number(s.possiblyDuplicated) || 0,
      sending: Array.isArray(s.sending) ? s.sending.filter((x): x is string => typeof x === 'string') : [],
      sent: Array.isArray(s.sent) ? s.sent.filter((x): x is string => typeof x === 'string') : [],
    };
  }
  return null;
}

function report(progress: RedriveProgress, outcome: RedriveReport['outcome'], error: string | null, failures: { id: string; reason: string }[]): RedriveReport {
  return { ...progress, outcome, error, failures };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function validate(request: RedriveRequest): void {
  if (typeof request.taskId !== 'string' || request.taskId === '') throw new InvalidInputError('A redrive needs a taskId');
  validateQueueName(request.source);
  if (request.target !== null) validateQueueName(request.target);
  if (request.target === request.source) throw new InvalidInputError('A redrive cannot move messages to the queue they are in');
  if (request.ratePerSecond !== null && (typeof request.ratePerSecond !== 'number' || !(request.ratePerSecond > 0))) {
    throw new InvalidInputError(`ratePerSecond must be a positive number or null, got ${request.ratePerSecond}`);
  }
  const kind = request.selection?.kind;
  if (kind !== 'all' && kind !== 'ids' && kind !== 'filter') throw new InvalidInputError('selection must be all, ids or filter');
  if (kind === 'ids' && (!Array.isArray(request.selection.ids) || request.selection.ids.length === 0)) {
    throw new InvalidInputError('selection ids must be a non-empty list of message ids');
  }
}

function approximate(info: QueueInfo, name: string): number | null {
  const n = Number(info.attributes[name]);
  return Number.isFinite(n) ? n : null;
}

/**
 * Redrive on SQS. `all` from a queue that is a dead-letter queue by RedrivePolicy uses SQS's
 * own message move task (StartMessageMoveTask; progress from ListMessageMoveTasks; abort →
 * CancelMessageMoveTask; the task handle is the checkpoint). Everything else (ids, filter,
 * DLQs by naming convention whose messages name their origin in Mailroom headers, rates SQS
 * does not take, endpoints without move tasks) is receive → send → delete, deleting only
 * after the send succeeded; that path resumes naturally, as a deleted message is done.
 */
export async function redriveQueue(connection: SqsConnection, request: RedriveRequest, context: RedriveContext, suffix: string): Promise<RedriveReport> {
  validate(request);
  const source = await loadQueue(connection, request.source, context.signal);
  const target = request.target === null ? null : await loadQueue(connection, request.target, context.signal);
  const queueCtx = await queueContext(connection, source, suffix, context.signal);
  if (request.dryRun) return dryRun(connection, request, source, queueCtx, context);

  const state = restore(await context.checkpoint.load());
  const sources = state === null ? await nativeSources(connection, request, source) : [];
  if (state?.mode === 'native' || sources.length > 0) {
    // Back to the origin: its ARN explicitly when the DLQ has one source; with several, SQS sends each message to its own source.
    const nativeTarget = target ?? (sources.length === 1 ? await loadQueue(connection, sources[0]!, context.signal) : null);
    const native = await runNative(connection, request, source, nativeTarget, context, state?.mode === 'native' ? state : null);
    if (typeof native !== 'number') return native;
    // The move task failed (e.g. AWS: CouldNotDetermineMessageSource for messages Mailroom dead-lettered): finish by hand.
    return runManual(connection, request, source, queueCtx, context, { ...freshManualState(), moved: native });
  }
  return runManual(connection, request, source, queueCtx, context, state?.mode === 'manual' ? state : null);
}

/** The queues whose RedrivePolicy names `source` when a native move task applies; [] when it does not. */
async function nativeSources(connection: SqsConnection, request: RedriveRequest, source: QueueInfo): Promise<string[]> {
  if (request.selection.kind !== 'all' || source.arn === null) return [];
  const rate = request.ratePerSecond;
  if (rate !== null && (rate < NATIVE_RATE_MIN || rate > NATIVE_RATE_MAX || !Number.isInteger(rate))) return [];
  // SQS moves only out of a queue that is some queue's dead-letter queue by RedrivePolicy.
  return deadLetterSourceQueues(connection, source.name, source.url).catch(() => []);
}

async function listTasks(connection: SqsConnection, sourceArn: string, signal: AbortSignal): Promise<ListMessageMoveTasksResultEntry[]> {
  const out = await connection.run(
    'ListMessageMoveTasks',
    (o) => connection.client.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }), o),
    { signal },
  );
  return out.Results ?? [];
}

/** Our task among the most recent ones: by handle (SQS gives it only while RUNNING), else by start time. */
function findTask(tasks: ListMessageMoveTasksResultEntry[], state: NativeState): ListMessageMoveTasksResultEntry | null {
  const byHandle = tasks.find((t) => t.TaskHandle === state.handle);
  if (byHandle) return byHandle;
  if (state.startedTimestamp !== null) return tasks.find((t) => t.StartedTimestamp === state.startedTimestamp) ?? null;
  const recent = tasks.filter((t) => (t.StartedTimestamp ?? 0) >= state.startedAfter - 5000);
  return recent.length === 1 ? recent[0]! : null;
}

async function runNative(
  connection: SqsConnection,
  request: RedriveRequest,
  source: QueueInfo,
  target: QueueInfo | null,
  context: RedriveContext,
  resumed: NativeState | null,
): Promise<RedriveReport | number> {
  // A number: the task could not finish (or could not start) and moved that many; the manual path takes over.
  const sourceArn = source.arn!;
  const signal = context.signal;
  let state: NativeState | null = resumed;
  const progress: RedriveProgress = { moved: state?.movedBefore ?? 0, failed: 0, skipped: 0, remaining: null, possiblyDuplicated: 0 };

  if (state !== null) {
    // Resuming: the task may still run on SQS, or have ended while we were away.
    const task = findTask(await listTasks(connection, sourceArn, signal), state);
    const status = task?.Status;
    if (task && (status === 'RUNNING' || status === 'COMPLETED')) {
      progress.moved = state.movedBefore + (task.ApproximateNumberOfMessagesMoved ?? 0);
      if (status === 'COMPLETED') {
        progress.remaining = 0;
        context.onProgress({ ...progress });
        return report(progress, 'completed', null, []);
      }
    } else {
      // Cancelled, failed or no longer listed: a new task moves what is left; moved messages are gone from the source.
      state = { ...state, movedBefore: state.movedBefore + (task?.ApproximateNumberOfMessagesMoved ?? state.lastMoved) };
      progress.moved = state.movedBefore;
      const before = state.movedBefore;
      state = await startTask(connection, request, sourceArn, target, before, context);
      if (state === null) return before;
    }
  } else {
    state = await startTask(connection, request, sourceArn, target, 0, context);
    if (state === null) return 0;
  }

  let cancelled = false;
  let lastSave = Date.now();
  for (;;) {
    if (signal.aborted && !cancelled) {
      cancelled = true;
      const handle: string = state.handle;
      try {
        const out: CancelMessageMoveTaskCommandOutput = await connection.run('CancelMessageMoveTask', (o) => connection.client.send(new CancelMessageMoveTaskCommand({ TaskHandle: handle }), o));
        state = { ...state, lastMoved: Math.max(state.lastMoved, out.ApproximateNumberOfMessagesMoved ?? 0) };
        progress.moved = state.movedBefore + state.lastMoved;
        await context.checkpoint.save(state);
      } catch (error) {
        // Already finished: its final numbers come from the listing below.
        if (!(error instanceof MailroomError) || error.code !== 'NOT_FOUND') {
          return report(progress, 'failed', `Cancelling the SQS message move task failed: ${errorText(error)}`, []);
        }
      }
    }
    const never = new AbortController().signal;
    const task = findTask(await listTasks(connection, sourceArn, never), state);
    if (task) {
      if (task.StartedTimestamp !== undefined && state.startedTimestamp === null) state = { ...state, startedTimestamp: task.StartedTimestamp };
      const movedNow = task.ApproximateNumberOfMessagesMoved ?? 0;
      state = { ...state, lastMoved: Math.max(state.lastMoved, movedNow) };
      progress.moved = state.movedBefore + state.lastMoved;
      const toMove = task.ApproximateNumberOfMessagesToMove;
      progress.remaining = task.Status === 'COMPLETED' ? 0 : toMove !== undefined && toMove > 0 ? Math.max(0, toMove - movedNow) : null;
    }
    context.onProgress({ ...progress });
    if (Date.now() - lastSave > 1000) {
      await context.checkpoint.save(state);
      lastSave = Date.now();
    }
    const status = task?.Status;
    if (status === 'COMPLETED') {
      await context.checkpoint.save(state);
      return report(progress, cancelled ? 'cancelled' : 'completed', null, []);
    }
    if (status === 'FAILED') {
      await context.checkpoint.save({ ...state, lastMoved: state.lastMoved });
      if (request.target === null && !cancelled) return progress.moved;
      return report(progress, 'failed', `SQS message move task failed: ${task?.FailureReason ?? 'no reason given'}`, []);
    }
    if (status === 'CANCELLED' || (cancelled && (task === null || status !== 'CANCELLING'))) {
      // ElasticMQ forgets a cancelled task at once; AWS lists it as CANCELLED.
      await context.checkpoint.save(state);
      return report({ ...progress, remaining: null }, 'cancelled', null, []);
    }
    if (task === null && !cancelled) {
      await context.checkpoint.save(state);
      return report(progress, 'failed', 'The SQS message move task is no longer listed; run the redrive again to continue', []);
    }
    await sleep(500, cancelled ? undefined : signal);
  }
}

/**
 * Waits until no message of the source is in flight (a browse holds messages invisible for its few
 * seconds). ElasticMQ's move task moves an in-flight message but keeps it invisible on the
 * destination, out of every count, until its visibility timeout ends — the browse's release then
 * fails, as the receipt is gone. False when some are still in flight after IN_FLIGHT_WAIT_MS.
 */
async function noneInFlight(connection: SqsConnection, queue: string, signal: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + IN_FLIGHT_WAIT_MS;
  for (;;) {
    const attributes = await connection.attributes(queue, ['ApproximateNumberOfMessagesNotVisible'], signal);
    if (Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0) === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(200, signal);
  }
}

async function startTask(
  connection: SqsConnection,
  request: RedriveRequest,
  sourceArn: string,
  target: QueueInfo | null,
  movedBefore: number,
  context: RedriveContext,
): Promise<NativeState | null> {
  // Still in flight: the manual path (receive → send → delete) moves them once they are visible.
  if (!(await noneInFlight(connection, queueNameFromArn(sourceArn), context.signal))) return null;
  const startedAfter = Date.now();
  let handle: string | undefined;
  try {
    const out = await connection.run(
      'StartMessageMoveTask',
      (o) =>
        connection.client.send(
          new StartMessageMoveTaskCommand({
            SourceArn: sourceArn,
            ...(target?.arn ? { DestinationArn: target.arn } : {}),
            ...(request.ratePerSecond !== null ? { MaxNumberOfMessagesPerSecond: request.ratePerSecond } : {}),
          }),
          o,
        ),
      { signal: context.signal },
    );
    handle = out.TaskHandle;
  } catch (error) {
    // Endpoints without move tasks: the manual path does the same work.
    if (error instanceof MailroomError && error.code === 'UNSUPPORTED') return null;
    throw error;
  }
  if (!handle) return null;
  const state: NativeState = { mode: 'native', handle, movedBefore, startedAfter, startedTimestamp: null, lastMoved: 0 };
  await context.checkpoint.save(state);
  return state;
}

function originOf(message: SqsMessage, headers: Record<string, string>, queueCtx: QueueContext): string | null {
  const arn = message.Attributes?.DeadLetterQueueSourceArn;
  if (arn) return queueNameFromArn(arn);
  const header = headers[Headers.deadLetterOrigin];
  if (header) return header;
  return queueCtx.deadLetterSources.length === 1 ? queueCtx.deadLetterSources[0]! : null;
}

async function dryRun(
  connection: SqsConnection,
  request: RedriveRequest,
  source: QueueInfo,
  queueCtx: QueueContext,
  context: RedriveContext,
): Promise<RedriveReport> {
  if (request.selection.kind === 'all') {
    const depth = approximate(source, 'ApproximateNumberOfMessages') ?? 0;
    const progress = { moved: depth, failed: 0, skipped: 0, remaining: depth, possiblyDuplicated: 0 };
    context.onProgress(progress);
    return report(progress, 'completed', null, []);
  }
  return runManual(connection, request, source, queueCtx, context, null);
}

async function runManual(
  connection: SqsConnection,
  request: RedriveRequest,
  source: QueueInfo,
  queueCtx: QueueContext,
  context: RedriveContext,
  resumed: ManualState | null,
): Promise<RedriveReport> {
  const signal = context.signal;
  const state: ManualState = resumed ?? freshManualState();
  // A crash during a send leaves copies that may exist: counted once, when resuming.
  if (state.sending.length > 0) {
    state.possiblyDuplicated += state.sending.length;
    state.sending = [];
  }
  const sent = new Set(state.sent);
  const wanted = request.selection.kind === 'ids' ? new Set(request.selection.ids) : null;
  const found = new Set<string>();
  const failures: { id: string; reason: string }[] = [];
  const limiter = new RateLimiter(request.ratePerSecond);
  const hold = Math.max(60, connection.config.peekHoldSeconds);
  const examined = new Set<string>();
  const held: HeldMessage[] = [];
  let wouldMove = 0;
  const depthAtStart = approximate(source, 'ApproximateNumberOfMessages');
  const progress = (): RedriveProgress => ({
    moved: request.dryRun ? wouldMove : state.moved,
    failed: state.failed,
    skipped: state.skipped,
    remaining:
      wanted !== null ? wanted.size - found.size : request.selection.kind === 'all' && depthAtStart !== null ? Math.max(0, depthAtStart - state.moved - state.failed) : null,
    possiblyDuplicated: state.possiblyDuplicated,
  });
  let lastProgress = 0;
  const tick = (force = false) => {
    if (force || Date.now() - lastProgress >= PROGRESS_INTERVAL_MS) {
      lastProgress = Date.now();
      context.onProgress(progress());
    }
  };
  const save = () => (request.dryRun ? Promise.resolve() : context.checkpoint.save({ ...state, sent: [...sent] }));
  const fail = (id: string, reason: string) => {
    state.failed++;
    failures.push({ id, reason });
  };

  let outcome: RedriveReport['outcome'] = 'completed';
  let error: string | null = null;
  try {
    while (!signal.aborted) {
      if (wanted !== null && found.size === wanted.size) break;
      // Not aborted by the task's signal: a receive cut short has still hidden what SQS handed out
      // (for `hold` seconds) with nobody left to release it. It is short (1 s wait) and released below.
      const got = await receive(connection, source.name, source.url, { max: 10, waitSeconds: 1, visibilityTimeout: hold });
      if (signal.aborted) {
        for (const message of got) {
          if (message.MessageId && message.ReceiptHandle) held.push({ queue: source.name, url: source.url, messageId: message.MessageId, receiptHandle: message.ReceiptHandle });
        }
        break;
      }
      if (got.length === 0) break;
      let wrapped = false;
      const toDelete: HeldMessage[] = [];
      const toMove = new Map<string, { message: SqsMessage; held: HeldMessage }[]>();
      for (const message of got) {
        const id = message.MessageId;
        if (!id || !message.ReceiptHandle) continue;
        const heldMessage: HeldMessage = { queue: source.name, url: source.url, messageId: id, receiptHandle: message.ReceiptHandle };
        if (examined.has(id)) {
          wrapped = true;
          held.push(heldMessage);
          continue;
        }
        examined.add(id);
        if (sent.has(id)) {
          toDelete.push(heldMessage); // its copy is already at the target: finish the move without sending again
          continue;
        }
        const stored = toStoredMessage(message, queueCtx);
        const selected =
          request.selection.kind === 'all' ||
          (request.selection.kind === 'ids' ? wanted!.has(id) : request.selection.predicate(stored));
        if (!selected) {
          state.skipped++;
          held.push(heldMessage);
          continue;
        }
        if (wanted !== null) found.add(id);
        const destination = request.target ?? originOf(message, stored.headers, queueCtx);
        if (request.dryRun) {
          wouldMove++;
          held.push(heldMessage);
          continue;
        }
        if (destination === null) {
          fail(id, `origin unknown: the message has no DeadLetterQueueSourceArn or ${Headers.deadLetterOrigin} header; choose a target queue`);
          held.push(heldMessage);
          continue;
        }
        try {
          validateQueueName(destination);
        } catch {
          fail(id, `origin ${JSON.stringify(destination)} is not a valid SQS queue name`);
          held.push(heldMessage);
          continue;
        }
        const list = toMove.get(destination) ?? [];
        list.push({ message, held: heldMessage });
        toMove.set(destination, list);
      }

      for (const [destination, entries] of toMove) {
        await limiter.take(entries.length, signal);
        if (signal.aborted) {
          held.push(...entries.map((e) => e.held));
          break;
        }
        const copies = entries.map((e) =>
          redriveCopy(e.message, destination, { [Headers.redrivenFrom]: source.name, [Headers.redriveTask]: request.taskId }),
        );
        state.sending = entries.map((e) => e.held.messageId);
        await save();
        let okIndexes: number[] = entries.map((_, i) => i);
        try {
          await sendMessages(connection, destination, copies);
        } catch (e) {
          if (e instanceof PartialBatchError) {
            const failed = new Set(e.failures.map((f) => f.index));
            okIndexes = okIndexes.filter((i) => !failed.has(i));
            for (const f of e.failures) {
              const entry = entries[f.index]!;
              fail(entry.held.messageId, `send to ${destination} failed: ${f.code} ${f.message}`);
              held.push(entry.held);
            }
          } else {
            for (const entry of entries) {
              fail(entry.held.messageId, `send to ${destination} failed: ${errorText(e)}`);
              held.push(entry.held);
            }
            if (!(e instanceof MailroomError) || e.code === 'UNAVAILABLE' || e.code === 'CLOSED') throw e;
            okIndexes = [];
          }
        }
        for (const i of okIndexes) {
          sent.add(entries[i]!.held.messageId);
          toDelete.push(entries[i]!.held);
        }
        state.sending = [];
        await save();
      }

      if (toDelete.length > 0) {
        const outcomeOfDelete = await deleteMessages(connection, toDelete);
        for (const ok of outcomeOfDelete.succeeded) {
          sent.delete(ok.messageId);
          state.moved++;
        }
        for (const f of outcomeOfDelete.failures) {
          // The copy is at the target and the original stays: a later run finishes it (the checkpoint knows it was sent).
          state.possiblyDuplicated++;
          failures.push({ id: f.held.messageId, reason: `copied, but deleting it from ${source.name} failed: ${f.code} ${f.message}` });
        }
        await save();
      }
      tick();
      if (wrapped) break;
    }
    if (signal.aborted) outcome = 'cancelled';
  } catch (e) {
    outcome = 'failed';
    error = errorText(e);
  } finally {
    await release(connection, held);
  }
  if (wanted !== null && outcome === 'completed') {
    for (const id of wanted) if (!found.has(id)) fail(id, `not found in ${source.name} (already moved, in flight with a consumer, or delayed)`);
  }
  await save().catch(() => undefined);
  tick(true);
  return report(progress(), outcome, error, failures);
}
