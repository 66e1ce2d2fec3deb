/**
 * The raw clients that the live tail is compared with: each one reads a destination from "now"
 * with the broker's own library as an application would, and reports how many messages it got.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Broker, Endpoints } from '../config';
import { deleteGroups, kafkaClient } from './kafka';
import { rabbitConnect } from './rabbitmq';
import { redisClient } from './redis';
import { queueUrl, sqsClient } from './sqs';

export interface RawWatcher {
  label: string;
  stop(): Promise<void>;
}

/** `onMessages(values)` gets each delivered batch's values (strings) as the raw client hands them over. */
export type OnMessages = (values: string[]) => void;

async function kafkaWatcher(endpoints: Endpoints, topic: string, onMessages: OnMessages): Promise<RawWatcher> {
  const kafka = kafkaClient(endpoints, 'mailroom-bench-raw');
  const group = `${topic}-raw`;
  const consumer = kafka.consumer({ groupId: group, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      onMessages(batch.messages.map((m) => m.value?.toString('utf8') ?? ''));
    },
  });
  return {
    label: 'kafkajs consumer, eachBatch',
    async stop() {
      await consumer.disconnect();
      await deleteGroups(kafka, [group]);
    },
  };
}

async function rabbitWatcher(endpoints: Endpoints, exchange: string, onMessages: OnMessages): Promise<RawWatcher> {
  const model = await rabbitConnect(endpoints, 'mailroom-bench-raw');
  const channel = await model.createChannel();
  // What the tail does too: a temporary bounded queue bound to the exchange, consumed without acks.
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false, arguments: { 'x-queue-type': 'classic', 'x-max-length': 10_000, 'x-overflow': 'drop-head' } });
  await channel.bindQueue(queue, exchange, '#');
  await channel.consume(queue, (message) => {
    if (message) onMessages([message.content.toString('utf8')]);
  }, { noAck: true, exclusive: true });
  return {
    label: 'amqplib consumer, temporary queue, noAck',
    async stop() {
      await model.close();
    },
  };
}

async function redisWatcher(endpoints: Endpoints, stream: string, onMessages: OnMessages): Promise<RawWatcher> {
  const redis = redisClient(endpoints);
  let stopped = false;
  const info = (await redis.xinfo('STREAM', stream)) as unknown[];
  const at = info.indexOf('last-generated-id');
  let lastId = String(info[at + 1]);
  const running = (async () => {
    while (!stopped) {
      const reply = await redis.xreadBuffer('COUNT', 500, 'BLOCK', 500, 'STREAMS', stream, lastId).catch(() => null);
      if (!reply) continue;
      for (const [, entries] of reply) {
        const values: string[] = [];
        for (const [id, fields] of entries) {
          lastId = id.toString('latin1');
          for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i]!.toString('latin1') === 'value') values.push(fields[i + 1]!.toString('utf8'));
        }
        onMessages(values);
      }
    }
  })();
  return {
    label: 'ioredis XREAD BLOCK loop',
    async stop() {
      stopped = true;
      await running;
      redis.disconnect();
    },
  };
}

async function sqsWatcher(endpoints: Endpoints, queue: string, onMessages: OnMessages): Promise<RawWatcher> {
  const sqs = sqsClient(endpoints);
  const url = await queueUrl(sqs, queue);
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      const messages = out.Messages ?? [];
      if (messages.length === 0) continue;
      onMessages(messages.map((m) => m.Body ?? ''));
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
  })();
  return {
    label: 'SDK receive + delete loop',
    async stop() {
      stopped = true;
      await running;
      sqs.destroy();
    },
  };
}

export function startWatcher(broker: Broker, endpoints: Endpoints, destination: string, onMessages: OnMessages): Promise<RawWatcher> {
  switch (broker) {
    case 'kafka':
      return kafkaWatcher(endpoints, destination, onMessages);
    case 'rabbitmq':
      return rabbitWatcher(endpoints, destination, onMessages);
    case 'redis':
      return redisWatcher(endpoints, destination, onMessages);
    case 'sqs':
      return sqsWatcher(endpoints, destination, onMessages);
  }
}
