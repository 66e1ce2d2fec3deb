import type { MetricsSnapshot } from '@mailroom/core';
import type { SqsConnection } from './connection';
import { loadQueues } from './queues';

function count(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

/**
 * Depth, in flight and delayed come from the queue attributes. SQS exposes no counters of
 * sent/received/deleted messages and no consumer list through its API (those, and
 * ApproximateAgeOfOldestMessage, are CloudWatch metrics), so rates, consumers and the age of
 * the oldest message are null rather than guessed; computing the age from a peek would raise
 * receive counts, which a metrics poll must never do.
 */
export async function metricsSnapshot(connection: SqsConnection): Promise<MetricsSnapshot> {
  const queues = await loadQueues(connection, ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed']);
  return {
    at: new Date(),
    destinations: queues.map((q) => ({
      destination: q.name,
      depth: count(q.attributes['ApproximateNumberOfMessages']),
      inFlight: count(q.attributes['ApproximateNumberOfMessagesNotVisible']),
      delayed: count(q.attributes['ApproximateNumberOfMessagesDelayed']),
      consumers: null,
      publishRate: null,
      deliverRate: null,
      ackRate: null,
      oldestAgeMs: null,
    })),
    groups: [],
  };
}
