import { mailroomClient, type MailroomClient } from '../client';
import { scaled, type BenchConfig, type Broker } from '../config';
import { forEachBroker, type BenchContext } from '../context';
import { uniqueName } from '../names';
import { createTopics, deleteGroups, deleteTopics, kafkaClient } from '../raw/kafka';
import { rabbitConnect } from '../raw/rabbitmq';
import { deleteMatching, redisClient } from '../raw/redis';
import { createQueue, deleteQueues, sqsClient } from '../raw/sqs';
import { ServerProcess } from '../server-process';
import type { Channel } from 'amqplib';
import type { Kafka, Transaction } from 'kafkajs';
import { median, sleep } from '../stats';

export const DESTINATIONS_FULL = 10_000;
export const GROUPS_FULL = 100;
export const PARTITIONS_PER_GROUP = 10;
const REQUESTS = 7;
const TARGET_MS = 300;
const KAFKA_RECORDS_PER_PARTITION = 20;
const KAFKA_COMMITTED_OFFSET = 10;

/** How many destinations each broker gets: Redis streams are cheap, so always the full 10,000. */
function destinationCount(config: BenchConfig, broker: Broker): number {
  return broker === 'redis' ? DESTINATIONS_FULL : scaled(config, DESTINATIONS_FULL, 500);
}

interface Timings {
  times: number[];
  errors: string[];
}

/** One warm-up request (connections, JIT), then `n` timed ones; a failed request is kept as an error. */
async function timeRequests(request: () => Promise<unknown>, n = REQUESTS): Promise<Timings> {
  const errors: string[] = [];
  await request().catch((error: unknown) => errors.push(error instanceof Error ? error.message : String(error)));
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    // A request that times out may leave the broker busy with what the server had started:
    // after two failures, stop asking (the failures are reported).
    if (errors.length >= 2) break;
    const started = performance.now();
    try {
      await request();
      times.push(performance.now() - started);
    } catch (error) {
      errors.push(`after ${Math.round(performance.now() - started)} ms: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { times, errors };
}

/** Creates `count` destinations; the returned function deletes them (also run here if creating fails half-way). */
async function createDestinations(config: BenchConfig, broker: Broker, prefix: string, count: number): Promise<() => Promise<void>> {
  const e = config.endpoints;
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);
  let create: () => Promise<void>;
  let remove: () => Promise<void>;
  switch (broker) {
    case 'redis': {
      const redis = redisClient(e);
      create = async () => {
        for (let i = 0; i < names.length; i += 1000) {
          const pipeline = redis.pipeline();
          for (const name of names.slice(i, i + 1000)) pipeline.xadd(name, '*', 'value', 'x');
          await pipeline.exec();
        }
      };
      remove = async () => {
        await deleteMatching(redis, `${prefix}-*`);
        redis.disconnect();
      };
      break;
    }
    case 'rabbitmq': {
      const inBatches = async (each: (channel: Channel, name: string) => Promise<unknown>) => {
        const model = await rabbitConnect(e);
        try {
          const channel = await model.createChannel();
          for (let i = 0; i < names.length; i += 500) await Promise.all(names.slice(i, i + 500).map((n) => each(channel, n)));
        } finally {
          await model.close().catch(() => undefined);
        }
      };
      create = () => inBatches((channel, n) => channel.assertQueue(n, { durable: false, arguments: { 'x-queue-type': 'classic' } }));
      remove = () => inBatches((channel, n) => channel.deleteQueue(n).catch(() => undefined));
      break;
    }
    case 'sqs': {
      const sqs = sqsClient(e);
      create = async () => {
        for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map((n) => createQueue(sqs, n)));
      };
      remove = async () => {
        for (let i = 0; i < names.length; i += 50) await deleteQueues(sqs, names.slice(i, i + 50));
        sqs.destroy();
      };
      break;
    }
    case 'kafka':
      throw new Error('Kafka destinations are the lag benchmark topics');
  }
  try {
    await create();
  } catch (error) {
    await remove().catch(() => undefined);
    throw error;
  }
  return remove;
}

/**
 * Kafka: `groups` topics of 10 partitions with 20 records each, and one consumer group per
 * topic that committed offset 10 on every partition (lag 10 each), committed through a
 * transactional producer's sendOffsets (no member has to join).
 */
async function createLagTopology(config: BenchConfig, prefix: string, groups: number): Promise<{ topics: string[]; groupIds: string[]; remove: () => Promise<void> }> {
  const kafka = kafkaClient(config.endpoints);
  const topics = Array.from({ length: groups }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
  const groupIds = topics.map((t) => `${t}-group`);
  const remove = async () => {
    await deleteGroups(kafka, groupIds);
    await deleteTopics(kafka, topics);
  };
  try {
    await createLagRecords(kafka, prefix, topics, groupIds);
  } catch (error) {
    await remove().catch(() => undefined);
    throw error;
  }
  return { topics, groupIds, remove };
}

async function createLagRecords(kafka: Kafka, prefix: string, topics: string[], groupIds: string[]): Promise<void> {
  await createTopics(kafka, topics.map((topic) => ({ topic, partitions: PARTITIONS_PER_GROUP })));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, transactionalId: `${prefix}-tx`, allowAutoTopicCreation: false });
  await producer.connect();
  // Right after a commit the broker may still answer CONCURRENT_TRANSACTIONS (see infra/README.md): retry.
  const inTransaction = async (body: (tx: Transaction) => Promise<void>) => {
    for (let attempt = 0; ; attempt++) {
      const tx = await producer.transaction();
      try {
        await body(tx);
        await tx.commit();
        return;
      } catch (error) {
        await tx.abort().catch(() => undefined);
        if (attempt >= 20 || !String((error as Error).message).includes('concurrent operation')) throw error;
        await sleep(100);
      }
    }
  };
  try {
    for (const topic of topics) {
      const messages: { partition: number; value: string }[] = [];
      for (let p = 0; p < PARTITIONS_PER_GROUP; p++) for (let i = 0; i < KAFKA_RECORDS_PER_PARTITION; i++) messages.push({ partition: p, value: `r-${i}` });
      await inTransaction((tx) => tx.send({ topic, messages }).then(() => undefined));
    }
    for (let i = 0; i < topics.length; i++) {
      await inTransaction((tx) =>
        tx.sendOffsets({
          consumerGroupId: groupIds[i]!,
          topics: [{ topic: topics[i]!, partitions: Array.from({ length: PARTITIONS_PER_GROUP }, (_, p) => ({ partition: p, offset: String(KAFKA_COMMITTED_OFFSET) })) }],
        }),
      );
    }
  } finally {
    await producer.disconnect();
  }
}

function row(ctx: BenchContext, title: string, broker: Broker, timings: Timings, details: Record<string, unknown>, notes: string[] = []): void {
  const { times, errors } = timings;
  const med = times.length > 0 ? median(times) : null;
  if (errors.length > 0) notes.push(`${errors.length} request(s) failed, e.g. ${errors[0]}`);
  ctx.add({
    benchmark: 'listing',
    title,
    broker,
    unit: 'ms',
    mailroom: med,
    raw: null,
    rawLabel: null,
    ratio: null,
    target: `< ${TARGET_MS} ms per request`,
    met: med !== null && errors.length === 0 && med < TARGET_MS,
    details: { 'max ms': times.length > 0 ? Math.max(...times) : Number.NaN, requests: times.length, ...details },
    notes,
  });
}

async function timeDestinationList(client: MailroomClient, connectionId: string): Promise<{ uncached: Timings; cached: Timings; total: number }> {
  let total = 0;
  const uncached = await timeRequests(async () => {
    const page = await client.destinations.list.query({ connectionId, refresh: true, limit: 100 });
    total = page.total;
  });
  const cached = await timeRequests(() => client.destinations.list.query({ connectionId, limit: 100, offset: 100 }));
  return { uncached, cached, total };
}

/**
 * Listing: destinations.list over 10,000 destinations (median time per request, the server's
 * cache bypassed with refresh), and groups.list with the lag of 1,000 Kafka partitions across
 * 100 groups.
 */
export async function runListing(ctx: BenchContext): Promise<void> {
  const { config } = ctx;
  await forEachBroker(ctx, 'listing', ['redis', 'rabbitmq', 'sqs'], async (broker) => {
    const count = destinationCount(config, broker);
    const prefix = uniqueName('list');
    const created = performance.now();
    const remove = await createDestinations(config, broker, prefix, count);
    ctx.log(`  created ${count} destinations in ${((performance.now() - created) / 1000).toFixed(1)} s`);
    let server: ServerProcess | null = null;
    try {
      server = await ServerProcess.start(config, { brokers: [broker], label: `listing-${broker}` });
      const client = mailroomClient(server.url);
      server.profileWindow(`destinations.list ${broker}`);
      const { uncached, cached, total } = await timeDestinationList(client, broker);
      server.endProfileWindow();
      ctx.log(`  destinations.list: median ${median(uncached.times).toFixed(0)} ms uncached, ${median(cached.times).toFixed(0)} ms cached; ${total} listed; ${uncached.errors.length} failed`);
      const notes = total < count ? [`the list held ${total} destinations, fewer than the ${count} created.`] : [];
      row(ctx, `List ${count.toLocaleString('en-US')} destinations`, broker, uncached, { 'destinations listed': total, 'cached ms (within the 3 s cache)': median(cached.times) }, notes);
    } finally {
      await server?.stop();
      await remove().catch((error: unknown) => ctx.log(`  cleanup failed: ${String(error)}`));
    }
  });

  await forEachBroker(ctx, 'listing', ['kafka'], async (broker) => {
    const groups = scaled(config, GROUPS_FULL, 10);
    const prefix = uniqueName('lag');
    const created = performance.now();
    const topology = await createLagTopology(config, prefix, groups);
    ctx.log(`  created ${groups} topics × ${PARTITIONS_PER_GROUP} partitions and ${groups} groups in ${((performance.now() - created) / 1000).toFixed(1)} s`);
    let server: ServerProcess | null = null;
    try {
      server = await ServerProcess.start(config, { brokers: [broker], label: 'listing-kafka' });
      const client = mailroomClient(server.url);
      let seen = 0;
      let lagOk = true;
      const mine = new Set(topology.groupIds);
      server.profileWindow('groups.list kafka');
      const times = await timeRequests(async () => {
        const list = await client.groups.list.query({ connectionId: broker });
        const ours = list.filter((g) => mine.has(g.name));
        seen = ours.length;
        lagOk = ours.every((g) => g.lag === PARTITIONS_PER_GROUP * (KAFKA_RECORDS_PER_PARTITION + 1 - KAFKA_COMMITTED_OFFSET));
      });
      server.endProfileWindow();
      ctx.log(`  groups.list: median ${median(times.times).toFixed(0)} ms (${seen} of ours)`);
      const notes: string[] = [];
      if (seen !== groups) notes.push(`groups.list returned ${seen} of the ${groups} groups.`);
      if (!lagOk) notes.push('a group lag differed from the expected value.');
      row(ctx, `Lag of ${(groups * PARTITIONS_PER_GROUP).toLocaleString('en-US')} partitions in ${groups} groups (groups.list)`, broker, times, { partitions: groups * PARTITIONS_PER_GROUP, groups }, notes);
      const { uncached, total } = await timeDestinationList(client, broker);
      row(ctx, `List ${total.toLocaleString('en-US')} Kafka topics (with the lag topology)`, broker, uncached, { 'destinations listed': total });
    } finally {
      await server?.stop();
      await topology.remove().catch((error: unknown) => ctx.log(`  cleanup failed: ${String(error)}`));
    }
  });
}
