import { Kafka, Partitioners, logLevel, type Consumer, type Producer } from 'kafkajs';
import type { Endpoints } from '../config';
import { sleep, waitUntil } from '../stats';

export function kafkaClient(endpoints: Endpoints, clientId = 'mailroom-bench'): Kafka {
  return new Kafka({ clientId, brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING, retry: { retries: 5 } });
}

/** A plain (non-transactional, non-idempotent) producer: the fastest the library offers. */
export function rawProducer(kafka: Kafka): Producer {
  return kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
}

export async function createTopics(kafka: Kafka, topics: { topic: string; partitions: number }[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (let i = 0; i < topics.length; i += 100) {
      const slice = topics.slice(i, i + 100);
      try {
        await admin.createTopics({
          topics: slice.map((t) => ({ topic: t.topic, numPartitions: t.partitions, replicationFactor: 1 })),
          waitForLeaders: true,
          timeout: 60_000,
        });
      } catch (error) {
        // kafkajs's wait for leaders gives up on UNKNOWN_TOPIC_OR_PARTITION when the broker is
        // slow to publish the new metadata (a loaded machine): the topics exist, so wait here.
        if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
      }
      const names = slice.map((t) => t.topic);
      await waitUntil('the new topics to have leaders', async () => {
        const { topics: meta } = await admin.fetchTopicMetadata({ topics: names });
        return meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      }, 60_000, 200);
    }
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const mine = topics.filter((t) => existing.has(t));
    for (let i = 0; i < mine.length; i += 100) await admin.deleteTopics({ topics: mine.slice(i, i + 100), timeout: 60_000 });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteGroups(kafka: Kafka, groups: string[]): Promise<void> {
  if (groups.length === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    const mine = groups.filter((g) => existing.has(g));
    for (let i = 0; i < mine.length; i += 50) await admin.deleteGroups(mine.slice(i, i + 50)).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

export async function highWatermarks(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Writes `count` records as fast as the producer goes: batches of `batch`, `inFlight` sends at
 * once, round-robin over partitions (no key). `value(n)` makes record n.
 */
export async function produceCount(
  producer: Producer,
  topic: string,
  count: number,
  value: (n: number) => string,
  options: { batch?: number; inFlight?: number; headers?: Record<string, string> } = {},
): Promise<void> {
  const batch = options.batch ?? 1000;
  const inFlight = options.inFlight ?? 4;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const from = next;
      const to = Math.min(count, from + batch);
      next = to;
      const messages = [];
      for (let n = from; n < to; n++) messages.push({ key: `k-${n % 64}`, value: value(n), ...(options.headers ? { headers: options.headers } : {}) });
      await producer.send({ topic, acks: 1, messages });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/**
 * A group consumer (eachBatch, the library's fast path) reading from the beginning until every
 * partition reached `ends`; calls `onBatch` with each batch's values. Returns when done.
 */
export async function consumeRange(
  kafka: Kafka,
  topic: string,
  group: string,
  ends: Map<number, number>,
  onBatch: (values: (Buffer | null)[], partition: number) => void | Promise<void>,
  options: { timeoutMs?: number; autoCommit?: boolean } = {},
): Promise<void> {
  const consumer: Consumer = kafka.consumer({ groupId: group, maxBytesPerPartition: 1024 * 1024, maxBytes: 50 * 1024 * 1024, maxWaitTimeInMs: 100, sessionTimeout: 10_000 });
  await consumer.connect();
  const reached = new Map<number, boolean>([...ends].map(([p, end]) => [p, end === 0]));
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const check = () => {
    if ([...reached.values()].every(Boolean)) finish();
  };
  check();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: options.autoCommit ?? false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        const end = ends.get(batch.partition) ?? 0;
        const values = batch.messages.filter((m) => Number(m.offset) < end).map((m) => m.value);
        if (values.length > 0) await onBatch(values, batch.partition);
        const last = batch.messages[batch.messages.length - 1];
        if (last) resolveOffset(last.offset);
        if (last && Number(last.offset) >= end - 1) {
          reached.set(batch.partition, true);
          check();
        }
        await heartbeat();
      },
    });
    const timeoutMs = options.timeoutMs ?? 600_000;
    const timedOut = await Promise.race([done.then(() => false), sleep(timeoutMs).then(() => true)]);
    if (timedOut) throw new Error(`raw consumer of ${topic} did not reach the end within ${timeoutMs} ms`);
  } finally {
    await consumer.disconnect();
  }
}
