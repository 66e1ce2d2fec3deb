/**
 * Child process: feeds one destination at full speed with the broker's raw client until it is
 * sent SIGTERM (or `maxSeconds` pass), then prints `{"sent":N,"ms":T}`. It runs in a process
 * of its own so its CPU use never slows the process that measures delivery.
 *
 * Usage: tsx src/feeder.ts '<FeederSpec as JSON>'
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Broker, Endpoints } from './config';
import { messageValue } from './payload';
import { kafkaClient, rawProducer } from './raw/kafka';
import { rabbitConnect } from './raw/rabbitmq';
import { entryFields, redisClient } from './raw/redis';
import { queueUrl, sqsClient } from './raw/sqs';

export interface FeederSpec {
  broker: Broker;
  /** Kafka topic, RabbitMQ exchange, Redis stream or SQS queue. */
  destination: string;
  endpoints: Endpoints;
  maxSeconds: number;
}

let stopping = false;
let sent = 0;

async function feedKafka(spec: FeederSpec): Promise<() => Promise<void>> {
  const kafka = kafkaClient(spec.endpoints, 'mailroom-bench-feeder');
  const producer = rawProducer(kafka);
  await producer.connect();
  const worker = async () => {
    while (!stopping) {
      const messages = [];
      for (let i = 0; i < 500; i++) messages.push({ key: `k-${(sent + i) % 64}`, value: messageValue(sent + i) });
      await producer.send({ topic: spec.destination, messages });
      sent += messages.length;
    }
  };
  const running = Promise.all(Array.from({ length: 4 }, worker));
  return async () => {
    await running;
    await producer.disconnect();
  };
}

async function feedRabbit(spec: FeederSpec): Promise<() => Promise<void>> {
  const model = await rabbitConnect(spec.endpoints, 'mailroom-bench-feeder');
  const channel = await model.createChannel();
  const running = (async () => {
    while (!stopping) {
      let ok = true;
      for (let i = 0; i < 200 && ok; i++) {
        ok = channel.publish(spec.destination, 'bench', Buffer.from(messageValue(sent)), { persistent: false });
        sent++;
      }
      if (!ok) await new Promise<void>((resolve) => channel.once('drain', () => resolve()));
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  })();
  return async () => {
    await running;
    await model.close();
  };
}

async function feedRedis(spec: FeederSpec): Promise<() => Promise<void>> {
  const redis = redisClient(spec.endpoints);
  const worker = async () => {
    while (!stopping) {
      const pipeline = redis.pipeline();
      for (let i = 0; i < 500; i++) pipeline.xadd(spec.destination, 'MAXLEN', '~', '200000', '*', ...entryFields(sent + i, messageValue(sent + i)));
      sent += 500;
      await pipeline.exec();
    }
  };
  const running = Promise.all(Array.from({ length: 2 }, worker));
  return async () => {
    await running;
    redis.disconnect();
  };
}

async function feedSqs(spec: FeederSpec): Promise<() => Promise<void>> {
  const sqs = sqsClient(spec.endpoints);
  const url = await queueUrl(sqs, spec.destination);
  const worker = async () => {
    while (!stopping) {
      const entries = Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: messageValue(sent + i) }));
      sent += 10;
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
    }
  };
  const running = Promise.all(Array.from({ length: 16 }, worker));
  return async () => {
    await running;
    sqs.destroy();
  };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as FeederSpec;
  const feeders: Record<Broker, (s: FeederSpec) => Promise<() => Promise<void>>> = { kafka: feedKafka, rabbitmq: feedRabbit, redis: feedRedis, sqs: feedSqs };
  const started = performance.now();
  const finish = await feeders[spec.broker](spec);
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, spec.maxSeconds * 1000);
    process.once('SIGTERM', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  stopping = true;
  const ms = performance.now() - started;
  await finish();
  process.stdout.write(`${JSON.stringify({ sent, ms })}\n`);
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`feeder failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
