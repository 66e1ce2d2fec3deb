import { InvalidInputError, MAX_PAGE_SIZE, decodeCursor, encodeCursor, type BrowsePage, type BrowseRequest, type StoredMessage } from '@mailroom/core';
import type { MemoryDestination } from './destination';
import { isExpired, type MemoryRecord } from './record';

/** Most records one page examines when a filter rejects many; the page then ends with a cursor. */
export const SCAN_BUDGET = 10_000;

interface CursorState {
  v: 1;
  d: string;
  dir: 'forward' | 'backward';
  parts: number[];
  /** Forward: next offset to examine. Backward: examine offsets below this. */
  pos: number[];
}

function isCursorState(value: unknown): value is CursorState {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Partial<CursorState>;
  return (
    c.v === 1 &&
    typeof c.d === 'string' &&
    (c.dir === 'forward' || c.dir === 'backward') &&
    Array.isArray(c.parts) &&
    Array.isArray(c.pos) &&
    c.parts.length === c.pos.length &&
    c.parts.every((p) => Number.isInteger(p) && p >= 0) &&
    c.pos.every((p) => Number.isInteger(p) && p >= 0)
  );
}

function parsePosition(position: string): { partition: number | null; offset: number } {
  const match = /^(?:(\d{1,9}):)?(\d{1,15})$/.exec(position.trim());
  if (!match) throw new InvalidInputError(`Position ${JSON.stringify(position)} is not an offset ("42") or partition:offset ("2:42")`);
  return { partition: match[1] === undefined ? null : Number(match[1]), offset: Number(match[2]) };
}

function startState(destination: MemoryDestination, request: BrowseRequest): CursorState {
  const count = destination.partitions.length;
  let parts = destination.partitions.map((_, p) => p);
  if (request.partition !== undefined && request.partition !== null) {
    if (!Number.isInteger(request.partition) || request.partition < 0 || request.partition >= count) {
      throw new InvalidInputError(`${destination.name} has partitions 0 to ${count - 1}; got ${request.partition}`);
    }
    parts = [request.partition];
  }
  const logs = parts.map((p) => destination.partitions[p]!);
  const state = (dir: CursorState['dir'], pos: number[]): CursorState => ({ v: 1, d: destination.name, dir, parts, pos });
  const start = request.start;
  switch (start.from) {
    case 'newest':
      return state('backward', logs.map((log) => log.high));
    case 'oldest':
      return state('forward', logs.map((log) => log.low));
    case 'timestamp': {
      const time = start.timestamp instanceof Date ? start.timestamp.getTime() : Number.NaN;
      if (Number.isNaN(time)) throw new InvalidInputError('Browse by time needs a valid timestamp');
      return state('forward', logs.map((log) => log.offsetForTime(time)));
    }
    case 'position': {
      const { partition, offset } = parsePosition(start.position);
      if (partition !== null) {
        if (partition >= count) throw new InvalidInputError(`${destination.name} has partitions 0 to ${count - 1}; got ${partition}`);
        if (request.partition !== undefined && request.partition !== null && request.partition !== partition) {
          throw new InvalidInputError(`Position ${start.position} is on partition ${partition}, not ${request.partition}`);
        }
        return { v: 1, d: destination.name, dir: 'forward', parts: [partition], pos: [offset] };
      }
      return state('forward', logs.map(() => offset));
    }
    default:
      throw new InvalidInputError('Unknown browse start');
  }
}

/** Pages through a destination without touching any group: browsing leaves no trace. */
export function browseDestination(
  destination: MemoryDestination,
  request: BrowseRequest,
  toStored: (record: MemoryRecord) => StoredMessage,
  now: number,
): BrowsePage {
  if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > MAX_PAGE_SIZE) {
    throw new InvalidInputError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${request.limit}`);
  }
  let state: CursorState;
  if (request.cursor !== undefined && request.cursor !== null) {
    const decoded = decodeCursor(request.cursor);
    if (!isCursorState(decoded) || decoded.d !== destination.name || decoded.parts.some((p) => p >= destination.partitions.length)) {
      throw new InvalidInputError('The page cursor does not belong to this destination; start browsing again.');
    }
    state = decoded;
  } else {
    state = startState(destination, request);
  }

  const pos = [...state.pos];
  const forward = state.dir === 'forward';
  const candidate = (i: number): MemoryRecord | null => {
    const log = destination.partitions[state.parts[i]!]!;
    const at = pos[i]!;
    const offset = forward ? log.nextLive(at) : log.prevLive(at - 1);
    return offset >= 0 && offset < log.high ? log.get(offset) : null;
  };
  const before = (a: MemoryRecord, b: MemoryRecord) =>
    a.timestamp.getTime() - b.timestamp.getTime() || a.partition - b.partition || a.offset - b.offset;

  const messages: StoredMessage[] = [];
  let scanned = 0;
  let exhausted = false;
  while (messages.length < request.limit && scanned < SCAN_BUDGET && !request.signal?.aborted) {
    let best: { index: number; record: MemoryRecord } | null = null;
    for (let i = 0; i < state.parts.length; i++) {
      const record = candidate(i);
      if (!record) continue;
      if (!best || (forward ? before(record, best.record) < 0 : before(record, best.record) > 0)) best = { index: i, record };
    }
    if (!best) {
      exhausted = true;
      break;
    }
    pos[best.index] = forward ? best.record.offset + 1 : best.record.offset;
    scanned++;
    if (isExpired(best.record, now)) continue;
    const stored = toStored(best.record);
    if (request.filter && !request.filter(stored)) continue;
    messages.push(stored);
  }
  if (!exhausted) exhausted = state.parts.every((_, i) => candidate(i) === null);
  return {
    messages,
    nextCursor: exhausted ? null : encodeCursor({ ...state, pos } satisfies CursorState),
    scanned,
    destructive: false,
    warnings: scanned >= SCAN_BUDGET && messages.length < request.limit ? [`Examined ${scanned} messages for this page; continue for more.`] : [],
  };
}
