/** Raw producers that send given values to a live destination (latency and web benchmarks). */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Broker, Endpoints } from '../config';
import { kafkaClient, rawProducer } from './kafka';
import { rabbitConnect } from './rabbitmq';
import { entryFields, redisClient } from './redis';
import { queueUrl, sqsClient } from './sqs';

export interface RawSender {
  label: string;
  /** Sends `values` as one batch (SQS: calls of 10). */
  send(values: string[]): Promise<void>;
  close(): Promise<void>;
}

export async function rawSender(broker: Broker, endpoints: Endpoints, destination: string): Promise<RawSender> {
  switch (broker) {
    case 'kafka': {
      const producer = rawProducer(kafkaClient(endpoints, 'mailroom-bench-sender'));
      await producer.connect();
      return {
        label: 'kafkajs producer.send',
        send: async (values) => {
          await producer.send({ topic: destination, acks: 1, messages: values.map((value, i) => ({ key: `k-${i % 64}`, value })) });
        },
        close: () => producer.disconnect(),
      };
    }
    case 'rabbitmq': {
      const model = await rabbitConnect(endpoints, 'mailroom-bench-sender');
      const channel = await model.createChannel();
      return {
        label: 'amqplib publish',
        send: async (values) => {
          for (const value of values) channel.publish(destination, 'bench', Buffer.from(value));
        },
        close: () => model.close(),
      };
    }
    case 'redis': {
      const redis = redisClient(endpoints);
      let n = 0;
      return {
        label: 'ioredis XADD',
        send: async (values) => {
          const pipeline = redis.pipeline();
          for (const value of values) pipeline.xadd(destination, '*', ...entryFields(n++, value));
          await pipeline.exec();
        },
        close: async () => {
          redis.disconnect();
        },
      };
    }
    case 'sqs': {
      const sqs = sqsClient(endpoints);
      const url = await queueUrl(sqs, destination);
      return {
        label: 'SDK SendMessageBatch',
        send: async (values) => {
          const calls = [];
          for (let i = 0; i < values.length; i += 10) {
            calls.push(sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: values.slice(i, i + 10).map((v, j) => ({ Id: String(j), MessageBody: v })) })));
          }
          await Promise.all(calls);
        },
        close: async () => {
          sqs.destroy();
        },
      };
    }
  }
}
