import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import { CreateQueueCommand, DeleteQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ConnectionConfig } from '../src/config/schema';
import type { TailStreamEvent } from '../src/router';
import { KAFKA_BROKERS, RABBITMQ_URL, SQS_ENDPOINT, fromB64, serve, tempDir, testApp, uniqueName, waitFor, type Served } from './helpers';

const MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';

type Tracked = { id: string; data: TailStreamEvent };

/** A destination on one broker and a way to publish to it that does not go through Mailroom (except memory, which has no other client). */
interface Fixture {
  destination: string;
  publish(values: Buffer[]): Promise<void>;
  cleanup(): Promise<void>;
}

interface BrokerCase {
  name: string;
  connection: ConnectionConfig;
  /** SQS bodies are text; the others carry any bytes. */
  binary: boolean;
  /** A standard SQS queue has no order; the others keep the publish order on one partition/queue. */
  ordered: boolean;
  /** The SQS tail shows messages sent up to 1 s before it started (clock slack); 'before' must be older than that. */
  settleBeforeTailMs: number;
  setup(served: Served): Promise<Fixture>;
}

const cases: BrokerCase[] = [
  {
    name: 'Kafka (kafkajs producer)',
    connection: { id: 'b', kind: 'kafka', readOnly: false, demoTraffic: false, config: { brokers: KAFKA_BROKERS.split(',') } },
    binary: true,
    ordered: true,
    settleBeforeTailMs: 0,
    async setup() {
      const kafka = new Kafka({ clientId: 'mailroom-sse-resume-test', brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
      const admin: Admin = kafka.admin();
      const producer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await admin.connect();
      await producer.connect();
      const topic = uniqueName('mr-resume-k');
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      return {
        destination: topic,
        publish: async (values) => {
          await producer.send({ topic, messages: values.map((value, i) => ({ key: `k${i}`, value })) });
        },
        cleanup: async () => {
          await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
          await producer.disconnect();
          await admin.disconnect();
        },
      };
    },
  },
  {
    name: 'RabbitMQ (amqplib publisher)',
    connection: { id: 'b', kind: 'rabbitmq', readOnly: false, demoTraffic: false, config: { url: RABBITMQ_URL, managementUrl: MANAGEMENT_URL } },
    binary: true,
    ordered: true,
    settleBeforeTailMs: 0,
    async setup() {
      const connection = await amqp.connect(RABBITMQ_URL);
      const channel = await connection.createConfirmChannel();
      const exchange = uniqueName('mr-resume-x');
      const queue = uniqueName('mr-resume-q');
      await channel.assertExchange(exchange, 'fanout', { durable: false, autoDelete: false });
      await channel.assertQueue(queue, { durable: false });
      await channel.bindQueue(queue, exchange, '');
      return {
        destination: queue,
        publish: async (values) => {
          for (const value of values) channel.publish(exchange, '', value, { headers: { 'x-test': 'resume' } });
          await channel.waitForConfirms();
        },
        cleanup: async () => {
          await channel.deleteQueue(queue).catch(() => undefined);
          await channel.deleteExchange(exchange).catch(() => undefined);
          await connection.close();
        },
      };
    },
  },
  {
    name: 'SQS (AWS SDK)',
    connection: { id: 'b', kind: 'sqs', readOnly: false, demoTraffic: false, config: { endpoint: SQS_ENDPOINT, region: 'elasticmq', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } } },
    binary: false,
    ordered: false,
    settleBeforeTailMs: 1_500,
    async setup() {
      const sqs = new SQSClient({ endpoint: SQS_ENDPOINT, region: 'elasticmq', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
      const queue = uniqueName('mr-resume-s');
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queue }));
      return {
        destination: queue,
        publish: async (values) => {
          for (let i = 0; i < values.length; i += 10) {
            const chunk = values.slice(i, i + 10);
            const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: chunk.map((value, j) => ({ Id: `m${j}`, MessageBody: value.toString('utf8') })) }));
            expect(sent.Failed ?? []).toEqual([]);
          }
        },
        cleanup: async () => {
          await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined);
          sqs.destroy();
        },
      };
    },
  },
  {
    name: 'memory (published over HTTP)',
    connection: { id: 'b', kind: 'memory', readOnly: false, demoTraffic: false, config: {} },
    binary: true,
    ordered: true,
    settleBeforeTailMs: 0,
    async setup(served) {
      const topic = uniqueName('mr-resume-m');
      await served.client.destinations.create.mutate({ connectionId: 'b', name: topic, partitions: 1 });
      return {
        destination: topic,
        publish: async (values) => {
          const { published } = await served.client.messages.publish.mutate({
            connectionId: 'b',
            destination: topic,
            messages: values.map((value) => ({ key: null, headers: {}, value: { encoding: 'base64' as const, data: value.toString('base64') } })),
          });
          expect(published).toBe(values.length);
        },
        cleanup: async () => {
          await served.client.destinations.delete.mutate({ connectionId: 'b', name: topic }).catch(() => undefined);
        },
      };
    },
  },
];

/** Distinct values with multi-byte UTF-8 and, where the broker carries them, bytes that are not UTF-8. */
function valuesFor(label: string, count: number, binary: boolean): Buffer[] {
  return Array.from({ length: count }, (_, i) => {
    const text = Buffer.from(`${label}-${i}-äö✓€`, 'utf8');
    return binary ? Buffer.concat([text, Buffer.from([0x00, 0xff, 0xfe, 0x80, i & 0xff])]) : text;
  });
}

const hex = (b: Buffer) => b.toString('hex');

/** Subscribes to messages.tail through the real tRPC SSE link and records every event. */
function tail(served: Served, input: { connectionId: string; destination: string; lastEventId?: string }) {
  const events: Tracked[] = [];
  const errors: unknown[] = [];
  const sub = served.client.messages.tail.subscribe(input, {
    onData: (event) => events.push(event as Tracked),
    onError: (error) => errors.push(error),
  });
  const messages = () => events.flatMap((e) => e.data.messages);
  const values = () => messages().map((m) => fromB64(m.valueBase64));
  return { events, errors, messages, values, unsubscribe: () => sub.unsubscribe(), lastId: () => events.at(-1)?.id };
}

function expectSameValues(actual: Buffer[], expected: Buffer[], ordered: boolean): void {
  const a = actual.map(hex);
  const e = expected.map(hex);
  if (ordered) expect(a).toEqual(e);
  else expect([...a].sort()).toEqual([...e].sort());
  expect(new Set(a).size).toBe(a.length);
}

describe.each(cases)('live tail resume over SSE on $name', ({ connection, binary, ordered, settleBeforeTailMs, setup }) => {
  const data = tempDir();
  let served: Served;
  const fixtures: Fixture[] = [];

  beforeAll(async () => {
    served = await serve(await testApp({ dataDir: data.dir, connections: [connection], tail: { resumeGraceMs: 30_000 } }));
  });

  afterAll(async () => {
    for (const fixture of fixtures) await fixture.cleanup();
    await served?.app.close();
    data.remove();
  });

  /** A fresh destination with one message published before the tail starts (it must not show). */
  async function freshDestination(): Promise<{ fixture: Fixture; before: Buffer }> {
    const fixture = await setup(served);
    fixtures.push(fixture);
    const before = valuesFor('before', 1, binary);
    await fixture.publish(before);
    if (settleBeforeTailMs > 0) await new Promise((r) => setTimeout(r, settleBeforeTailMs));
    return { fixture, before: before[0]! };
  }

  /** Opens a tail and checks that what a client publishes after 'open' all arrives. */
  async function openTail(fixture: Fixture, warm: Buffer[]) {
    const t = tail(served, { connectionId: 'b', destination: fixture.destination });
    await waitFor('open', () => t.events.length > 0 || t.errors.length > 0, 20_000);
    expect(t.errors).toEqual([]);
    expect(t.events[0]!.data).toMatchObject({ kind: 'open', gap: false });
    await fixture.publish(warm);
    await waitFor('warm-up delivered', () => t.values().length >= warm.length, 20_000);
    return t;
  }

  it('a reconnect with the last event id resumes without losing or repeating a message', async () => {
    const { fixture, before } = await freshDestination();
    const warm = valuesFor('warm', 20, binary);
    const first = await openTail(fixture, warm);
    const lastEventId = first.lastId()!;
    first.unsubscribe();
    expectSameValues(first.values(), warm, ordered);

    // While nobody listens, a real client keeps publishing; the server's tail keeps them in its ring.
    const gap = valuesFor('gap', 250, binary);
    await fixture.publish(gap);

    const second = tail(served, { connectionId: 'b', destination: fixture.destination, lastEventId });
    await waitFor('gap replayed', () => second.values().length >= gap.length || second.errors.length > 0, 30_000);
    const after = valuesFor('after', 5, binary);
    await fixture.publish(after);
    await waitFor('live again', () => second.values().length >= gap.length + after.length || second.errors.length > 0, 30_000);
    // A late repeat would show up in this time.
    await new Promise((r) => setTimeout(r, 500));
    second.unsubscribe();

    expect(second.errors).toEqual([]);
    expect(second.events[0]!.data.kind).toBe('batch'); // no new 'open': the same server-side tail
    expect(second.events.every((e) => !e.data.gap)).toBe(true);
    expect(second.events.reduce((s, e) => s + e.data.skipped, 0)).toBe(0);
    expectSameValues(second.values(), [...gap, ...after], ordered);
    expect(second.messages().every((m) => !m.truncated && m.size === fromB64(m.valueBase64).length)).toBe(true);
    const all = [...first.values(), ...second.values()].map(hex);
    expect(all).not.toContain(hex(before));
    expect(all).toHaveLength(warm.length + gap.length + after.length);
  });

  it('when the HTTP connection drops, the link reconnects with the last event id and nothing is lost or repeated', async () => {
    const { fixture, before } = await freshDestination();
    const warm = valuesFor('warm', 10, binary);
    const t = await openTail(fixture, warm);
    // Cut every open socket (the server keeps listening): the EventSource reconnects by itself.
    served.server.closeAllConnections();
    const during = valuesFor('during', 100, binary);
    await fixture.publish(during);
    await waitFor('reconnected and replayed', () => t.values().length >= warm.length + during.length || t.errors.length > 0, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    t.unsubscribe();

    expect(t.errors).toEqual([]);
    expect(t.events.filter((e) => e.data.kind === 'open')).toHaveLength(1);
    expect(t.events.reduce((s, e) => s + e.data.skipped, 0)).toBe(0);
    if (ordered) expectSameValues(t.values(), [...warm, ...during], true);
    else {
      expectSameValues(t.values().slice(0, warm.length), warm, false);
      expectSameValues(t.values(), [...warm, ...during], false);
    }
    expect(t.values().map(hex)).not.toContain(hex(before));
  });
});
