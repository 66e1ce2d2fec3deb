import {
  InvalidInputError,
  MAX_PAGE_SIZE,
  NotFoundError,
  decodeCursor,
  encodeCursor,
  type BrowsePage,
  type BrowseRequest,
  type StoredMessage,
} from '@mailroom/core';
import type { Connection } from './connection';
import { asString, parseEntries, toStoredMessage, type RawEntry } from './codec';
import { validateStreamName } from './names';

const ENTRY_ID = /^\d{1,20}(-\d{1,20})?$/;

/** Where the next page starts: strictly after `after`, going forward or backward. */
interface PageCursor {
  v: 1;
  dir: 'fwd' | 'rev';
  /** Exclusive bound; null = from the very start of that direction. */
  after: string | null;
}

function parseCursor(cursor: string): PageCursor {
  const c = decodeCursor(cursor) as Partial<PageCursor> | null;
  if (
    !c ||
    c.v !== 1 ||
    (c.dir !== 'fwd' && c.dir !== 'rev') ||
    (c.after !== null && (typeof c.after !== 'string' || !ENTRY_ID.test(c.after)))
  ) {
    throw new InvalidInputError('The page cursor is not valid for a Redis stream; start browsing again from the newest message.');
  }
  return { v: 1, dir: c.dir, after: c.after };
}

export function validateEntryId(id: string, what = 'position'): void {
  if (typeof id !== 'string' || !ENTRY_ID.test(id)) {
    throw new InvalidInputError(`${what} ${JSON.stringify(id)} is not a stream entry id (like 1712345678901-0)`);
  }
}

/** Reads up to `count` entries strictly after the bound (or from `inclusiveStart` when given). */
async function readRange(connection: Connection, stream: string, dir: 'fwd' | 'rev', start: string, count: number): Promise<RawEntry[]> {
  const reply =
    dir === 'fwd'
      ? await connection.callBuffer(`browsing ${stream}`, 'XRANGE', [stream, start, '+', 'COUNT', count])
      : await connection.callBuffer(`browsing ${stream}`, 'XREVRANGE', [stream, start, '-', 'COUNT', count]);
  return parseEntries(reply);
}

/** XRANGE/XREVRANGE pages: reading has no side effect on the stream or its groups. */
export async function browseStream(connection: Connection, request: BrowseRequest, scanBudget: number): Promise<BrowsePage> {
  validateStreamName(request.destination);
  const stream = request.destination;
  if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > MAX_PAGE_SIZE) {
    throw new InvalidInputError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${request.limit}`);
  }
  if (request.partition !== undefined && request.partition !== null && request.partition !== 0) {
    throw new InvalidInputError('A Redis stream has no partitions; browse it without one (or partition 0)');
  }

  let dir: 'fwd' | 'rev';
  let start: string;
  if (request.cursor) {
    const c = parseCursor(request.cursor);
    dir = c.dir;
    start = c.after === null ? (dir === 'fwd' ? '-' : '+') : `(${c.after}`;
  } else {
    const s = request.start;
    switch (s.from) {
      case 'newest':
        dir = 'rev';
        start = '+';
        break;
      case 'oldest':
        dir = 'fwd';
        start = '-';
        break;
      case 'position':
        validateEntryId(s.position);
        dir = 'fwd';
        start = s.position;
        break;
      case 'timestamp': {
        const ms = s.timestamp instanceof Date ? s.timestamp.getTime() : Number.NaN;
        if (!Number.isFinite(ms)) throw new InvalidInputError('timestamp must be a valid date');
        dir = 'fwd';
        start = String(Math.max(0, Math.floor(ms)));
        break;
      }
      default:
        throw new InvalidInputError('start must be newest, oldest, position or timestamp');
    }
  }

  const filter = request.filter ?? null;
  const messages: StoredMessage[] = [];
  const warnings: string[] = [];
  let scanned = 0;
  let lastExamined: string | null = null;
  let more = true;

  while (messages.length < request.limit && more) {
    if (request.signal?.aborted) break;
    if (filter && scanned >= scanBudget) {
      warnings.push(`Examined ${scanned} entries without filling the page; continue with the next page to search further.`);
      break;
    }
    // Without a filter, one entry beyond the page tells whether there is a next page.
    const want = filter ? Math.min(MAX_PAGE_SIZE, scanBudget - scanned) : request.limit - messages.length + 1;
    const entries = await readRange(connection, stream, dir, lastExamined === null ? start : `(${lastExamined}`, want);
    if (entries.length < want) more = false;
    for (const entry of entries) {
      if (messages.length >= request.limit) {
        more = true;
        break;
      }
      scanned++;
      lastExamined = entry.id;
      const message = toStoredMessage(stream, entry);
      if (!filter || filter(message)) messages.push(message);
    }
  }

  if (scanned === 0 && !request.cursor) {
    const exists = Number(await connection.call(`browsing ${stream}`, 'EXISTS', [stream]));
    if (exists === 0) throw new NotFoundError(`Stream ${stream} does not exist`);
    const type = asString(await connection.call(`browsing ${stream}`, 'TYPE', [stream]));
    if (type !== 'stream') throw new InvalidInputError(`Key ${stream} holds a ${type}, not a stream`);
  }

  const nextCursor = more && lastExamined !== null ? encodeCursor({ v: 1, dir, after: lastExamined } satisfies PageCursor) : null;
  return { messages, nextCursor, scanned, destructive: false, warnings };
}
