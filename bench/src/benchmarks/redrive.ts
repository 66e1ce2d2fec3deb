import {
  DeleteMessageBatchCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Kafka } from 'kafkajs';
import type { Redis } from 'ioredis';
import type { ChannelModel } from 'amqplib';
import type { RedriveTask } from '@mailroom/server/router';
import { mailroomClient, type MailroomClient } from '../client';
import { scaled, type BenchConfig, type Broker } from '../config';
import { forEachBroker, ratioOf, type BenchContext } from '../context';
import { uniqueName } from '../names';
import { messageValue } from '../payload';
import { createTopics, deleteGroups, deleteTopics, highWatermarks, kafkaClient, produceCount, rawProducer } from '../raw/kafka';
import { fillQueue as fillRabbitQueue, management, queueDepth, rabbitConnect, vhostOf } from '../raw/rabbitmq';
import { deleteMatching, fillStream, redisClient } from '../raw/redis';
import { createQueue, deleteQueues, fillQueue as fillSqsQueue, queueArn, queueCounts, sqsClient } from '../raw/sqs';
import { ServerProcess } from '../server-process';
import { perSecond, waitUntil } from '../stats';

export const REDRIVE_FULL = 100_000;
const MOVE_TIMEOUT_MS = 30 * 60_000;

/** A DLQ filled with `count` dead letters and its origin, for one way of moving them. */
interface Pair {
  origin: string;
  dlq: string;
  /** How many messages are at the origin now. */
  originCount(): Promise<number>;
  /** How many are still in the DLQ. */
  dlqCount(): Promise<number>;
  /** Deletes both, right after the check, so at most one pair's messages sit on the broker. */
  remove(): Promise<void>;
}

interface BrokerKit {
  /** Creates an origin + DLQ pair (named by the broker's DLQ convention) with `count` dead letters. */
  pair(label: string, count: number): Promise<Pair>;
  /** The raw consume-produce loop. */
  rawLoop(pair: Pair, count: number): Promise<void>;
  rawLoopLabel: string;
  /** The broker's own move, where it has one. */
  native?: { label: string; move(pair: Pair, count: number): Promise<void> };
  cleanup(): Promise<void>;
  /**
   * Kafka: a DLQ topic is a log, so a move copies (records stay until retention), and
   * transaction markers take offsets at the origin: counts there are at least N, not exactly N.
   */
  copies?: boolean;
}

function kafkaKit(config: BenchConfig, prefix: string): BrokerKit {
  const kafka: Kafka = kafkaClient(config.endpoints);
  const topics: string[] = [];
  const groups: string[] = [];
  const count = async (topic: string) => [...(await highWatermarks(kafka, topic)).values()].reduce((a, b) => a + b, 0);
  // (Topics are created empty, so the high watermarks are the record count, transaction markers included.)
  return {
    copies: true,
    async pair(label, n) {
      const origin = `${prefix}-${label}`;
      const dlq = `${origin}.DLT`;
      topics.push(origin, dlq);
      await createTopics(kafka, [{ topic: origin, partitions: 3 }, { topic: dlq, partitions: 3 }]);
      const producer = rawProducer(kafka);
      await producer.connect();
      await produceCount(producer, dlq, n, (i) => messageValue(i), { headers: { 'x-mailroom-origin': origin } });
      await producer.disconnect();
      return { origin, dlq, originCount: () => count(origin), dlqCount: () => count(dlq), remove: () => deleteTopics(kafka, [origin, dlq]) };
    },
    rawLoopLabel: 'kafkajs consume → produce (acks all) → commit loop',
    async rawLoop(pair, n) {
      const group = `${pair.dlq}-raw-move`;
      groups.push(group);
      const producer = rawProducer(kafka);
      await producer.connect();
      const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100, maxBytesPerPartition: 1024 * 1024 });
      await consumer.connect();
      let moved = 0;
      try {
        await consumer.subscribe({ topic: pair.dlq, fromBeginning: true });
        await consumer.run({
          autoCommit: true,
          eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
            if (batch.messages.length === 0) return;
            await producer.send({ topic: pair.origin, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers ?? {} })) });
            resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
            await commitOffsetsIfNecessary();
            moved += batch.messages.length;
          },
        });
        await waitUntil('the raw Kafka move', () => moved >= n, MOVE_TIMEOUT_MS, 20);
      } finally {
        await consumer.disconnect();
        await producer.disconnect();
      }
    },
    async cleanup() {
      await deleteGroups(kafka, groups);
      await deleteTopics(kafka, topics);
    },
  };
}

function rabbitKit(config: BenchConfig, prefix: string): BrokerKit {
  const e = config.endpoints;
  const queues: string[] = [];
  let model: ChannelModel | null = null;
  const connection = async () => (model ??= await rabbitConnect(e));
  return {
    async pair(label, n) {
      const origin = `${prefix}-${label}`;
      const dlq = `${origin}.dlq`;
      queues.push(origin, dlq);
      const m = await connection();
      const channel = await m.createConfirmChannel();
      await channel.assertQueue(dlq, { durable: true, arguments: { 'x-queue-type': 'classic' } });
      await channel.assertQueue(origin, { durable: true, arguments: { 'x-queue-type': 'classic', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } });
      await fillRabbitQueue(channel, dlq, n, (i) => messageValue(i));
      await channel.close();
      return {
        origin,
        dlq,
        originCount: async () => queueDepth(await connection(), origin),
        dlqCount: async () => queueDepth(await connection(), dlq),
        remove: async () => {
          const ch = await (await connection()).createChannel();
          for (const q of [origin, dlq]) await ch.deleteQueue(q).catch(() => undefined);
          await ch.close().catch(() => undefined);
        },
      };
    },
    rawLoopLabel: 'amqplib consume → publish (confirm) → ack loop',
    async rawLoop(pair, n) {
      const m = await rabbitConnect(e, 'mailroom-bench-raw-move');
      try {
        const source = await m.createChannel();
        await source.prefetch(1000);
        const target = await m.createConfirmChannel();
        let moved = 0;
        await source.consume(pair.dlq, (message) => {
          if (!message) return;
          target.publish('', pair.origin, message.content, { ...message.properties, headers: message.properties.headers ?? {}, persistent: true }, (error) => {
            if (error) {
              source.nack(message, false, true);
              return;
            }
            source.ack(message);
            moved++;
          });
        });
        await waitUntil('the raw RabbitMQ move', () => moved >= n, MOVE_TIMEOUT_MS, 20);
      } finally {
        await m.close();
      }
    },
    native: {
      label: 'shovel (on-confirm, delete after queue-length)',
      async move(pair, n) {
        const vhost = encodeURIComponent(vhostOf(e));
        const name = `${pair.dlq}-shovel`;
        await management(e, 'PUT', `/parameters/shovel/${vhost}/${encodeURIComponent(name)}`, {
          value: {
            'src-protocol': 'amqp091',
            'src-uri': 'amqp://',
            'src-queue': pair.dlq,
            'dest-protocol': 'amqp091',
            'dest-uri': 'amqp://',
            'dest-queue': pair.origin,
            'ack-mode': 'on-confirm',
            'src-delete-after': 'queue-length',
          },
        });
        try {
          await waitUntil('the shovel', async () => (await pair.originCount()) >= n, MOVE_TIMEOUT_MS, 20);
        } finally {
          await management(e, 'DELETE', `/parameters/shovel/${vhost}/${encodeURIComponent(name)}`).catch(() => undefined);
        }
      },
    },
    async cleanup() {
      const m = await connection();
      const channel = await m.createChannel();
      for (const q of queues) await channel.deleteQueue(q).catch(() => undefined);
      await m.close().catch(() => undefined);
      model = null;
    },
  };
}

function redisKit(config: BenchConfig, prefix: string): BrokerKit {
  const redis: Redis = redisClient(config.endpoints);
  return {
    async pair(label, n) {
      const origin = `${prefix}-${label}`;
      const dlq = `${origin}:dlq`;
      await redis.xadd(origin, '*', 'value', 'seed');
      await redis.xtrim(origin, 'MAXLEN', 0);
      await fillStream(redis, dlq, n, (i) => messageValue(i));
      return { origin, dlq, originCount: () => redis.xlen(origin), dlqCount: () => redis.xlen(dlq), remove: async () => void (await redis.unlink(origin, dlq)) };
    },
    rawLoopLabel: 'ioredis XRANGE → MULTI(XADD…, XDEL) loop',
    async rawLoop(pair) {
      for (;;) {
        const entries = await redis.xrangeBuffer(pair.dlq, '-', '+', 'COUNT', 500);
        if (entries.length === 0) break;
        const multi = redis.multi();
        for (const [, fields] of entries) multi.xadd(pair.origin, '*', ...fields);
        multi.xdel(pair.dlq, ...entries.map(([id]) => id));
        const results = await multi.exec();
        const failed = results?.find(([error]) => error !== null);
        if (failed) throw failed[0];
      }
    },
    async cleanup() {
      await deleteMatching(redis, `${prefix}*`);
      redis.disconnect();
    },
  };
}

function sqsKit(config: BenchConfig, prefix: string): BrokerKit {
  const sqs: SQSClient = sqsClient(config.endpoints);
  const queues: string[] = [];
  const urls = new Map<string, string>();
  const arns = new Map<string, string>();
  const total = async (name: string) => {
    const c = await queueCounts(sqs, urls.get(name)!);
    return c.visible + c.inFlight;
  };
  return {
    async pair(label, n) {
      const origin = `${prefix}-${label}`;
      const dlq = `${origin}-dlq`;
      queues.push(origin, dlq);
      const dlqUrl = await createQueue(sqs, dlq);
      const dlqArn = await queueArn(sqs, dlqUrl);
      const originUrl = await createQueue(sqs, origin, { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: '5' }) });
      urls.set(origin, originUrl).set(dlq, dlqUrl);
      arns.set(origin, await queueArn(sqs, originUrl)).set(dlq, dlqArn);
      await fillSqsQueue(sqs, dlqUrl, n, (i) => messageValue(i));
      return { origin, dlq, originCount: () => total(origin), dlqCount: () => total(dlq), remove: () => deleteQueues(sqs, [origin, dlq]) };
    },
    rawLoopLabel: 'SDK receive → send batch → delete batch, 10 loops',
    async rawLoop(pair, n) {
      const from = urls.get(pair.dlq)!;
      const to = urls.get(pair.origin)!;
      let moved = 0;
      const worker = async () => {
        let empty = 0;
        while (moved < n && empty < 3) {
          const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: from, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60, MessageAttributeNames: ['All'] }));
          const messages = out.Messages ?? [];
          if (messages.length === 0) {
            empty++;
            continue;
          }
          empty = 0;
          const sent = await sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: to,
              Entries: messages.map((m, i) => ({ Id: String(i), MessageBody: m.Body ?? '', ...(m.MessageAttributes ? { MessageAttributes: m.MessageAttributes } : {}) })),
            }),
          );
          const ok = new Set((sent.Successful ?? []).map((s) => Number(s.Id)));
          const done = messages.filter((_, i) => ok.has(i));
          if (done.length > 0) {
            await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: from, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
          }
          moved += done.length;
        }
      };
      await Promise.all(Array.from({ length: 10 }, worker));
      if (moved < n) throw new Error(`raw SQS move stopped at ${moved} of ${n}`);
    },
    native: {
      label: 'StartMessageMoveTask',
      async move(pair, n) {
        const sourceArn = arns.get(pair.dlq)!;
        await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: arns.get(pair.origin)! }));
        await waitUntil(
          'the message move task',
          async () => {
            const tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }));
            const status = tasks.Results?.[0]?.Status;
            if (status === 'FAILED') throw new Error(`move task failed: ${tasks.Results?.[0]?.FailureReason}`);
            return status === 'COMPLETED' || (await pair.originCount()) >= n;
          },
          MOVE_TIMEOUT_MS,
          50,
        );
      },
    },
    async cleanup() {
      await deleteQueues(sqs, queues);
      sqs.destroy();
    },
  };
}

function kitFor(config: BenchConfig, broker: Broker, prefix: string): BrokerKit {
  switch (broker) {
    case 'kafka':
      return kafkaKit(config, prefix);
    case 'rabbitmq':
      return rabbitKit(config, prefix);
    case 'redis':
      return redisKit(config, prefix);
    case 'sqs':
      return sqsKit(config, prefix);
  }
}

async function timed(body: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await body();
  return performance.now() - started;
}

/**
 * Starts a redrive through the API and follows it on redrive.progress (SSE, as the UI does) until
 * the task ends; the time is from the start request to the event that reports the end.
 */
async function redriveThroughServer(client: MailroomClient, connectionId: string, pair: Pair): Promise<{ ms: number; moved: number; status: string; error: string | null }> {
  const started = performance.now();
  const task = await client.redrive.start.mutate({ connectionId, source: pair.dlq, target: pair.origin, selection: { kind: 'all' } });
  const final = await new Promise<RedriveTask>((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error(`redrive ${task.id} still running after ${MOVE_TIMEOUT_MS} ms`));
    }, MOVE_TIMEOUT_MS);
    const sub = client.redrive.progress.subscribe(
      { taskId: task.id, minIntervalMs: 0 },
      {
        onData: (tracked) => {
          const now = (tracked as unknown as { data: RedriveTask }).data;
          if (now.status === 'running') return;
          clearTimeout(timer);
          sub.unsubscribe();
          resolve(now);
        },
        onError: (error) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      },
    );
  });
  return { ms: performance.now() - started, moved: final.progress.moved, status: final.status, error: final.error };
}

/**
 * Redrive: N dead letters per broker moved back through the API (redrive.start, watched until
 * done), against the fastest raw move on the same broker: a consume-produce loop with the same
 * guarantee (the copy is confirmed before the source is removed), and the native move where
 * the broker has one (RabbitMQ shovel, SQS StartMessageMoveTask).
 */
export async function runRedrive(ctx: BenchContext): Promise<void> {
  const { config } = ctx;
  const count = scaled(config, REDRIVE_FULL, 1_000);
  await forEachBroker(ctx, 'redrive', ['kafka', 'rabbitmq', 'redis', 'sqs'], async (broker) => {
    const kit = kitFor(config, broker, uniqueName('redrive'));
    const server = await ServerProcess.start(config, { brokers: [broker], label: `redrive-${broker}` });
    try {
      const notes: string[] = [];
      const check = async (pair: Pair, what: string) => {
        const [atOrigin, left] = await Promise.all([pair.originCount(), pair.dlqCount()]);
        const ok = kit.copies ? atOrigin >= count : atOrigin === count && left === 0;
        if (!ok) notes.push(`${what}: ${atOrigin} at the origin and ${left} left in the DLQ (expected ${count}${kit.copies ? ' or more' : ' and 0'}).`);
        await pair.remove();
      };

      const mailroomPair = await kit.pair('mailroom', count);
      server.profileWindow(`redrive ${broker}`);
      const cpuBefore = server.cpuSeconds() ?? Number.NaN;
      const mailroom = await redriveThroughServer(mailroomClient(server.url), broker, mailroomPair);
      const serverCpuS = (server.cpuSeconds() ?? Number.NaN) - cpuBefore;
      server.endProfileWindow();
      if (mailroom.status !== 'completed') throw new Error(`redrive ended ${mailroom.status}: ${mailroom.error ?? ''}`);
      if (mailroom.moved !== count) notes.push(`the task reported ${mailroom.moved} moved of ${count}.`);
      await check(mailroomPair, 'Mailroom');
      const mailroomRate = perSecond(count, mailroom.ms);
      ctx.log(`  Mailroom redrive: ${Math.round(mailroomRate)} msg/s (${(mailroom.ms / 1000).toFixed(1)} s)`);

      const loopPair = await kit.pair('raw', count);
      const loopMs = await timed(() => kit.rawLoop(loopPair, count));
      await check(loopPair, 'raw loop');
      const loopRate = perSecond(count, loopMs);
      ctx.log(`  raw loop: ${Math.round(loopRate)} msg/s`);

      let nativeRate: number | null = null;
      if (kit.native) {
        const nativePair = await kit.pair('native', count);
        const nativeMs = await timed(() => kit.native!.move(nativePair, count));
        await check(nativePair, kit.native.label);
        nativeRate = perSecond(count, nativeMs);
        ctx.log(`  native ${kit.native.label}: ${Math.round(nativeRate)} msg/s`);
      }
      const fastestIsNative = nativeRate !== null && nativeRate > loopRate;
      const fastest = fastestIsNative ? nativeRate! : loopRate;
      const ratio = ratioOf(mailroomRate, fastest);
      ctx.add({
        benchmark: 'redrive',
        title: `Redrive ${count.toLocaleString('en-US')} dead letters`,
        broker,
        unit: 'msg/s',
        mailroom: mailroomRate,
        raw: fastest,
        rawLabel: fastestIsNative ? kit.native!.label : kit.rawLoopLabel,
        ratio,
        target: '≥ 0.5 × fastest raw move',
        met: ratio === null ? null : ratio >= 0.5,
        details: {
          'Mailroom s': mailroom.ms / 1000,
          'server CPU s': serverCpuS,
          'raw loop msg/s': loopRate,
          ...(nativeRate !== null ? { [`${kit.native!.label} msg/s`]: nativeRate } : {}),
        },
        notes,
      });
    } finally {
      await server.stop();
      await kit.cleanup().catch((error: unknown) => ctx.log(`  cleanup failed: ${String(error)}`));
    }
  });
}
