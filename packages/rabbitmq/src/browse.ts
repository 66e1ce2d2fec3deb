import type { Channel, GetMessage, Message as AmqpMessage } from 'amqplib';
import {
  ConflictError,
  InvalidInputError,
  MAX_PAGE_SIZE,
  decodeCursor,
  encodeCursor,
  type BrowsePage,
  type BrowseRequest,
  type StoredMessage,
} from '@mailroom/core';
import { streamOffset, toStoredMessage } from './codec';
import type { ResolvedConfig } from './config';
import type { ConnectionHolder } from './connection';
import type { MgmtQueue } from './management';

export const PEEK_WARNING =
  'RabbitMQ classic and quorum queues have no side-effect-free read: a peek takes messages with basic.get and requeues them. ' +
  'They come back marked redelivered, may be delivered to consumers in a different order while they are out, and on a quorum ' +
  'queue every peek counts as a delivery attempt towards its delivery-limit. Stream queues are read by offset with no side effects.';

type QueueCursor = { k: 'q'; skip: number } | { k: 'qn'; before: number };
type StreamCursor = { k: 's'; from: number } | { k: 'sn'; before: number };
type Cursor = QueueCursor | StreamCursor;

function parseCursor(text: string): Cursor {
  const value = decodeCursor(text) as Partial<{ k: string; skip: number; before: number; from: number }> | null;
  const num = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 0;
  if (value?.k === 'q' && num(value.skip)) return { k: 'q', skip: value.skip as number };
  if (value?.k === 'qn' && num(value.before)) return { k: 'qn', before: value.before as number };
  if (value?.k === 's' && num(value.from)) return { k: 's', from: value.from as number };
  if (value?.k === 'sn' && num(value.before)) return { k: 'sn', before: value.before as number };
  throw new InvalidInputError('The page cursor is not valid for this RabbitMQ queue; start browsing again.');
}

function pageLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidInputError(`limit must be a positive integer, got ${limit}`);
  return Math.min(limit, MAX_PAGE_SIZE);
}

function parsePosition(position: string): number {
  if (!/^\d+$/.test(position)) throw new InvalidInputError(`A RabbitMQ position is a non-negative integer (an offset, or an index from the head of a queue), got ${JSON.stringify(position)}`);
  return Number(position);
}

/** The delivery limit of a quorum queue from its argument or effective policy, null when unlimited. */
export function deliveryLimitOf(queue: MgmtQueue): number | null {
  const arg = queue.arguments?.['x-delivery-limit'];
  if (typeof arg === 'number') return arg;
  const effective = queue.effective_policy_definition;
  const policy = effective && !Array.isArray(effective) ? effective['delivery-limit'] : undefined;
  return typeof policy === 'number' ? policy : null;
}

/**
 * Peeks a classic or quorum queue: basic.get (manual ack) from the head until the page is
 * full, then one nack(multiple, requeue) puts everything back. Only the head can be read, so a
 * deeper page or the newest messages cost reading (and requeueing) everything before them.
 */
export async function peekQueue(holder: ConnectionHolder, config: ResolvedConfig, queue: MgmtQueue, request: BrowseRequest): Promise<BrowsePage> {
  const limit = pageLimit(request.limit);
  const type = queue.type ?? 'classic';
  const deliveryLimit = type === 'quorum' ? deliveryLimitOf(queue) : null;
  if (deliveryLimit !== null && !request.force) {
    throw new ConflictError(
      `Peeking quorum queue ${queue.name} counts as a delivery attempt for every message read, and it has a delivery-limit of ${deliveryLimit}: ` +
        'messages already delivered that often would be dead-lettered (or dropped when it has no dead-letter exchange).',
      { hint: 'Browse with force to peek anyway, or read it through a consumer.' },
    );
  }
  let cursor: QueueCursor;
  let sinceMs: number | null = null;
  if (request.cursor) {
    const parsed = parseCursor(request.cursor);
    if (parsed.k !== 'q' && parsed.k !== 'qn') throw new InvalidInputError('This cursor belongs to a stream, not to a queue');
    cursor = parsed;
  } else {
    switch (request.start.from) {
      case 'oldest':
        cursor = { k: 'q', skip: 0 };
        break;
      case 'position':
        cursor = { k: 'q', skip: parsePosition(request.start.position) };
        break;
      case 'timestamp':
        cursor = { k: 'q', skip: 0 };
        sinceMs = request.start.timestamp.getTime();
        break;
      case 'newest':
        cursor = { k: 'qn', before: Number.MAX_SAFE_INTEGER };
        break;
    }
  }
  const budget = config.scanBudget;
  const warnings: string[] = [];
  const filter = request.filter ?? null;
  const newest = cursor.k === 'qn';
  const before = cursor.k === 'qn' ? cursor.before : Number.MAX_SAFE_INTEGER;
  const end = Math.min(before, budget);
  const skip = cursor.k === 'q' ? cursor.skip : 0;
  let taken = 0;
  let scanned = 0;
  let more = false;
  let pushedOver = 0;
  const matches: { index: number; message: StoredMessage }[] = [];
  const result = await holder.withChannel(`peek ${queue.name}`, async (channel: Channel) => {
    let last: GetMessage | null = null;
    try {
      while (taken < end && !request.signal?.aborted) {
        if (!newest && matches.length >= limit) break;
        const got = await channel.get(queue.name, { noAck: false });
        if (got === false) break;
        last = got;
        const index = taken++;
        more = got.fields.messageCount > 0;
        if (deliveryLimit !== null) {
          const count = got.properties.headers?.['x-delivery-count'];
          if (typeof count === 'number' && count + 1 > deliveryLimit) pushedOver++;
        }
        if (index < skip) continue;
        const stored = toStoredMessage(got, queue.name);
        if (sinceMs !== null && stored.timestamp.getTime() < sinceMs) continue;
        scanned++;
        if (filter && !filter(stored)) continue;
        matches.push({ index, message: stored });
        if (newest && matches.length > limit) matches.shift();
      }
    } finally {
      if (last) channel.nack(last, true, true);
    }
    return { reachedEnd: !more };
  });
  if (taken >= budget && more) {
    warnings.push(`Stopped after reading ${budget} messages (the scan budget); deeper messages were not examined.`);
  }
  if (taken > 0) {
    warnings.push(`${taken} message${taken === 1 ? ' was' : 's were'} taken with basic.get and requeued: they are now marked redelivered.`);
    if (type === 'quorum') warnings.push(`Each peeked message's delivery count (x-delivery-count) went up by one.`);
  }
  if (pushedOver > 0) {
    warnings.push(`${pushedOver} message${pushedOver === 1 ? '' : 's'} went over the delivery-limit of ${deliveryLimit} and ${pushedOver === 1 ? 'was' : 'were'} dead-lettered (or dropped).`);
  }
  if (newest && before === Number.MAX_SAFE_INTEGER && more) {
    warnings.push('The queue is deeper than the scan budget: "newest" shows the newest messages within the first ' + budget + '.');
  }
  let messages: StoredMessage[];
  let nextCursor: string | null;
  if (newest) {
    messages = matches.map((m) => m.message).reverse();
    const oldest = matches[0];
    nextCursor = oldest && matches.length >= limit && oldest.index > 0 ? encodeCursor({ k: 'qn', before: oldest.index }) : null;
  } else {
    messages = matches.map((m) => m.message);
    const lastMatch = matches[matches.length - 1];
    const nextSkip = matches.length >= limit && lastMatch ? lastMatch.index + 1 : taken;
    nextCursor = !result.reachedEnd && nextSkip < budget ? encodeCursor({ k: 'q', skip: nextSkip }) : null;
  }
  return { messages, nextCursor, scanned, destructive: taken > 0, warnings };
}

type StreamOffsetArg = number | 'first' | 'last' | 'next' | { '!': 'timestamp'; value: number };

/**
 * Consumes a stream from `offset` and hands each message to `onMessage` until it returns
 * false, the stream goes quiet for `idleMs` (its end), or `signal` aborts. Stream reads
 * leave no trace: no offset is stored, the consumer is cancelled and the channel closed.
 */
export async function readStream(
  holder: ConnectionHolder,
  queue: string,
  offset: StreamOffsetArg,
  idleMs: number,
  onMessage: (message: AmqpMessage, offset: number) => boolean,
  signal?: AbortSignal,
): Promise<void> {
  await holder.withChannel(`read stream ${queue}`, async (channel) => {
    await channel.prefetch(500);
    await new Promise<void>((resolve, reject) => {
      let idle: ReturnType<typeof setTimeout> | undefined;
      let done = false;
      let tag: string | null = null;
      const finish = (error?: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(idle);
        signal?.removeEventListener('abort', onAbort);
        const cancel = tag === null ? Promise.resolve() : channel.cancel(tag).then(() => undefined, () => undefined);
        void cancel.then(() => (error === undefined ? resolve() : reject(error)));
      };
      const onAbort = () => finish();
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(() => finish(), idleMs);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      channel.on('close', () => finish(new Error('channel closed')));
      channel
        .consume(
          queue,
          (message) => {
            if (done || message === null) {
              if (message === null) finish();
              return;
            }
            channel.ack(message);
            const position = streamOffset(message);
            if (position === null) return;
            if (!onMessage(message, position)) finish();
            else arm();
          },
          { noAck: false, arguments: { 'x-stream-offset': offset } },
        )
        .then((reply) => {
          tag = reply.consumerTag;
          if (done) void channel.cancel(reply.consumerTag).catch(() => undefined);
          else arm();
        }, finish);
    });
  });
}

/** The offset of the newest message, or null for an empty stream. */
async function lastOffset(holder: ConnectionHolder, queue: string, idleMs: number): Promise<number | null> {
  let last: number | null = null;
  await readStream(holder, queue, 'last', idleMs, (_message, offset) => {
    last = Math.max(last ?? -1, offset);
    return true;
  });
  return last;
}

/** Browses a stream queue by offset: no requeue, no redelivered flag, nothing stored on the broker. */
export async function browseStream(holder: ConnectionHolder, config: ResolvedConfig, queue: string, request: BrowseRequest): Promise<BrowsePage> {
  const limit = pageLimit(request.limit);
  const filter = request.filter ?? null;
  const budget = config.scanBudget;
  let cursor: StreamCursor;
  let startArg: StreamOffsetArg | null = null;
  if (request.cursor) {
    const parsed = parseCursor(request.cursor);
    if (parsed.k !== 's' && parsed.k !== 'sn') throw new InvalidInputError('This cursor belongs to a queue, not to a stream');
    cursor = parsed;
  } else {
    switch (request.start.from) {
      case 'oldest':
        cursor = { k: 's', from: 0 };
        startArg = 'first';
        break;
      case 'position':
        cursor = { k: 's', from: parsePosition(request.start.position) };
        break;
      case 'timestamp':
        cursor = { k: 's', from: 0 };
        startArg = { '!': 'timestamp', value: Math.floor(request.start.timestamp.getTime() / 1000) };
        break;
      case 'newest': {
        const last = await lastOffset(holder, queue, config.streamIdleMs);
        if (last === null) return { messages: [], nextCursor: null, scanned: 0, destructive: false, warnings: [] };
        cursor = { k: 'sn', before: last + 1 };
        break;
      }
    }
  }
  let scanned = 0;
  const sinceMs = request.start.from === 'timestamp' && !request.cursor ? request.start.timestamp.getTime() : null;
  if (cursor.k === 's') {
    const matches: StoredMessage[] = [];
    let next = cursor.from;
    await readStream(holder, queue, startArg ?? cursor.from, config.streamIdleMs, (message, offset) => {
      next = offset + 1;
      const stored = toStoredMessage(message, queue);
      // A timestamp start is chunk-granular in RabbitMQ: skip the chunk's older messages.
      if (sinceMs !== null && stored.timestamp.getTime() < sinceMs) return true;
      scanned++;
      if (!filter || filter(stored)) matches.push(stored);
      return matches.length < limit && scanned < budget;
    }, request.signal);
    const full = matches.length >= limit || scanned >= budget;
    return { messages: matches, nextCursor: full ? encodeCursor({ k: 's', from: next }) : null, scanned, destructive: false, warnings: [] };
  }
  // Newest first: read windows backwards from `before` until the page is full.
  const found: StoredMessage[] = [];
  let before = cursor.before;
  while (found.length < limit && before > 0 && scanned < budget && !request.signal?.aborted) {
    const from = Math.max(0, before - Math.max(limit, 100));
    const upTo = before;
    const batch: StoredMessage[] = [];
    let lowest = Number.POSITIVE_INFINITY;
    await readStream(holder, queue, from, config.streamIdleMs, (message, offset) => {
      if (offset >= upTo) return false;
      lowest = Math.min(lowest, offset);
      scanned++;
      const stored = toStoredMessage(message, queue);
      if (!filter || filter(stored)) batch.push(stored);
      return offset < upTo - 1;
    }, request.signal);
    found.push(...batch.reverse());
    // Nothing at `from`: retention removed the older offsets, the stream starts at `lowest`.
    before = lowest > from ? 0 : from;
  }
  const page = found.slice(0, limit);
  const oldest = page[page.length - 1];
  const nextBefore = found.length > limit && oldest ? Number(oldest.position) : before;
  return {
    messages: page,
    nextCursor: nextBefore > 0 && (found.length > limit || page.length === limit) ? encodeCursor({ k: 'sn', before: nextBefore }) : null,
    scanned,
    destructive: false,
    warnings: [],
  };
}
