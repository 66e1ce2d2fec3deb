import { TailBuffer, type TailBatch, type TailRequest, type StoredMessage } from '@mailroom/core';
import type { MemoryDestination } from './destination';
import type { MemoryRecord } from './record';

export interface TailOptions {
  capacity: number;
  flushMs: number;
}

/**
 * A live tail from the destination's end: appends are pushed into a bounded TailBuffer, so a
 * slow reader gets `skipped` counts instead of unbounded memory. The listener is attached at
 * once (not on first read) and detached on abort, on `end`, or when the reader stops.
 */
export function tailDestination(
  destination: MemoryDestination,
  request: TailRequest,
  toStored: (record: MemoryRecord) => StoredMessage,
  options: TailOptions,
  onEnd: (end: () => void) => () => void,
): AsyncIterable<TailBatch> {
  const buffer = new TailBuffer({ capacity: options.capacity, maxBatch: request.maxBatch ?? 500, flushMs: options.flushMs });
  const partition = request.partition ?? null;
  const filter = request.filter ?? null;
  const listener = (record: MemoryRecord) => {
    if (partition !== null && record.partition !== partition) return;
    try {
      const stored = toStored(record);
      if (filter && !filter(stored)) return;
      buffer.push(stored);
    } catch (error) {
      buffer.end(error);
    }
  };
  destination.listeners.add(listener);
  request.onReady?.();
  const unregister = onEnd(() => buffer.end());
  const detach = () => {
    destination.listeners.delete(listener);
    unregister();
  };
  request.signal.addEventListener('abort', detach, { once: true });
  if (request.signal.aborted) detach();
  return (async function* () {
    try {
      yield* buffer.batches(request.signal);
    } finally {
      detach();
      request.signal.removeEventListener('abort', detach);
    }
  })();
}
