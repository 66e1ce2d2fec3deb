import {
  Headers,
  InvalidInputError,
  NotFoundError,
  RateLimiter,
  type RedriveContext,
  type RedriveProgress,
  type RedriveReport,
  type RedriveRequest,
} from '@mailroom/core';
import type { Admin, IHeaders, Kafka, Producer } from 'kafkajs';
import { createKafkaProducer } from './client';
import { SpringDlt, toStoredMessage, type DeadLetterContext } from './codec';
import { toMailroomError } from './errors';
import type { RawKafka, RawRecord } from './raw';
import { ensureLedger, ledgerEntry, ledgerPartitions, LEDGER_TOPIC, readRedriven, wasRedriven, type LedgerEntry, type RedrivenOffsets } from './redrive-ledger';

export interface RedriveDeps {
  kafka: Kafka;
  raw: RawKafka;
  admin: () => Promise<Admin>;
  deadLetter: (topic: string) => DeadLetterContext;
  /** Remove moved records from the DLQ by advancing its log start (DeleteRecords) where that removes only moved records. */
  deleteMovedRecords: boolean;
  /** For creating the redrive ledger topic on first use. */
  replicationFactor: number;
  requestTimeoutMs: number;
}

/** What ctx.checkpoint holds for one task. Positions themselves live in the progress group's offsets. */
interface Checkpoint {
  v: 1;
  taskId: string;
  source: string;
  /** Partition → first offset to examine, fixed when the task started. */
  starts: Record<string, number>;
  /** Partition → offset to stop before, fixed when the task started: later dead letters are not part of this task. */
  ends: Record<string, number>;
  failures: { id: string; reason: string }[];
  completed: RedriveReport | null;
}

/** Per-partition counters, committed with the progress offset in the same transaction. */
interface PartitionCounters {
  m: number;
  f: number;
  s: number;
  /** Offset before which every record was moved (or never selected), so the DLQ may drop it. */
  d: number;
}

const CHUNK = 500;
const MAX_FAILURES_KEPT = 200;

export function progressGroupOf(taskId: string): string {
  return `mailroom-redrive-${taskId}`;
}

function transactionalIdOf(taskId: string): string {
  return `mailroom-redrive-${taskId}`;
}

function parseIds(ids: string[]): Map<number, Set<number>> {
  const byPartition = new Map<number, Set<number>>();
  for (const id of ids) {
    const match = /^(\d+):(\d+)$/.exec(String(id));
    if (!match) throw new InvalidInputError(`Kafka message id ${JSON.stringify(id)} is not partition:offset`);
    const partition = Number(match[1]);
    const set = byPartition.get(partition) ?? new Set<number>();
    set.add(Number(match[2]));
    byPartition.set(partition, set);
  }
  return byPartition;
}

function originOf(record: RawRecord, nameOrigin: string | null): string | null {
  for (const name of [Headers.deadLetterOrigin, SpringDlt.originalTopic]) {
    const raw = record.headers[name];
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value !== undefined) return value.toString();
  }
  return nameOrigin;
}

function redrivenHeaders(record: RawRecord, source: string, taskId: string): IHeaders {
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(record.headers)) if (value !== undefined) headers[name] = value;
  headers[Headers.redrivenFrom] = Buffer.from(source);
  headers[Headers.redriveTask] = Buffer.from(taskId);
  return headers;
}

function isCheckpoint(value: unknown, request: RedriveRequest): value is Checkpoint {
  const c = value as Partial<Checkpoint> | null;
  return !!c && c.v === 1 && c.taskId === request.taskId && c.source === request.source && typeof c.starts === 'object' && typeof c.ends === 'object';
}

function countersOf(metadata: string | null | undefined): PartitionCounters | null {
  if (!metadata) return null;
  try {
    const parsed = JSON.parse(metadata) as Partial<PartitionCounters>;
    if (typeof parsed.m === 'number' && typeof parsed.f === 'number' && typeof parsed.s === 'number' && typeof parsed.d === 'number') return parsed as PartitionCounters;
  } catch {
    // not ours
  }
  return null;
}

/**
 * Moves dead letters from a DLQ topic back to their origin (or `request.target`).
 *
 * Exactly once: each chunk is one Kafka transaction that writes the copies AND commits the
 * task's progress offset (group `mailroom-redrive-<taskId>`) with the per-partition counters.
 * A crash aborts the open transaction (the next run with the same transactional id fences it),
 * so a resumed task starts exactly after the last chunk that became visible. The range is fixed
 * at the start (ends in the checkpoint), so messages dead-lettered again meanwhile wait for the next task.
 */
export async function redriveTopic(deps: RedriveDeps, request: RedriveRequest, ctx: RedriveContext): Promise<RedriveReport> {
  const { raw } = deps;
  const source = request.source;
  const saved = await ctx.checkpoint.load();
  if (isCheckpoint(saved, request) && saved.completed) return saved.completed;

  const selection = request.selection;
  const ids = selection.kind === 'ids' ? parseIds(selection.ids) : null;
  const predicate = selection.kind === 'filter' ? selection.predicate : null;
  const context = deps.deadLetter(source);

  let checkpoint: Checkpoint;
  if (isCheckpoint(saved, request)) {
    checkpoint = saved;
  } else {
    const marks = await raw.watermarks(source);
    checkpoint = {
      v: 1,
      taskId: request.taskId,
      source,
      starts: Object.fromEntries(marks.map((m) => [String(m.partition), m.low])),
      ends: Object.fromEntries(marks.map((m) => [String(m.partition), m.high])),
      failures: [],
      completed: null,
    };
    if (!request.dryRun) await ctx.checkpoint.save(checkpoint);
  }
  if (request.target !== null) await raw.leaders([request.target]);

  const group = progressGroupOf(request.taskId);
  const partitions = Object.keys(checkpoint.ends)
    .map(Number)
    .sort((a, b) => a - b);
  if (ids) {
    for (const p of ids.keys()) if (!partitions.includes(p)) throw new InvalidInputError(`Topic ${source} has no partition ${p}`);
  }

  const positions = new Map<number, number>();
  const counters = new Map<number, PartitionCounters>();
  const failures = [...checkpoint.failures];
  const startOf = (p: number): number => checkpoint.starts[String(p)] ?? 0;
  const endOf = (p: number): number => {
    const end = checkpoint.ends[String(p)] ?? 0;
    if (!ids) return end;
    const wanted = ids.get(p);
    return wanted && wanted.size > 0 ? Math.min(end, Math.max(...wanted) + 1) : 0;
  };
  const remaining = (): number => {
    if (ids) {
      let n = 0;
      for (const [p, set] of ids) for (const o of set) if (o >= (positions.get(p) ?? 0) && o < (checkpoint.ends[String(p)] ?? 0)) n++;
      return n;
    }
    return partitions.reduce((n, p) => n + Math.max(0, endOf(p) - (positions.get(p) ?? 0)), 0);
  };
  const totals = (): RedriveProgress => {
    const sum = { moved: 0, failed: 0, skipped: 0 };
    for (const c of counters.values()) {
      sum.moved += c.m;
      sum.failed += c.f;
      sum.skipped += c.s;
    }
    return { ...sum, remaining: remaining(), possiblyDuplicated: 0 };
  };
  const finish = async (outcome: RedriveReport['outcome'], error: string | null): Promise<RedriveReport> => {
    const report: RedriveReport = { ...totals(), outcome, error, failures: [...failures] };
    if (outcome === 'completed') report.remaining = 0;
    if (outcome === 'failed') report.remaining = null;
    ctx.onProgress({ moved: report.moved, failed: report.failed, skipped: report.skipped, remaining: report.remaining, possiblyDuplicated: 0 });
    if (outcome === 'completed' && !request.dryRun) {
      // Record completion before dropping the progress group: a rerun must not start over.
      checkpoint.completed = report;
      checkpoint.failures = [...failures];
      await ctx.checkpoint.save(checkpoint);
      await deleteProgressGroup(deps, group);
    }
    return report;
  };

  let producer: Producer | null = null;
  try {
    // Records an earlier task already redriven (they stay in the DLT when it was an ids/filter task).
    const ledgerSize: number | null = request.dryRun ? await ledgerPartitions(raw) : await ensureLedger(raw, await deps.admin(), deps.replicationFactor, deps.requestTimeoutMs);
    const redriven: RedrivenOffsets = ledgerSize === null ? new Map() : await readRedriven(raw, source, ledgerSize, checkpoint.starts, checkpoint.ends);
    if (!request.dryRun) {
      producer = createKafkaProducer(deps.kafka, { idempotent: true, transactionalId: transactionalIdOf(request.taskId) });
      // Connecting initialises the transactional id, which aborts whatever a crashed run left open.
      await producer.connect();
      const admin = await deps.admin();
      // Without `topics`: kafkajs would otherwise add the topic to its metadata targets for good.
      const committed = await admin.fetchOffsets({ groupId: group });
      for (const p of committed.find((t) => t.topic === source)?.partitions ?? []) {
        if (Number(p.offset) >= 0) positions.set(p.partition, Number(p.offset));
        const c = countersOf(p.metadata);
        if (c) counters.set(p.partition, c);
      }
    }
    for (const p of partitions) {
      if (!positions.has(p)) positions.set(p, startOf(p));
      if (!counters.has(p)) counters.set(p, { m: 0, f: 0, s: 0, d: startOf(p) });
    }

    const limiter = new RateLimiter(request.ratePerSecond);
    const chunkSize = request.ratePerSecond && request.ratePerSecond > 0 ? Math.max(1, Math.min(CHUNK, Math.floor(request.ratePerSecond / 4))) : CHUNK;
    const existingTargets = new Map<string, boolean>();
    const targetExists = async (topic: string): Promise<boolean> => {
      let known = existingTargets.get(topic);
      if (known === undefined) {
        try {
          await raw.leaders([topic]);
          known = true;
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
          known = false;
        }
        existingTargets.set(topic, known);
      }
      return known;
    };

    let lastProgress = 0;
    ctx.onProgress(totals());
    for (const p of partitions) {
      if (ids) {
        const wanted = ids.get(p);
        if (!wanted) continue;
        // Offsets before the first selected id need no examination.
        const first = Math.min(...wanted);
        if ((positions.get(p) ?? 0) < first) positions.set(p, first);
      }
      while ((positions.get(p) ?? 0) < endOf(p)) {
        if (ctx.signal.aborted) return await finish('cancelled', null);
        const position = positions.get(p) ?? 0;
        const end = endOf(p);
        const [data] = await raw.fetch([{ topic: source, partition: p, offset: position }], { maxWaitMs: 0, partitionMaxBytes: 1024 * 1024 });
        // Nothing returned: the rest of the range is past the last stable offset (an open transaction) or deleted.
        if (!data || data.nextOffset === null) break;
        const records = data.records.filter((r) => Number(r.offset) < end).slice(0, chunkSize);
        const last = records[records.length - 1];
        const next = records.length === chunkSize && last ? Number(last.offset) + 1 : Math.min(data.nextOffset, end);
        const c = { ...(counters.get(p) ?? { m: 0, f: 0, s: 0, d: position }) };
        const sends = new Map<string, { key: Buffer | null; value: Buffer | null; headers: IHeaders }[]>();
        const ledger: LedgerEntry[] = [];
        let chunkFailed = false;
        for (const record of records) {
          const offset = Number(record.offset);
          const id = `${p}:${offset}`;
          const selected = ids ? (ids.get(p)?.has(offset) ?? false) : predicate ? predicate(toStoredMessage(source, p, record, context)) : true;
          if (!selected || wasRedriven(redriven, p, record)) {
            c.s++;
            continue;
          }
          const target = request.target ?? originOf(record, context.nameOrigin);
          let reason: string | null = null;
          if (target === null) reason = 'no origin: the record has no origin header and the DLQ name matches no naming pattern; choose a target topic';
          else if (target === source) reason = 'the origin is the DLQ itself';
          else if (!(await targetExists(target))) reason = `target topic ${target} does not exist`;
          if (reason !== null || target === null) {
            c.f++;
            chunkFailed = true;
            if (failures.length < MAX_FAILURES_KEPT) failures.push({ id, reason: reason ?? 'no target' });
            continue;
          }
          const list = sends.get(target) ?? [];
          list.push({ key: record.key, value: record.value, headers: redrivenHeaders(record, source, request.taskId) });
          sends.set(target, list);
          if (ledgerSize !== null) ledger.push(ledgerEntry(source, p, record, request.taskId, ledgerSize));
          c.m++;
        }
        // Only an unbroken prefix of moved records may leave the DLQ (redrive of all, no failure so far).
        const prefixIntact = selection.kind === 'all' && c.d === position && !chunkFailed;
        if (prefixIntact) c.d = next;
        const moving = [...sends.values()].reduce((n, l) => n + l.length, 0);
        if (moving > 0) await limiter.take(moving, ctx.signal);
        if (ctx.signal.aborted) return await finish('cancelled', null);
        if (!request.dryRun && producer) {
          const activeProducer = producer;
          await withConcurrentTransactionRetry(async () => {
            const transaction = await activeProducer.transaction();
            try {
              for (const [target, messages] of sends) await transaction.send({ topic: target, acks: -1, messages });
              // The ledger entries commit or abort with the copies: a record is in the ledger iff its copy is visible.
              if (ledger.length > 0) await transaction.send({ topic: LEDGER_TOPIC, acks: -1, messages: ledger });
              const offset: { partition: number; offset: string; metadata: string } = { partition: p, offset: String(next), metadata: JSON.stringify(c) };
              await transaction.sendOffsets({ consumerGroupId: group, topics: [{ topic: source, partitions: [offset] }] });
              await transaction.commit();
            } catch (error) {
              await transaction.abort().catch(() => undefined);
              throw error;
            }
          });
          if (deps.deleteMovedRecords && prefixIntact && c.d > startOf(p)) {
            // The copies are committed: the DLQ may drop them. Best effort: a compacted DLQ refuses it.
            await raw.deleteRecordsBefore(source, [{ partition: p, offset: c.d }]).catch(() => undefined);
          }
        }
        counters.set(p, c);
        positions.set(p, next);
        if (failures.length !== checkpoint.failures.length && !request.dryRun) {
          checkpoint.failures = [...failures];
          await ctx.checkpoint.save(checkpoint);
        }
        const now = Date.now();
        if (now - lastProgress >= 250 || moving >= 100) {
          lastProgress = now;
          ctx.onProgress(totals());
        }
      }
    }
    return await finish('completed', null);
  } catch (error) {
    const mapped = toMailroomError(error, `redriving ${source}`);
    if (mapped.code === 'NOT_FOUND' || mapped.code === 'INVALID_INPUT') throw mapped;
    return await finish('failed', mapped.message);
  } finally {
    await producer?.disconnect().catch(() => undefined);
  }
}

function isConcurrentTransactions(error: unknown): boolean {
  const e = error as { type?: unknown; message?: unknown } | null;
  return !!e && (e.type === 'CONCURRENT_TRANSACTIONS' || /concurrent operation on the same transaction/i.test(String(e.message)));
}

/**
 * Right after a commit the coordinator may still be finishing it and answer CONCURRENT_TRANSACTIONS
 * (kafkajs gives up on it quickly, e.g. for a chunk holding only an offset commit). The aborted
 * attempt's records are never visible to read_committed readers, so the chunk is simply redone.
 */
async function withConcurrentTransactionRetry(run: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await run();
      return;
    } catch (error) {
      if (!isConcurrentTransactions(error) || attempt >= 8) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
    }
  }
}

/** Deletes the task's progress group once its offsets have landed (a late transactional commit would recreate it). */
async function deleteProgressGroup(deps: RedriveDeps, group: string): Promise<void> {
  const admin = await deps.admin();
  for (let attempt = 0; attempt < 10; attempt++) {
    const exists = (await admin.listGroups()).groups.some((g) => g.groupId === group);
    if (!exists && attempt > 0) return;
    if (exists) await admin.deleteGroups([group]).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
