import { NotFoundError, UnsupportedError } from '@mailroom/core';
import type { SqsConnection } from './connection';
import { conventionalOrigin, deadLetterMap, deadLetterSourceQueues, loadQueue, loadQueues, type QueueInfo } from './queues';
import type { QueueContext } from './stored';

/** The queue's dead-letter sources and their maxReceiveCount, to explain the dead letters read from it. */
export async function queueContext(connection: SqsConnection, info: QueueInfo, suffix: string, signal?: AbortSignal): Promise<QueueContext> {
  let sources: string[];
  try {
    sources = await deadLetterSourceQueues(connection, info.name, info.url, signal);
  } catch (error) {
    if (!(error instanceof UnsupportedError)) throw error;
    sources = deadLetterMap(await loadQueues(connection, ['RedrivePolicy', 'QueueArn'], signal), suffix).sources.get(info.name)?.origins ?? [];
  }
  const originMaxReceiveCount = new Map<string, number>();
  for (const source of sources.slice(0, 20)) {
    try {
      const policy = (await loadQueue(connection, source, signal)).redrivePolicy;
      if (policy) originMaxReceiveCount.set(source, policy.maxReceiveCount);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  if (sources.length === 0) {
    const origin = conventionalOrigin(info.name, suffix);
    if (origin !== null) {
      try {
        await connection.queueUrl(origin, signal);
        sources = [origin];
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
  }
  return { queue: info.name, deadLetterSources: sources, originMaxReceiveCount };
}
