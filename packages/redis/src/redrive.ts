import {
  InvalidInputError,
  RateLimiter,
  isMailroomError,
  type RedriveContext,
  type RedriveProgress,
  type RedriveReport,
  type RedriveRequest,
} from '@mailroom/core';
import type { Connection } from './connection';
import { asArray, asString, originOf, parseEntries, toStoredMessage, type RawEntry } from './codec';
import { validateEntryId } from './browse';
import { validateStreamName, type DeadLetterConvention } from './names';
import { REDRIVE } from './scripts';
import { streamInfo } from './streams';

const MAX_BATCH = 200;
const MAX_FAILURES_REPORTED = 1000;

interface RedriveState {
  v: 1;
  taskId: string;
  source: string;
  /** Upper bound (inclusive) of a scan, fixed at the first run so entries dead-lettered later are not swept in. */
  bound: string;
  /** Scan position: everything up to here (inclusive) was handled. */
  after: string | null;
  /** For an id selection: how many of the sorted ids were handled. */
  index: number;
  moved: number;
  failed: number;
  skipped: number;
  failures: { id: string; reason: string }[];
}

/** A script blocks Redis while it runs: keep the bytes one script copies bounded. */
const MAX_SCRIPT_BYTES = 8 * 1024 * 1024;

function splitBySize(byTarget: Map<string, string[]>, sizes: Map<string, number>): [string, string[]][] {
  const out: [string, string[]][] = [];
  for (const [target, ids] of byTarget) {
    let chunk: string[] = [];
    let bytes = 0;
    for (const id of ids) {
      const size = sizes.get(id) ?? 0;
      if (chunk.length > 0 && bytes + size > MAX_SCRIPT_BYTES) {
        out.push([target, chunk]);
        chunk = [];
        bytes = 0;
      }
      chunk.push(id);
      bytes += size;
    }
    if (chunk.length > 0) out.push([target, chunk]);
  }
  return out;
}

function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const d = BigInt(am) - BigInt(bm);
  if (d !== 0n) return d < 0n ? -1 : 1;
  const s = BigInt(as) - BigInt(bs);
  return s === 0n ? 0 : s < 0n ? -1 : 1;
}

function validateRequest(request: RedriveRequest): void {
  if (typeof request.taskId !== 'string' || request.taskId.length === 0 || request.taskId.length > 256) {
    throw new InvalidInputError('taskId must be a non-empty string of at most 256 characters');
  }
  validateStreamName(request.source);
  if (request.target !== null) {
    validateStreamName(request.target);
    if (request.target === request.source) throw new InvalidInputError('A redrive cannot move entries into the stream they come from');
  }
  const rate = request.ratePerSecond;
  if (rate !== null && (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0)) {
    throw new InvalidInputError(`ratePerSecond must be a positive number or null, got ${rate}`);
  }
  const sel = request.selection;
  if (sel.kind === 'ids') {
    if (!Array.isArray(sel.ids)) throw new InvalidInputError('ids must be an array of entry ids');
    for (const id of sel.ids) validateEntryId(id, 'entry id');
  } else if (sel.kind === 'filter') {
    if (typeof sel.predicate !== 'function') throw new InvalidInputError('A filter selection needs a compiled predicate');
  } else if (sel.kind !== 'all') {
    throw new InvalidInputError('selection must be all, ids or filter');
  }
}

function restore(saved: unknown, request: RedriveRequest): RedriveState | null {
  if (typeof saved !== 'object' || saved === null) return null;
  const s = saved as Partial<RedriveState>;
  if (s.v !== 1 || s.taskId !== request.taskId || s.source !== request.source || typeof s.bound !== 'string') return null;
  return {
    v: 1,
    taskId: request.taskId,
    source: request.source,
    bound: s.bound,
    after: typeof s.after === 'string' ? s.after : null,
    index: typeof s.index === 'number' ? s.index : 0,
    moved: typeof s.moved === 'number' ? s.moved : 0,
    failed: typeof s.failed === 'number' ? s.failed : 0,
    skipped: typeof s.skipped === 'number' ? s.skipped : 0,
    failures: Array.isArray(s.failures) ? s.failures.slice(0, MAX_FAILURES_REPORTED) : [],
  };
}

/**
 * Moves dead letters back, batch by batch. Each batch of moves runs as one Lua script (XADD to
 * the target, then XDEL from the DLQ, per entry), so an entry is either in the DLQ or at the
 * target, never both and never neither, whenever the process or Redis stops. That is why a
 * resumed task cannot move anything twice even without a checkpoint: moved entries are gone
 * from the DLQ. The checkpoint carries the scan position and the counts; if the process dies
 * between a batch and its checkpoint, that batch's moves are done but not counted in the
 * resumed report (possiblyDuplicated stays 0: nothing exists twice).
 */
export async function runRedrive(
  connection: Connection,
  convention: DeadLetterConvention,
  request: RedriveRequest,
  context: RedriveContext,
): Promise<RedriveReport> {
  validateRequest(request);
  const source = request.source;
  const info = await streamInfo(connection, source);
  const state: RedriveState = (!request.dryRun ? restore(await context.checkpoint.load(), request) : null) ?? {
    v: 1,
    taskId: request.taskId,
    source,
    bound: info.lastGeneratedId,
    after: null,
    index: 0,
    moved: 0,
    failed: 0,
    skipped: 0,
    failures: [],
  };
  const sel = request.selection;
  const ids = sel.kind === 'ids' ? [...new Set(sel.ids)].sort(compareIds) : [];
  const limiter = new RateLimiter(request.ratePerSecond);
  const batchSize = request.ratePerSecond === null ? MAX_BATCH : Math.max(1, Math.min(MAX_BATCH, Math.ceil(request.ratePerSecond / 5)));
  const startLength = info.length;
  const startHandled = state.moved + state.failed + state.skipped;

  const progress = (): RedriveProgress => {
    const handled = state.moved + state.failed + state.skipped;
    const remaining =
      sel.kind === 'ids' ? Math.max(0, ids.length - state.index) : sel.kind === 'all' ? Math.max(0, startLength - (handled - startHandled)) : null;
    return { moved: state.moved, failed: state.failed, skipped: state.skipped, remaining, possiblyDuplicated: 0 };
  };
  const fail = (id: string, reason: string) => {
    state.failed++;
    if (state.failures.length < MAX_FAILURES_REPORTED) state.failures.push({ id, reason });
  };
  const report = (outcome: RedriveReport['outcome'], error: string | null): RedriveReport => ({
    ...progress(),
    outcome,
    error,
    failures: [...state.failures],
  });

  const nextBatch = async (): Promise<{ entries: RawEntry[]; missing: string[]; done: boolean }> => {
    if (sel.kind === 'ids') {
      const chunk = ids.slice(state.index, state.index + batchSize);
      if (chunk.length === 0) return { entries: [], missing: [], done: true };
      const results = await connection.pipeline(
        `reading ${source}`,
        chunk.map((id) => ['XRANGE', source, id, id]),
        true,
      );
      const entries: RawEntry[] = [];
      const missing: string[] = [];
      chunk.forEach((id, i) => {
        const [error, reply] = results[i] ?? [null, null];
        if (error) throw error;
        const entry = parseEntries(reply)[0];
        if (entry) entries.push(entry);
        else missing.push(id);
      });
      return { entries, missing, done: false };
    }
    const start = state.after === null ? '-' : `(${state.after}`;
    const reply = await connection.callBuffer(`reading ${source}`, 'XRANGE', [source, start, state.bound, 'COUNT', batchSize]);
    const entries = parseEntries(reply);
    return { entries, missing: [], done: entries.length === 0 };
  };

  try {
    context.onProgress(progress());
    for (;;) {
      if (context.signal.aborted) return report('cancelled', null);
      const { entries, missing, done } = await nextBatch();
      if (done) break;
      for (const id of missing) fail(id, `not in ${source} (already moved or deleted)`);

      const byTarget = new Map<string, string[]>();
      const sizes = new Map<string, number>();
      for (const entry of entries) {
        if (sel.kind === 'filter' && !sel.predicate(toStoredMessage(source, entry))) {
          state.skipped++;
          continue;
        }
        const target = request.target ?? originOf(entry) ?? convention.originOf(source);
        if (target === null) {
          fail(entry.id, 'origin unknown: the entry names no origin and the stream name does not follow the DLQ convention; choose a target');
          continue;
        }
        if (target === source) {
          fail(entry.id, 'its origin is this stream itself; choose a target');
          continue;
        }
        try {
          validateStreamName(target);
        } catch (error) {
          fail(entry.id, error instanceof Error ? error.message : String(error));
          continue;
        }
        byTarget.set(target, [...(byTarget.get(target) ?? []), entry.id]);
        sizes.set(entry.id, entry.fields.reduce((a, f) => a + f.length, 0));
      }

      const selected = [...byTarget.values()].reduce((a, l) => a + l.length, 0);
      if (selected > 0) await limiter.take(selected, context.signal);
      if (context.signal.aborted) return report('cancelled', null);

      for (const [target, targetIds] of splitBySize(byTarget, sizes)) {
        if (request.dryRun) {
          state.moved += targetIds.length;
          continue;
        }
        try {
          const moved = new Set(
            asArray(await connection.script(`redriving ${source} to ${target}`, REDRIVE, [source, target], [source, request.taskId, ...targetIds])).map(asString),
          );
          state.moved += moved.size;
          // Gone between our read and the script: moved by someone else, so not ours to count.
          state.skipped += targetIds.length - moved.size;
        } catch (error) {
          if (!isMailroomError(error) || error.code !== 'INVALID_INPUT') throw error;
          for (const id of targetIds) fail(id, error.message);
        }
      }
      if (sel.kind === 'ids') state.index += entries.length + missing.length;
      const last = entries[entries.length - 1];
      if (last) state.after = last.id;
      if (!request.dryRun) await context.checkpoint.save({ ...state });
      context.onProgress(progress());
    }
    return report('completed', null);
  } catch (error) {
    if (!request.dryRun) await context.checkpoint.save({ ...state }).catch(() => undefined);
    return report('failed', error instanceof Error ? error.message : String(error));
  }
}
