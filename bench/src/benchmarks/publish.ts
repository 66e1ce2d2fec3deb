import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { mailroomClient } from '../client';
import { scaled, type BenchConfig, type Broker } from '../config';
import { forEachBroker, ratioOf, type BenchContext } from '../context';
import { uniqueName } from '../names';
import { messageValue } from '../payload';
import { createTopics, deleteTopics, highWatermarks, kafkaClient, rawProducer } from '../raw/kafka';
import { queueDepth, rabbitConnect } from '../raw/rabbitmq';
import { entryFields, redisClient } from '../raw/redis';
import { createQueue, deleteQueues, queueCounts, sqsClient } from '../raw/sqs';
import { ServerProcess } from '../server-process';
import { perSecond, sleep } from '../stats';

export const PUBLISH_FULL = 100_000;
export const PUBLISH_BATCH = 1_000;
/** SendMessageBatch calls a raw SQS producer keeps in flight. */
const SQS_RAW_IN_FLIGHT = 10;

interface Target {
  name: string;
  count(): Promise<number>;
  remove(): Promise<void>;
}

interface PublishKit {
  create(label: string): Promise<Target>;
  /** Sends messages [from, to) with the raw producer, as one batch. */
  rawBatch(target: Target, from: number, to: number): Promise<void>;
  rawLabel: string;
  open(): Promise<void>;
  cleanup(): Promise<void>;
}

function kit(config: BenchConfig, broker: Broker, prefix: string): PublishKit {
  const e = config.endpoints;
  const names: string[] = [];
  switch (broker) {
    case 'kafka': {
      const kafka = kafkaClient(e);
      // A producer per destination: a kafkajs producer refreshes metadata for every topic it ever
      // sent to, so once an earlier run's topic is deleted its sends fail (UNKNOWN_TOPIC_OR_PARTITION).
      const producers = new Map<string, ReturnType<typeof rawProducer>>();
      return {
        async create(label) {
          const name = `${prefix}-${label}`;
          names.push(name);
          await createTopics(kafka, [{ topic: name, partitions: 3 }]);
          return {
            name,
            count: async () => [...(await highWatermarks(kafka, name)).values()].reduce((a, b) => a + b, 0),
            remove: async () => {
              await producers.get(name)?.disconnect();
              producers.delete(name);
              await deleteTopics(kafka, [name]);
            },
          };
        },
        rawLabel: 'kafkajs producer.send (acks all)',
        open: async () => undefined,
        async rawBatch(target, from, to) {
          let producer = producers.get(target.name);
          if (!producer) {
            producer = rawProducer(kafka);
            producers.set(target.name, producer);
            await producer.connect();
          }
          const messages = [];
          for (let n = from; n < to; n++) messages.push({ key: `k-${n % 64}`, value: messageValue(n) });
          await producer.send({ topic: target.name, acks: -1, messages });
        },
        async cleanup() {
          for (const producer of producers.values()) await producer.disconnect().catch(() => undefined);
          await deleteTopics(kafka, names);
        },
      };
    }
    case 'rabbitmq': {
      let model: Awaited<ReturnType<typeof rabbitConnect>> | null = null;
      let channel: Awaited<ReturnType<Awaited<ReturnType<typeof rabbitConnect>>['createConfirmChannel']>> | null = null;
      return {
        async create(label) {
          const name = `${prefix}-${label}`;
          names.push(name);
          const m = await rabbitConnect(e);
          const ch = await m.createChannel();
          await ch.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'classic' } });
          await m.close();
          return {
            name,
            count: async () => {
              const m2 = await rabbitConnect(e);
              try {
                return await queueDepth(m2, name);
              } finally {
                await m2.close();
              }
            },
            remove: async () => {
              const m2 = await rabbitConnect(e);
              const ch2 = await m2.createChannel();
              await ch2.deleteQueue(name).catch(() => undefined);
              await m2.close();
            },
          };
        },
        rawLabel: 'amqplib confirm channel, persistent, waitForConfirms per batch',
        async open() {
          model = await rabbitConnect(e, 'mailroom-bench-raw-publish');
          channel = await model.createConfirmChannel();
        },
        async rawBatch(target, from, to) {
          for (let n = from; n < to; n++) channel!.publish('', target.name, Buffer.from(messageValue(n)), { persistent: true });
          await channel!.waitForConfirms();
        },
        async cleanup() {
          const m = model ?? (await rabbitConnect(e));
          const ch = await m.createChannel();
          for (const n of names) await ch.deleteQueue(n).catch(() => undefined);
          await m.close();
        },
      };
    }
    case 'redis': {
      const redis = redisClient(e);
      return {
        async create(label) {
          const name = `${prefix}-${label}`;
          names.push(name);
          return { name, count: () => redis.xlen(name), remove: async () => void (await redis.unlink(name)) };
        },
        rawLabel: 'ioredis pipeline of XADDs',
        open: async () => undefined,
        async rawBatch(target, from, to) {
          const pipeline = redis.pipeline();
          for (let n = from; n < to; n++) pipeline.xadd(target.name, '*', ...entryFields(n, messageValue(n)));
          const results = await pipeline.exec();
          const failed = results?.find(([error]) => error !== null);
          if (failed) throw failed[0];
        },
        async cleanup() {
          if (names.length > 0) await redis.unlink(...names);
          redis.disconnect();
        },
      };
    }
    case 'sqs': {
      const sqs = sqsClient(e);
      const urls = new Map<string, string>();
      return {
        async create(label) {
          const name = `${prefix}-${label}`;
          names.push(name);
          const url = await createQueue(sqs, name);
          urls.set(name, url);
          return {
            name,
            count: async () => {
              const c = await queueCounts(sqs, url);
              return c.visible + c.inFlight;
            },
            remove: () => deleteQueues(sqs, [name]),
          };
        },
        rawLabel: `SDK SendMessageBatch ×10 messages, ${SQS_RAW_IN_FLIGHT} calls in flight`,
        open: async () => undefined,
        async rawBatch(target, from, to) {
          const url = urls.get(target.name)!;
          const chunks: number[] = [];
          for (let n = from; n < to; n += 10) chunks.push(n);
          let next = 0;
          const worker = async () => {
            while (next < chunks.length) {
              const start = chunks[next++]!;
              const entries = [];
              for (let n = start; n < Math.min(to, start + 10); n++) entries.push({ Id: String(n - start), MessageBody: messageValue(n) });
              const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
              if (out.Failed && out.Failed.length > 0) throw new Error(`SendMessageBatch: ${out.Failed[0]?.Code}`);
            }
          };
          await Promise.all(Array.from({ length: SQS_RAW_IN_FLIGHT }, worker));
        },
        async cleanup() {
          await deleteQueues(sqs, names);
          sqs.destroy();
        },
      };
    }
  }
}

async function retryUnknownTopic<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const text = String((error as Error).message) + String((error as { cause?: unknown }).cause ?? '');
      if (attempt >= 20 || !/does not host this topic-partition|UNKNOWN_TOPIC/i.test(text)) throw error;
      await sleep(250);
    }
  }
}

/**
 * Publish: N messages in batches of 1,000 through messages.publish (one request per batch,
 * one after another), against the raw producer sending the same batches.
 */
export async function runPublish(ctx: BenchContext): Promise<void> {
  const { config } = ctx;
  const count = scaled(config, PUBLISH_FULL, PUBLISH_BATCH);
  await forEachBroker(ctx, 'publish', ['kafka', 'rabbitmq', 'redis', 'sqs'], async (broker) => {
    const k = kit(config, broker, uniqueName('publish'));
    const server = await ServerProcess.start(config, { brokers: [broker], label: `publish-${broker}` });
    try {
      const client = mailroomClient(server.url);
      const notes: string[] = [];
      await k.open();
      const mailroomRuns: number[] = [];
      const rawRuns: number[] = [];
      const serverCpu: number[] = [];
      const rawCpu: number[] = [];
      const warmUp = { key: 'warm-up', headers: {}, value: { encoding: 'text' as const, data: messageValue(-1) } };
      // Each run gets fresh destinations, counted and deleted right after it, so a full run never
      // keeps more than one run's messages on a broker (ElasticMQ's heap is 256 MB).
      const check = async (target: Target, side: string) => {
        const stored = await target.count();
        if (stored !== count + 1) notes.push(`${side}: ${stored} stored (expected ${count + 1}, warm-up included).`);
        await target.remove();
      };
      for (let rep = 0; rep < config.repeat; rep++) {
        const viaApi = await k.create(`api-${rep}`);
        // Warm-up: one small request (connections, metadata), as a UI would have made before. A
        // topic created a moment ago may still be unknown to a metadata request: retry that.
        await retryUnknownTopic(() => client.messages.publish.mutate({ connectionId: broker, destination: viaApi.name, messages: [warmUp] }));
        server.profileWindow(`publish ${broker} ${rep + 1}`);
        const cpuBefore = server.cpuSeconds() ?? Number.NaN;
        const started = performance.now();
        for (let from = 0; from < count; from += PUBLISH_BATCH) {
          const to = Math.min(count, from + PUBLISH_BATCH);
          const messages = [];
          for (let n = from; n < to; n++) messages.push({ key: `k-${n % 64}`, headers: {}, value: { encoding: 'text' as const, data: messageValue(n) } });
          const result = await client.messages.publish.mutate({ connectionId: broker, destination: viaApi.name, messages });
          if (result.published !== to - from) throw new Error(`publish returned ${result.published} for ${to - from}`);
        }
        mailroomRuns.push(performance.now() - started);
        serverCpu.push((server.cpuSeconds() ?? Number.NaN) - cpuBefore);
        server.endProfileWindow();
        await check(viaApi, `Mailroom run ${rep + 1}`);

        const viaRaw = await k.create(`raw-${rep}`);
        await retryUnknownTopic(() => k.rawBatch(viaRaw, -1, 0));
        const rawStarted = performance.now();
        const rawCpuBefore = process.cpuUsage();
        for (let from = 0; from < count; from += PUBLISH_BATCH) await k.rawBatch(viaRaw, from, Math.min(count, from + PUBLISH_BATCH));
        rawRuns.push(performance.now() - rawStarted);
        const rawUsage = process.cpuUsage(rawCpuBefore);
        rawCpu.push((rawUsage.user + rawUsage.system) / 1e6);
        await check(viaRaw, `raw run ${rep + 1}`);
        ctx.log(`  run ${rep + 1}: Mailroom ${Math.round(perSecond(count, mailroomRuns[rep]!))} msg/s, raw ${Math.round(perSecond(count, rawRuns[rep]!))} msg/s`);
      }
      const mailroomMs = Math.min(...mailroomRuns);
      const rawMs = Math.min(...rawRuns);
      const rate = perSecond(count, mailroomMs);
      const rawRate = perSecond(count, rawMs);
      const ratio = ratioOf(rate, rawRate);
      ctx.add({
        benchmark: 'publish',
        title: `Publish ${count.toLocaleString('en-US')} in batches of ${PUBLISH_BATCH.toLocaleString('en-US')}`,
        broker,
        unit: 'msg/s',
        mailroom: rate,
        raw: rawRate,
        rawLabel: k.rawLabel,
        ratio,
        target: '≥ 0.7 × raw',
        met: ratio === null ? null : ratio >= 0.7,
        details: { 'Mailroom ms/request': mailroomMs / Math.ceil(count / PUBLISH_BATCH), 'raw ms/batch': rawMs / Math.ceil(count / PUBLISH_BATCH), 'server CPU µs/msg': (Math.min(...serverCpu) * 1e6) / count, 'raw client CPU µs/msg': (Math.min(...rawCpu) * 1e6) / count, 'best of': config.repeat, _mailroomRunsMs: mailroomRuns, _rawRunsMs: rawRuns },
        notes,
      });
    } finally {
      await server.stop();
      await k.cleanup().catch((error: unknown) => ctx.log(`  cleanup failed: ${String(error)}`));
    }
  });
}
