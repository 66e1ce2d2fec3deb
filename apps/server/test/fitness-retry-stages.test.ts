import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Headers, utf8, type BrokerAdapter, type Message } from '@mailroom/core';
import type { MailroomApp } from '../src/app';
import type { ConnectionConfig } from '../src/config/schema';
import { adapterOf, expectFailure, expectPass, fitnessApp, measure, until } from './fitness-helpers';
import { KAFKA_BROKERS, RABBITMQ_URL, REDIS_URL, SQS_ENDPOINT, tempDir, uniqueName } from './helpers';

const MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';
const SQS_CREDENTIALS = { accessKeyId: 'x', secretAccessKey: 'x' };

const deadLetterFrom = (origin: string, i: number): Message => ({
  key: null,
  value: utf8(`failed work ${i}`),
  headers: { 'message-id': `${origin}-${i}`, [Headers.deadLetterOrigin]: origin, [Headers.deadLetterReason]: 'downstream unavailable' },
  timestamp: new Date(),
});

/**
 * Kafka and Redis: dead letters are read without side effects, so each is judged by where it
 * was dead-lettered from: the origin itself (no retry) or its last retry stage.
 */
describe.each([
  { connection: { id: 'kafka', kind: 'kafka', readOnly: false, demoTraffic: false, config: { brokers: KAFKA_BROKERS.split(',') } } satisfies ConnectionConfig, stage: (o: string, s: string) => `${o}-retry-${s}` },
  { connection: { id: 'redis', kind: 'redis', readOnly: false, demoTraffic: false, config: { url: REDIS_URL } } satisfies ConnectionConfig, stage: (o: string, s: string) => `${o}.retry.${s}` },
])('error_retry with retry stages on a real $connection.kind broker', ({ connection, stage }) => {
  const data = tempDir();
  const created: string[] = [];
  let app: MailroomApp;
  let adapter: BrokerAdapter;

  const create = async (name: string) => {
    await adapter.createDestination(name, connection.kind === 'kafka' ? { partitions: 1 } : {});
    created.push(name);
  };

  beforeAll(async () => {
    app = await fitnessApp(connection, data.dir);
    adapter = adapterOf(app, connection.id);
  });
  afterAll(async () => {
    for (const name of created) await adapter?.deleteDestination(name).catch(() => undefined);
    await app?.close();
    data.remove();
  });

  it('dead letters that skipped the stages fail; dead letters from the last of growing stages pass; the stages are judged with their origin', async () => {
    const origin = uniqueName(`mr-rs-${connection.kind}`);
    const dlq = adapter.deadLetterNameFor(origin);
    const [fast, slow] = [stage(origin, '1s'), stage(origin, '5s')];
    for (const name of [origin, dlq, slow, fast]) await create(name);
    const producer = adapter.createProducer();
    try {
      await producer.sendBatch(dlq, [0, 1, 2].map((i) => deadLetterFrom(origin, i)));
      const failing = await measure(app, connection.id, `${origin}*`, 'error_retry', origin);
      expectFailure(failing, origin, /exponential backoff/);
      expect(failing.destination.evidence).toMatch(new RegExp(`^0 of 3 failed messages were retried with growing delays before dead-lettering; e\\.g\\. .+: dead-lettered from ${origin} itself, not through its retry stages`));
      const stageResult = failing.criterion.destinations.find((d) => d.destination === fast);
      expect(stageResult).toMatchObject({ status: 'not-applicable', evidence: `is a retry stage of ${origin}: judged with it` });
      const dl = failing.scores.connections[0]!.report.criteria.find((c) => c.id === 'dead_letter_handling')!;
      expect(dl.destinations.find((d) => d.destination === slow)).toMatchObject({ status: 'not-applicable', evidence: `is a retry stage of ${origin}: its messages go back to it` });

      await producer.sendBatch(dlq, [3, 4, 5, 6, 7].map((i) => deadLetterFrom(slow, i)));
      const fixed = await measure(app, connection.id, `${origin}*`, 'error_retry', origin);
      expectPass(fixed);
      expect(fixed.destination.evidence).toBe('5 of 5 failed messages were retried with growing delays before dead-lettering');
    } finally {
      await producer.close();
    }
  });

  it('stages without known delays do not prove backoff, and the fix says how to give them one', async () => {
    const origin = uniqueName(`mr-rs-${connection.kind}-idx`);
    const dlq = adapter.deadLetterNameFor(origin);
    const [first, second] = [stage(origin, '0'), stage(origin, '1')];
    for (const name of [origin, dlq, first, second]) await create(name);
    const producer = adapter.createProducer();
    try {
      await producer.sendBatch(dlq, [0, 1].map((i) => deadLetterFrom(second, i)));
      const failing = await measure(app, connection.id, `${origin}*`, 'error_retry', origin);
      expectFailure(failing, origin, /wait longer each time/);
      expect(failing.destination.fix).toBe(
        `make the retry stages of ${origin} wait longer each time, and send failures through them before dead-lettering: the delays of ${first}, ${second} are unknown: set one on the broker or name each stage after its delay (e.g. a "-retry-5s" suffix)`,
      );
    } finally {
      await producer.close();
    }
  });
});

describe('error_retry with retry stages on a real RabbitMQ: TTL queues that dead-letter back, judged by the topology since reading the DLQ would requeue', () => {
  const data = tempDir();
  const origin = uniqueName('mr-rs-rabbit');
  const dlq = `${origin}.dlq`;
  const stages = [`${origin}.retry.1`, `${origin}.retry.2`] as const;
  const connection: ConnectionConfig = { id: 'rabbit', kind: 'rabbitmq', readOnly: false, demoTraffic: false, config: { url: RABBITMQ_URL, managementUrl: MANAGEMENT_URL } };
  let app: MailroomApp;
  let amqpConnection: amqp.ChannelModel;
  let channel: amqp.Channel;

  const stageQueue = (name: string, ttlMs: number) =>
    channel.assertQueue(name, { durable: false, arguments: { 'x-message-ttl': ttlMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': origin } });

  beforeAll(async () => {
    amqpConnection = await amqp.connect(RABBITMQ_URL);
    channel = await amqpConnection.createChannel();
    app = await fitnessApp(connection, data.dir);
  });
  afterAll(async () => {
    for (const q of [origin, dlq, ...stages]) await channel?.deleteQueue(q).catch(() => undefined);
    await amqpConnection?.close();
    await app?.close();
    data.remove();
  });

  it('stages whose TTLs shrink fail with the fix naming them; redeclared with growing TTLs they pass; the origin is not taken for a DLQ', async () => {
    await channel.assertQueue(dlq, { durable: false });
    await channel.assertQueue(origin, { durable: false, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq } });
    await stageQueue(stages[0], 800);
    await stageQueue(stages[1], 200);
    // Three messages fail for good: rejected without requeue, RabbitMQ dead-letters them into the DLQ.
    for (let i = 0; i < 3; i++) channel.sendToQueue(origin, Buffer.from(`work ${i}`), { messageId: `${origin}-${i}` });
    for (let i = 0; i < 3; i++) {
      const message = await channel.get(origin, { noAck: false });
      if (!message) throw new Error('expected a message on the origin queue');
      channel.nack(message, false, false);
    }

    const failing = await until(app, 'rabbit', `${origin}*`, 'error_retry', origin, 'fail', 30_000);
    expectFailure(failing, origin, /wait longer each time/);
    expect(failing.destination.fix).toBe(
      `make the retry stages of ${origin} wait longer each time, and send failures through them before dead-lettering: the delays do not grow: ${stages[0]} (800 ms) → ${stages[1]} (200 ms)`,
    );
    expect(failing.destination.evidence).toMatch(
      new RegExp(`^0 of 3 failed messages were retried with growing delays before dead-lettering; e\\.g\\. the delays do not grow: .+ \\(judged from the retry stages .+; the dead letters were not read: .+\\)$`),
    );
    const dl = failing.scores.connections[0]!.report.criteria.find((c) => c.id === 'dead_letter_handling')!;
    expect(dl.destinations.find((d) => d.destination === origin)?.evidence).toBe('no consumers: not a work destination');
    expect(dl.destinations.find((d) => d.destination === stages[0])?.status).toBe('not-applicable');

    await channel.deleteQueue(stages[1]);
    await stageQueue(stages[1], 3_200);
    const fixed = await until(app, 'rabbit', `${origin}*`, 'error_retry', origin, 'pass', 30_000);
    expectPass(fixed);
    expect(fixed.destination.evidence).toMatch(
      new RegExp(`^3 of 3 failed messages were retried with growing delays before dead-lettering \\(judged from the retry stages ${stages[0].replace(/\./g, '\\.')} \\(800 ms\\) → ${stages[1].replace(/\./g, '\\.')} \\(3\\.2 s\\); the dead letters were not read: `),
    );
  });
});

describe('error_retry with retry stages on a real SQS endpoint (ElasticMQ): delay queues, judged by the topology since a receive would count', () => {
  const data = tempDir();
  const origin = uniqueName('mr-rs-sqs');
  const dlq = `${origin}-dlq`;
  const stages = [`${origin}-retry-1`, `${origin}-retry-2`] as const;
  const connection: ConnectionConfig = { id: 'sqs', kind: 'sqs', readOnly: false, demoTraffic: false, config: { endpoint: SQS_ENDPOINT, region: 'elasticmq', credentials: SQS_CREDENTIALS } };
  const sqs = new SQSClient({ endpoint: SQS_ENDPOINT, region: 'elasticmq', credentials: SQS_CREDENTIALS });
  const urls = new Map<string, string>();
  let app: MailroomApp;

  const createQueue = async (name: string, attributes: Record<string, string> = {}) => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    urls.set(name, QueueUrl!);
  };

  beforeAll(async () => {
    app = await fitnessApp(connection, data.dir);
  });
  afterAll(async () => {
    for (const url of urls.values()) await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
    sqs.destroy();
    await app?.close();
    data.remove();
  });

  it('delay queues whose delays shrink fail; raising the last delay passes; nothing is received from the DLQ', async () => {
    await createQueue(dlq);
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: urls.get(dlq), AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    await createQueue(origin, { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }) });
    await createQueue(stages[0], { DelaySeconds: '5' });
    await createQueue(stages[1], { DelaySeconds: '2' });
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: urls.get(dlq), Entries: [0, 1].map((i) => ({ Id: `m${i}`, MessageBody: `failed work ${i}` })) }));

    const failing = await until(app, 'sqs', `${origin}*`, 'error_retry', origin, 'fail');
    expectFailure(failing, origin, /wait longer each time/);
    expect(failing.destination.fix).toBe(
      `make the retry stages of ${origin} wait longer each time, and send failures through them before dead-lettering: the delays do not grow: ${stages[0]} (5 s) → ${stages[1]} (2 s)`,
    );

    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: urls.get(stages[1]), Attributes: { DelaySeconds: '20' } }));
    const fixed = await until(app, 'sqs', `${origin}*`, 'error_retry', origin, 'pass');
    expectPass(fixed);
    expect(fixed.destination.evidence).toMatch(/^2 of 2 failed messages were retried with growing delays before dead-lettering \(judged from the retry stages .+ \(5 s\) → .+ \(20 s\); the dead letters were not read: /);
    const attributes = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: urls.get(dlq), AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes!;
    expect([attributes.ApproximateNumberOfMessages, attributes.ApproximateNumberOfMessagesNotVisible]).toEqual(['2', '0']);
  });
});
