import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import type { BenchConfig, Broker } from './config';
import { uniqueName } from './names';
import { createTopics, deleteTopics, kafkaClient } from './raw/kafka';
import { rabbitConnect } from './raw/rabbitmq';
import { redisClient } from './raw/redis';
import { createQueue, deleteQueues, sqsClient } from './raw/sqs';

export interface LiveDestination {
  broker: Broker;
  /** Kafka topic, RabbitMQ fanout exchange, Redis stream, SQS queue. */
  name: string;
  /** Empties it (between a raw run and a Mailroom run). */
  purge(): Promise<void>;
  remove(): Promise<void>;
}

export const KAFKA_LIVE_PARTITIONS = 3;

/** A fresh destination that producers write to and tails read from. */
export async function createLiveDestination(config: BenchConfig, broker: Broker, label: string): Promise<LiveDestination> {
  const name = uniqueName(label);
  const e = config.endpoints;
  switch (broker) {
    case 'kafka': {
      const kafka = kafkaClient(e);
      await createTopics(kafka, [{ topic: name, partitions: KAFKA_LIVE_PARTITIONS }]).catch(async (error: unknown) => {
        await deleteTopics(kafka, [name]).catch(() => undefined);
        throw error;
      });
      // A tail starts at the end: nothing to empty.
      return { broker, name, purge: async () => undefined, remove: () => deleteTopics(kafka, [name]) };
    }
    case 'rabbitmq': {
      const model = await rabbitConnect(e);
      const channel = await model.createChannel();
      await channel.assertExchange(name, 'fanout', { durable: false, autoDelete: false });
      await model.close();
      return {
        broker,
        name,
        // An exchange stores nothing; the tail's queue is its own.
        purge: async () => undefined,
        remove: async () => {
          const m = await rabbitConnect(e);
          const ch = await m.createChannel();
          await ch.deleteExchange(name).catch(() => undefined);
          await m.close().catch(() => undefined);
        },
      };
    }
    case 'redis': {
      const redis = redisClient(e);
      // The stream must exist for a tail to start; one seed entry, then it is trimmed by the feeders.
      await redis.xadd(name, '*', 'value', 'seed');
      redis.disconnect();
      return {
        broker,
        name,
        purge: async () => {
          const r = redisClient(e);
          await r.xtrim(name, 'MAXLEN', 0);
          r.disconnect();
        },
        remove: async () => {
          const r = redisClient(e);
          await r.unlink(name);
          r.disconnect();
        },
      };
    }
    case 'sqs': {
      const sqs = sqsClient(e);
      const url = await createQueue(sqs, name);
      return {
        broker,
        name,
        purge: async () => {
          await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
        },
        remove: async () => {
          await deleteQueues(sqs, [name]);
          sqs.destroy();
        },
      };
    }
  }
}
