import { InvalidInputError, type StoredMessage, type TailBatch, type TailRequest } from '@mailroom/core';
import { toStoredMessage, type DeadLetterContext } from './codec';
import type { FetchedPartition, RawKafka } from './raw';

export interface TailDeps {
  raw: RawKafka;
  deadLetter: (topic: string) => DeadLetterContext;
  /** How long one fetch waits at the broker for new records (also the abort latency bound). */
  maxWaitMs?: number;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
const ABORTED = Symbol('aborted');

/**
 * Live tail from the end of every partition, by direct fetches (no consumer group). It is a
 * pull: the next fetch happens only when the reader asks for the next batch, so memory holds
 * one fetch at most. When the reader falls further behind than `maxLag` records in a partition,
 * the tail jumps to near its end and reports the records it jumped over as `skipped`.
 */
export async function* tailTopic(deps: TailDeps, request: TailRequest): AsyncGenerator<TailBatch> {
  const { raw } = deps;
  const topic = request.destination;
  const signal = request.signal;
  const maxBatch = request.maxBatch ?? 500;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new InvalidInputError(`maxBatch must be a positive integer, got ${maxBatch}`);
  const maxLag = Math.max(maxBatch * 4, 2000);
  let partitions = await raw.partitions(topic);
  if (request.partition !== undefined && request.partition !== null) {
    if (!partitions.includes(request.partition)) throw new InvalidInputError(`Topic ${topic} has no partition ${request.partition}`);
    partitions = [request.partition];
  }
  const marks = await raw.watermarks(topic, partitions);
  const positions = new Map(marks.map((m) => [m.partition, m.high]));
  request.onReady?.();
  const filter = request.filter ?? null;
  const context = deps.deadLetter(topic);
  let skipped = 0;
  while (!signal.aborted) {
    const requests = partitions.map((partition) => ({ topic, partition, offset: positions.get(partition) ?? 0 }));
    const fetched = await abortable<FetchedPartition[]>(
      raw.fetch(requests, { maxWaitMs: deps.maxWaitMs ?? 200, partitionMaxBytes: 256 * 1024 }),
      signal,
    );
    if (fetched === ABORTED) return;
    const messages: StoredMessage[] = [];
    for (const data of fetched) {
      const from = positions.get(data.partition) ?? 0;
      const behind = data.highWatermark - from;
      if (behind > maxLag) {
        // The reader is too slow for this partition: drop what is behind and resume near the end.
        const resumeAt = data.highWatermark - maxBatch;
        skipped += resumeAt - from;
        positions.set(data.partition, resumeAt);
        continue;
      }
      for (const record of data.records) {
        const message = toStoredMessage(topic, data.partition, record, context);
        if (filter === null || filter(message)) messages.push(message);
      }
      positions.set(data.partition, data.nextOffset ?? from);
    }
    if (messages.length === 0 && skipped === 0) continue;
    messages.sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime() || (a.partition ?? 0) - (b.partition ?? 0));
    for (let i = 0; i < Math.max(messages.length, 1); i += maxBatch) {
      if (signal.aborted) return;
      yield { messages: messages.slice(i, i + maxBatch), skipped };
      skipped = 0;
    }
  }
}
