import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { CreateQueueCommand, DeleteQueueCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { TailStreamEvent } from '../src/router';
import { KAFKA_BROKERS, SQS_ENDPOINT, fromB64, serve, tempDir, testApp, uniqueName, waitFor, type Served } from './helpers';

describe('Kafka and SQS through the server (real brokers)', () => {
  const data = tempDir();
  let served: Served;
  let producer: Producer;
  const topic = uniqueName('mr-srv-k');
  const queue = uniqueName('mr-srv-s');
  let queueCreated = false;
  const sqs = new SQSClient({ endpoint: SQS_ENDPOINT, region: 'elasticmq', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

  beforeAll(async () => {
    producer = new Kafka({ clientId: 'mailroom-server-test', brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    served = await serve(
      await testApp({
        dataDir: data.dir,
        tail: { resumeGraceMs: 0 },
        connections: [
          { id: 'kafka', kind: 'kafka', readOnly: false, demoTraffic: false, config: { brokers: KAFKA_BROKERS.split(',') } },
          { id: 'kafka-dead', kind: 'kafka', readOnly: false, demoTraffic: false, config: { brokers: ['127.0.0.1:1'], connectionTimeoutMs: 1000, requestTimeoutMs: 1000 } },
          { id: 'sqs', kind: 'sqs', readOnly: false, demoTraffic: false, config: { endpoint: SQS_ENDPOINT, region: 'elasticmq', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } } },
          { id: 'sqs-dead', kind: 'sqs', readOnly: false, demoTraffic: false, config: { endpoint: 'http://127.0.0.1:1', region: 'elasticmq', credentials: { accessKeyId: 'x', secretAccessKey: 'topsecret' }, connectTimeoutMs: 1000, requestTimeoutMs: 1000, maxAttempts: 1 } },
        ],
      }),
    );
  });

  afterAll(async () => {
    await served?.client.destinations.delete.mutate({ connectionId: 'kafka', name: topic }).catch(() => undefined);
    if (queueCreated) await served?.client.destinations.delete.mutate({ connectionId: 'sqs', name: queue }).catch(() => undefined);
    await served?.app.close();
    await producer?.disconnect();
    sqs.destroy();
    data.remove();
  });

  it('Kafka: tail delivers what a kafkajs producer sends; browse reads it back without side effects', async () => {
    await served.client.destinations.create.mutate({ connectionId: 'kafka', name: topic, partitions: 1 });
    const events: { id: string; data: TailStreamEvent }[] = [];
    const errors: unknown[] = [];
    const sub = served.client.messages.tail.subscribe({ connectionId: 'kafka', destination: topic }, { onData: (e) => events.push(e as { id: string; data: TailStreamEvent }), onError: (e) => errors.push(e) });
    const values = () => events.flatMap((e) => e.data.messages.map((m) => fromB64(m.valueBase64).toString('utf8')));
    await waitFor('open', () => events.length > 0 || errors.length > 0, 15_000);
    expect(errors).toEqual([]);
    let n = 0;
    await waitFor('tailed', async () => {
      await producer.send({ topic, messages: [{ key: `k${n}`, value: `kafka-${n}`, headers: { 'x-n': String(n) } }] });
      n++;
      return values().length > 0;
    }, 20_000, 300);
    // Once the tail is positioned, every message sent afterwards arrives, in order.
    const firstSeen = Number(values()[0]!.slice('kafka-'.length));
    await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${n + i}`, value: `kafka-${n + i}`, headers: { 'x-n': String(n + i) } })) });
    n += 20;
    await waitFor('all delivered', () => values().at(-1) === `kafka-${n - 1}`, 10_000);
    sub.unsubscribe();
    expect(values()).toEqual(Array.from({ length: n - firstSeen }, (_, i) => `kafka-${firstSeen + i}`));
    const tailed = events.flatMap((e) => e.data.messages);
    expect(tailed[0]!.key).toBe(`k${firstSeen}`);
    expect(tailed[0]!.headers['x-n']).toBe(String(firstSeen));

    const page = await served.client.messages.browse.query({ connectionId: 'kafka', destination: topic, start: { from: 'newest' }, limit: 100 });
    expect(page.destructive).toBe(false);
    expect(page.messages.map((m) => fromB64(m.valueBase64).toString('utf8'))).toEqual(Array.from({ length: n }, (_, i) => `kafka-${n - 1 - i}`));
    await waitFor('tail released', () => served.app.services.tails.size === 0);
  });

  it('SQS: publish from the AWS SDK and the server, a forced peek browses them', async () => {
    await served.client.destinations.create.mutate({ connectionId: 'sqs', name: queue });
    queueCreated = true;
    const { QueueUrl } = await import('@aws-sdk/client-sqs').then(async (m) => sqs.send(new m.GetQueueUrlCommand({ QueueName: queue })));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'from-sdk' }));
    await served.client.messages.publish.mutate({ connectionId: 'sqs', destination: queue, messages: [{ key: null, headers: { a: 'b' }, value: { encoding: 'text', data: 'from-server' } }] });
    const capabilities = (await served.client.connections.get.query({ connectionId: 'sqs' })).capabilities!;
    expect(capabilities.peekIsDestructive).toBe(true);
    const page = await waitFor('both visible', async () => {
      const p = await served.client.messages.browse.query({ connectionId: 'sqs', destination: queue, limit: 10, force: true });
      return p.messages.length === 2 ? p : null;
    });
    expect(page.destructive).toBe(true);
    expect(page.messages.map((m) => fromB64(m.valueBase64).toString('utf8')).sort()).toEqual(['from-sdk', 'from-server']);
  });

  it('SQS: tail delivers what the AWS SDK sends, byte-exact, each message once', async () => {
    const tailQueue = uniqueName('mr-srv-st');
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: tailQueue }));
    const events: { id: string; data: TailStreamEvent }[] = [];
    const errors: unknown[] = [];
    const sub = served.client.messages.tail.subscribe({ connectionId: 'sqs', destination: tailQueue }, { onData: (e) => events.push(e as { id: string; data: TailStreamEvent }), onError: (e) => errors.push(e) });
    try {
      await waitFor('open', () => events.length > 0 || errors.length > 0, 15_000);
      expect(errors).toEqual([]);
      expect(events[0]!.data.kind).toBe('open');
      // 'open' means positioned: every message sent from now on arrives. One alone, then batches of ten.
      const bodies = Array.from({ length: 31 }, (_, i) => `sqs-${i} ✓ äöü € ${'x'.repeat(i * 50)}`);
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: bodies[0]!, MessageAttributes: { 'x-n': { DataType: 'String', StringValue: '0' }, amount: { DataType: 'Number', StringValue: '42' } } }));
      for (let i = 1; i < bodies.length; i += 10) {
        const sent = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl,
            Entries: bodies.slice(i, i + 10).map((body, j) => ({ Id: `e${j}`, MessageBody: body, MessageAttributes: { 'x-n': { DataType: 'String', StringValue: String(i + j) } } })),
          }),
        );
        expect(sent.Failed ?? []).toEqual([]);
      }
      const tailed = () => events.flatMap((e) => e.data.messages);
      await waitFor('all tailed', () => tailed().length >= bodies.length || errors.length > 0, 20_000);
      // Receives with visibility 0 see the same messages again; a repeat would show up in this time.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(errors).toEqual([]);
      const messages = tailed();
      expect(messages).toHaveLength(bodies.length);
      expect(new Set(messages.map((m) => m.id)).size).toBe(bodies.length);
      const byN = new Map(messages.map((m) => [Number(m.headers['x-n']), m]));
      for (const [n, body] of bodies.entries()) {
        const m = byN.get(n)!;
        expect(fromB64(m.valueBase64).equals(Buffer.from(body, 'utf8'))).toBe(true);
        expect(m.size).toBe(Buffer.byteLength(body, 'utf8'));
        expect(m.truncated).toBe(false);
        expect(m.key).toBeNull();
        expect(m.destination).toBe(tailQueue);
      }
      expect(byN.get(0)!.headers).toEqual({ 'x-n': '0', amount: '42' });
      expect(events.reduce((s, e) => s + e.data.skipped, 0)).toBe(0);
    } finally {
      sub.unsubscribe();
      await waitFor('tail released', () => served.app.services.tails.size === 0);
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
    }
  });

  it('dead Kafka and dead SQS endpoints are SERVICE_UNAVAILABLE within 5 s without leaking secrets', async () => {
    for (const connectionId of ['kafka-dead', 'sqs-dead']) {
      const started = Date.now();
      const error = await served.client.destinations.list.query({ connectionId }).catch((e: { data?: { code: string }; message: string }) => e);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(error).toMatchObject({ data: { code: 'SERVICE_UNAVAILABLE' } });
      expect((error as { message: string }).message).toMatch(/is unreachable: /);
      expect((error as { message: string }).message).not.toContain('topsecret');
    }
    expect(JSON.stringify(await served.client.connections.list.query())).not.toContain('topsecret');
  });
});
