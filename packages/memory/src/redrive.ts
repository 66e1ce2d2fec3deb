import {
  InvalidInputError,
  RateLimiter,
  type PublishProperties,
  type RedriveContext,
  type RedriveProgress,
  type RedriveReport,
  type RedriveRequest,
  type StoredMessage,
} from '@mailroom/core';
import type { MemoryBroker } from './broker';
import { assertValidDestinationName } from './names';
import { parseRecordId, recordId, type MemoryRecord } from './record';
import { deadLetterInfoOf, redrivenHeaders } from './stored';

interface Checkpoint {
  v: 1;
  taskId: string;
  /** Moved by earlier runs of this task. */
  moved: number;
  /** For an id selection: ids already moved, skipped when the task resumes. */
  movedIds: string[];
}

function isCheckpoint(value: unknown, taskId: string): value is Checkpoint {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Partial<Checkpoint>;
  return c.v === 1 && c.taskId === taskId && typeof c.moved === 'number' && Array.isArray(c.movedIds);
}

export interface RedriveEnvironment {
  broker: MemoryBroker;
  /** The origin a declared DLQ link names for `dlq` when there is exactly one. */
  linkedOrigin(dlq: string): string | null;
  toStored(record: MemoryRecord, destination: string): StoredMessage;
}

const PROGRESS_EVERY = 100;
const PROGRESS_MS = 250;

function validate(request: RedriveRequest): void {
  if (typeof request.taskId !== 'string' || request.taskId.length === 0 || request.taskId.length > 200) {
    throw new InvalidInputError('A redrive needs a taskId of 1 to 200 characters');
  }
  assertValidDestinationName(request.source);
  if (request.target !== null) assertValidDestinationName(request.target);
  if (request.ratePerSecond !== null && (!Number.isFinite(request.ratePerSecond) || request.ratePerSecond <= 0)) {
    throw new InvalidInputError(`ratePerSecond must be a positive number or null, got ${request.ratePerSecond}`);
  }
  const selection = request.selection;
  if (selection.kind === 'ids' && (!Array.isArray(selection.ids) || selection.ids.some((id) => typeof id !== 'string'))) {
    throw new InvalidInputError('An id selection needs an array of message ids');
  }
  if (selection.kind === 'filter' && typeof selection.predicate !== 'function') throw new InvalidInputError('A filter selection needs a compiled predicate');
}

/**
 * Moves dead letters back: each copy is stored at its target before the source record is
 * removed, in one synchronous step, so nothing is lost and nothing is duplicated.
 */
export async function redrive(env: RedriveEnvironment, request: RedriveRequest, context: RedriveContext): Promise<RedriveReport> {
  validate(request);
  const { broker } = env;
  const source = broker.get(request.source);
  if (request.target !== null) broker.get(request.target);

  const loaded = request.dryRun ? undefined : await context.checkpoint.load();
  const checkpoint: Checkpoint = isCheckpoint(loaded, request.taskId) ? loaded : { v: 1, taskId: request.taskId, moved: 0, movedIds: [] };
  const alreadyMoved = new Set(checkpoint.movedIds);

  // Snapshot what to examine now, so messages arriving during the redrive (even at the source) are not chased.
  const selected: MemoryRecord[] = [];
  const failures: { id: string; reason: string }[] = [];
  let skipped = 0;
  const selection = request.selection;
  if (selection.kind === 'ids') {
    for (const id of selection.ids) {
      if (alreadyMoved.has(id)) continue;
      const ref = parseRecordId(id);
      const record = ref ? source.get(ref.partition, ref.offset) : null;
      if (record) selected.push(record);
      else failures.push({ id, reason: `not in ${source.name} (already moved or removed)` });
    }
  } else {
    for (const log of source.partitions) {
      for (let at = log.low; at < log.high; at++) {
        const record = log.get(at);
        if (!record) continue;
        if (selection.kind === 'filter' && !selection.predicate(env.toStored(record, source.name))) skipped++;
        else selected.push(record);
      }
    }
  }

  const linked = env.linkedOrigin(source.name);
  const targetOf = (record: MemoryRecord): { target: string } | { reason: string } => {
    const target = request.target ?? deadLetterInfoOf(record.headers, linked)?.origin ?? null;
    if (target === null) return { reason: 'the message does not say where it came from; choose a target' };
    if (target === source.name) return { reason: 'the target is the dead-letter queue itself' };
    if (!broker.destinations.has(target)) return { reason: `target ${target} does not exist` };
    return { target };
  };

  const progress: RedriveProgress = {
    moved: checkpoint.moved,
    failed: failures.length,
    skipped,
    remaining: selected.length,
    possiblyDuplicated: 0,
  };
  const report = (outcome: RedriveReport['outcome'], error: string | null = null): RedriveReport => {
    context.onProgress({ ...progress });
    return { ...progress, outcome, error, failures: failures.slice(0, 1000) };
  };

  if (request.dryRun) {
    for (const record of selected) {
      const where = targetOf(record);
      if ('target' in where) progress.moved++;
      else {
        progress.failed++;
        failures.push({ id: recordId(record.partition, record.offset), reason: where.reason });
      }
    }
    progress.remaining = 0;
    return report('completed');
  }

  const limiter = new RateLimiter(request.ratePerSecond);
  let lastProgress = Date.now();
  let sinceProgress = 0;
  const save = () => context.checkpoint.save({ ...checkpoint, moved: progress.moved } satisfies Checkpoint);
  for (const record of selected) {
    await limiter.take(1, context.signal);
    if (context.signal.aborted) {
      await save();
      return report('cancelled');
    }
    const id = recordId(record.partition, record.offset);
    progress.remaining = (progress.remaining ?? 1) - 1;
    if (source.get(record.partition, record.offset) !== record) continue;
    const where = targetOf(record);
    if ('reason' in where) {
      progress.failed++;
      failures.push({ id, reason: where.reason });
    } else {
      broker.append(
        where.target,
        { key: record.key, value: record.value, timestamp: record.timestamp, headers: redrivenHeaders(record.headers, source.name, request.taskId) },
        publishPropertiesOf(record.properties),
      );
      source.partitions[record.partition]?.remove(record.offset);
      progress.moved++;
      if (selection.kind === 'ids') checkpoint.movedIds.push(id);
    }
    sinceProgress++;
    if (sinceProgress >= PROGRESS_EVERY || Date.now() - lastProgress >= PROGRESS_MS) {
      sinceProgress = 0;
      lastProgress = Date.now();
      await save();
      context.onProgress({ ...progress });
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await save();
  return report('completed');
}

function publishPropertiesOf(properties: Record<string, string>): PublishProperties {
  const out: PublishProperties = {};
  if (properties['messageId'] !== undefined) out.messageId = properties['messageId'];
  if (properties['correlationId'] !== undefined) out.correlationId = properties['correlationId'];
  if (properties['replyTo'] !== undefined) out.replyTo = properties['replyTo'];
  if (properties['contentType'] !== undefined) out.contentType = properties['contentType'];
  return out;
}
