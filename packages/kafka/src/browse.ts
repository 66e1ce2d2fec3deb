import {
  InvalidInputError,
  MAX_PAGE_SIZE,
  decodeCursor,
  encodeCursor,
  type BrowsePage,
  type BrowseRequest,
  type StoredMessage,
} from '@mailroom/core';
import { toStoredMessage, type DeadLetterContext } from './codec';
import type { FetchRequest, RawKafka, RawRecord } from './raw';

/** Records examined at most per page when a filter rejects messages. */
export const DEFAULT_SCAN_BUDGET = 10_000;
const PARTITION_MAX_BYTES = 1024 * 1024;

type Direction = 'asc' | 'desc';

interface CursorState {
  v: 1;
  t: string;
  d: Direction;
  /** Partition → next offset to read (asc) or offset before which to read (desc). */
  p: Record<string, number>;
}

interface Entry {
  partition: number;
  offset: number;
  timestamp: number;
  record: RawRecord;
}

/** One partition's records in reading order, fetched window by window. */
class PartitionReader {
  /** Next records in reading order. */
  buffer: Entry[] = [];
  /** asc: next offset to fetch; desc: offset the next window ends before. */
  position: number;
  /** The offset the cursor resumes from: after (asc) / at (desc) the last record taken. */
  resumeAt: number;
  exhausted = false;

  constructor(
    readonly partition: number,
    readonly direction: Direction,
    start: number,
    /** asc: stop before this offset; desc: stop at this offset. */
    readonly bound: number,
  ) {
    this.position = start;
    this.resumeAt = start;
    if (direction === 'asc' ? start >= bound : start <= bound) this.exhausted = true;
  }

  get needsFill(): boolean {
    return this.buffer.length === 0 && !this.exhausted;
  }

  head(): Entry | undefined {
    return this.buffer[0];
  }

  take(): Entry {
    const entry = this.buffer.shift();
    if (!entry) throw new Error('empty partition reader');
    this.resumeAt = this.direction === 'asc' ? entry.offset + 1 : entry.offset;
    return entry;
  }

  get finished(): boolean {
    return this.exhausted && this.buffer.length === 0;
  }
}

function entriesOf(partition: number, records: RawRecord[], below: number): Entry[] {
  const out: Entry[] = [];
  for (const record of records) {
    const offset = Number(record.offset);
    if (offset >= below) break;
    out.push({ partition, offset, timestamp: Number(record.timestamp), record });
  }
  return out;
}

/** Fills every reader whose buffer is empty, one Fetch round per leader at a time. */
async function fill(raw: RawKafka, topic: string, readers: PartitionReader[], window: number, signal?: AbortSignal): Promise<void> {
  // A round of only transaction markers yields no records but moves on: fetch again.
  let ascending = readers.filter((r) => r.needsFill && r.direction === 'asc');
  while (ascending.length > 0) {
    signal?.throwIfAborted();
    const fetched = await raw.fetch(
      ascending.map((r) => ({ topic, partition: r.partition, offset: r.position })),
      { maxWaitMs: 0, partitionMaxBytes: PARTITION_MAX_BYTES },
    );
    for (const reader of ascending) {
      const data = fetched.find((f) => f.partition === reader.partition);
      if (!data || data.nextOffset === null) {
        reader.exhausted = true;
        continue;
      }
      reader.buffer = entriesOf(reader.partition, data.records, reader.bound);
      reader.position = data.nextOffset;
      if (reader.position >= reader.bound) reader.exhausted = true;
    }
    ascending = ascending.filter((r) => r.needsFill);
  }
  // Descending: read the window [end − window, end) oldest-first, then hand it out newest-first.
  let descending = readers.filter((r) => r.needsFill && r.direction === 'desc');
  while (descending.length > 0) {
    const windows = new Map<number, { start: number; end: number; next: number; collected: Entry[] }>();
    for (const reader of descending) {
      const start = Math.max(reader.bound, reader.position - window);
      windows.set(reader.partition, { start, end: reader.position, next: start, collected: [] });
    }
    let pending = [...windows.entries()];
    while (pending.length > 0) {
      signal?.throwIfAborted();
      const requests: FetchRequest[] = pending.map(([partition, w]) => ({ topic, partition, offset: w.next }));
      const fetched = await raw.fetch(requests, { maxWaitMs: 0, partitionMaxBytes: PARTITION_MAX_BYTES });
      const still: typeof pending = [];
      for (const [partition, w] of pending) {
        const data = fetched.find((f) => f.partition === partition);
        if (!data || data.nextOffset === null) continue;
        w.collected.push(...entriesOf(partition, data.records, w.end));
        w.next = data.nextOffset;
        if (w.next < w.end) still.push([partition, w]);
      }
      pending = still;
    }
    for (const reader of descending) {
      const w = windows.get(reader.partition);
      if (!w) continue;
      reader.buffer = w.collected.reverse();
      reader.position = w.start;
      if (reader.position <= reader.bound) reader.exhausted = true;
    }
    // A window of only transaction markers or compacted gaps yields nothing: read the one before.
    descending = descending.filter((r) => r.needsFill);
  }
}

function pick(readers: PartitionReader[], direction: Direction): PartitionReader | undefined {
  let best: PartitionReader | undefined;
  let bestEntry: Entry | undefined;
  for (const reader of readers) {
    const head = reader.head();
    if (!head) continue;
    if (!bestEntry) {
      best = reader;
      bestEntry = head;
      continue;
    }
    const cmp = head.timestamp - bestEntry.timestamp || head.partition - bestEntry.partition || head.offset - bestEntry.offset;
    if (direction === 'asc' ? cmp < 0 : cmp > 0) {
      best = reader;
      bestEntry = head;
    }
  }
  return best;
}

export interface BrowseDeps {
  raw: RawKafka;
  deadLetter: (topic: string) => DeadLetterContext;
  scanBudget?: number;
}

function parseOffset(text: string, what: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidInputError(`${what} ${JSON.stringify(text)} is not an offset: use a non-negative integer, or partition:offset`);
  return Number(text.trim());
}

function decodeState(cursor: string, topic: string): CursorState {
  const state = decodeCursor(cursor) as Partial<CursorState> | null;
  if (!state || state.v !== 1 || state.t !== topic || (state.d !== 'asc' && state.d !== 'desc') || typeof state.p !== 'object' || state.p === null) {
    throw new InvalidInputError('The page cursor does not belong to this topic; start browsing again from the newest message.');
  }
  return state as CursorState;
}

/**
 * A page of a topic without side effects: newest-first from the high watermarks, or forward
 * from the oldest record, an offset or a time; records of all partitions merged by timestamp.
 */
export async function browseTopic(deps: BrowseDeps, request: BrowseRequest): Promise<BrowsePage> {
  const topic = request.destination;
  if (!Number.isInteger(request.limit) || request.limit < 1) throw new InvalidInputError(`limit must be a positive integer, got ${request.limit}`);
  const warnings: string[] = [];
  let limit = request.limit;
  if (limit > MAX_PAGE_SIZE) {
    limit = MAX_PAGE_SIZE;
    warnings.push(`A page holds at most ${MAX_PAGE_SIZE} messages; showing ${MAX_PAGE_SIZE}.`);
  }
  const { raw } = deps;
  let partitions = await raw.partitions(topic);
  const onlyPartition = request.partition ?? null;
  if (onlyPartition !== null) {
    if (!partitions.includes(onlyPartition)) throw new InvalidInputError(`Topic ${topic} has no partition ${onlyPartition} (it has ${partitions.length})`);
    partitions = [onlyPartition];
  }
  const marks = await raw.watermarks(topic, partitions);
  const low = new Map(marks.map((m) => [m.partition, m.low]));
  const high = new Map(marks.map((m) => [m.partition, m.high]));
  const clamp = (p: number, o: number) => Math.min(Math.max(o, low.get(p) ?? 0), high.get(p) ?? 0);

  let direction: Direction;
  let starts: Map<number, number>;
  if (request.cursor) {
    const state = decodeState(request.cursor, topic);
    direction = state.d;
    starts = new Map();
    for (const p of partitions) {
      const at = state.p[String(p)];
      if (at !== undefined) starts.set(p, clamp(p, at));
    }
  } else {
    const start = request.start;
    switch (start.from) {
      case 'newest':
        direction = 'desc';
        starts = new Map(partitions.map((p) => [p, high.get(p) ?? 0]));
        break;
      case 'oldest':
        direction = 'asc';
        starts = new Map(partitions.map((p) => [p, low.get(p) ?? 0]));
        break;
      case 'timestamp': {
        direction = 'asc';
        const time = start.timestamp instanceof Date ? start.timestamp.getTime() : NaN;
        if (!Number.isFinite(time)) throw new InvalidInputError('timestamp is not a valid date');
        const found = await raw.offsetsForTimestamp(topic, time, partitions);
        starts = new Map(partitions.map((p) => [p, clamp(p, found.get(p) ?? high.get(p) ?? 0)]));
        break;
      }
      case 'position': {
        direction = 'asc';
        const text = String(start.position);
        const colon = text.indexOf(':');
        if (colon >= 0) {
          const p = parseOffset(text.slice(0, colon), 'partition');
          if (!partitions.includes(p)) throw new InvalidInputError(`Topic ${topic} has no partition ${p}`);
          starts = new Map([[p, clamp(p, parseOffset(text.slice(colon + 1), 'offset'))]]);
        } else {
          const offset = parseOffset(text, 'position');
          starts = new Map(partitions.map((p) => [p, clamp(p, offset)]));
        }
        break;
      }
      default:
        throw new InvalidInputError('Unknown browse start');
    }
  }

  const readers = [...starts].map(([p, start]) =>
    direction === 'asc' ? new PartitionReader(p, 'asc', start, high.get(p) ?? 0) : new PartitionReader(p, 'desc', start, low.get(p) ?? 0),
  );
  const filter = request.filter ?? null;
  const budget = filter ? (deps.scanBudget ?? DEFAULT_SCAN_BUDGET) : limit;
  const window = filter ? MAX_PAGE_SIZE : limit;
  const context = deps.deadLetter(topic);
  const messages: StoredMessage[] = [];
  let scanned = 0;
  while (messages.length < limit && scanned < budget) {
    await fill(raw, topic, readers, window, request.signal);
    const reader = pick(readers, direction);
    if (!reader) break;
    const entry = reader.take();
    scanned++;
    const message = toStoredMessage(topic, entry.partition, entry.record, context);
    if (filter === null || filter(message)) messages.push(message);
  }
  const open = readers.filter((r) => !r.finished);
  if (filter && scanned >= budget && messages.length < limit && open.length > 0) {
    warnings.push(`Stopped after examining ${scanned} messages; continue with the next page to search further.`);
  }
  const nextCursor =
    open.length === 0 ? null : encodeCursor({ v: 1, t: topic, d: direction, p: Object.fromEntries(open.map((r) => [String(r.partition), r.resumeAt])) } satisfies CursorState);
  return { messages, nextCursor, scanned, destructive: false, warnings };
}
