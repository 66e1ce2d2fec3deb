import { InvalidInputError, MAX_PAGE_SIZE, type StoredMessage, type TailBatch, type TailRequest } from '@mailroom/core';
import type { ResolvedConfig } from './config';
import { Connection } from './connection';
import { parseStreamsReply, toStoredMessage } from './codec';
import { validateStreamName } from './names';
import { streamInfo } from './streams';

/** A batch is released at least this often while messages wait (see DESIGN: flush every ~100 ms). */
const FLUSH_MS = 100;
/** Longest single XREAD BLOCK, so an abort is noticed even if the disconnect raced. */
const BLOCK_MS = 1_000;

/**
 * Live tail: XREAD BLOCK on a connection of its own, from the stream's last generated id at
 * the start (not `$` on each call, which would miss entries added between calls). No group,
 * no ack: nothing is left on the broker. Abort disconnects the blocking connection, so the
 * iterable ends at once.
 */
export async function* tailStream(
  shared: Connection,
  config: ResolvedConfig,
  request: TailRequest,
  register: (release: () => void) => () => void,
): AsyncGenerator<TailBatch> {
  validateStreamName(request.destination);
  if (request.partition !== undefined && request.partition !== null && request.partition !== 0) {
    throw new InvalidInputError('A Redis stream has no partitions; tail it without one (or partition 0)');
  }
  const maxBatch = Math.max(1, Math.min(request.maxBatch ?? MAX_PAGE_SIZE, 10_000));
  const stream = request.destination;
  const signal = request.signal;
  if (signal.aborted) return;
  let lastId = (await streamInfo(shared, stream)).lastGeneratedId;
  const connection = new Connection(config, 'blocking', 'Redis tail');
  const stop = () => connection.disconnect();
  signal.addEventListener('abort', stop, { once: true });
  const unregister = register(stop);
  // lastId is fixed: every entry added from now on is read by the XREADs below.
  request.onReady?.();
  try {
    while (!signal.aborted) {
      const batch: StoredMessage[] = [];
      let firstAt = 0;
      // Block until something arrives, then keep reading for at most FLUSH_MS to fill the batch.
      while (!signal.aborted && batch.length < maxBatch) {
        const waited = firstAt === 0 ? BLOCK_MS : Math.ceil(FLUSH_MS - (performance.now() - firstAt));
        if (firstAt !== 0 && waited < 1) break;
        let reply: unknown;
        try {
          reply = await connection.callBuffer(`tailing ${stream}`, 'XREAD', [
            'COUNT',
            maxBatch - batch.length,
            'BLOCK',
            waited,
            'STREAMS',
            stream,
            lastId,
          ]);
        } catch (error) {
          if (signal.aborted) return;
          throw error;
        }
        const entries = parseStreamsReply(reply).flatMap((s) => s.entries);
        if (entries.length === 0) {
          if (firstAt !== 0) break;
          continue;
        }
        if (firstAt === 0) firstAt = performance.now();
        for (const entry of entries) {
          lastId = entry.id;
          const message = toStoredMessage(stream, entry);
          if (!request.filter || request.filter(message)) batch.push(message);
        }
      }
      if (signal.aborted) return;
      if (batch.length > 0) yield { messages: batch, skipped: 0 };
    }
  } finally {
    signal.removeEventListener('abort', stop);
    unregister();
    connection.disconnect();
  }
}
