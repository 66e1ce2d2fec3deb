import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import type { MessageConsumer, MessageProducer } from '@mailroom/core';
import type { MailroomApp } from '../src/app';
import type { ConnectionConfig } from '../src/config/schema';
import { BACKOFF, NO_RETRY, adapterOf, deadLetterThroughRetry, expectFailure, expectPass, measure, until } from './fitness-helpers';
import { RABBITMQ_URL, tempDir, testApp, uniqueName, waitFor } from './helpers';
import type { AlertRule } from '../src/fitness/alert-rules';

const MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';
const CONNECTION: ConnectionConfig = { id: 'rabbit', kind: 'rabbitmq', readOnly: false, demoTraffic: false, config: { url: RABBITMQ_URL, managementUrl: MANAGEMENT_URL } };

async function management(method: 'PUT' | 'DELETE', path: string, body?: unknown): Promise<void> {
  const url = new URL(RABBITMQ_URL);
  const auth = Buffer.from(`${decodeURIComponent(url.username || 'guest')}:${decodeURIComponent(url.password || 'guest')}`).toString('base64');
  const r = await fetch(`${MANAGEMENT_URL}/api${path}`, {
    method,
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!r.ok && r.status !== 404) throw new Error(`management ${method} ${path}: ${r.status} ${await r.text()}`);
}

/** RabbitMQ's management statistics settle over its collection interval (5 s). */
const SETTLE_MS = 30_000;

describe('fitness on a real RabbitMQ: each measurable criterion fails on a broken setup, names the queue, and passes once fixed', () => {
  const data = tempDir();
  const base = uniqueName('mr-fit-rmq');
  const policy = `${base}-dlx`;
  let app: MailroomApp;
  let connection: amqp.ChannelModel;
  let channel: amqp.Channel;
  let producer: MessageProducer;
  const consumers: MessageConsumer[] = [];
  const queues: string[] = [];
  const exchanges: string[] = [];
  const opened: MailroomApp[] = [];

  const rabbitApp = (alerts: AlertRule[] = []) =>
    testApp({ dataDir: data.dir, connections: [CONNECTION], metricsIntervalMs: 1_000, fitness: { ackDeadlineMs: 500, sampleSize: 5, cacheTtlMs: 0, refreshIntervalMs: 0 }, alerts });

  beforeAll(async () => {
    connection = await amqp.connect(RABBITMQ_URL);
    channel = await connection.createChannel();
    app = await rabbitApp();
    opened.push(app);
    producer = adapterOf(app, 'rabbit').createProducer();
  });

  afterAll(async () => {
    for (const c of consumers) await c.close().catch(() => undefined);
    await producer?.close();
    for (const a of opened) await a.close();
    await management('DELETE', `/policies/%2F/${encodeURIComponent(policy)}`).catch(() => undefined);
    const cleanup = await connection.createChannel();
    for (const q of queues) await cleanup.deleteQueue(q).catch(() => undefined);
    for (const x of exchanges) await cleanup.deleteExchange(x).catch(() => undefined);
    await connection?.close();
    data.remove();
  });

  it('message_acknowledgment: a consumer holding deliveries without basic.ack goes overdue (unacked count watched over time); acking fixes it', async () => {
    const queue = `${base}-ack`;
    queues.push(queue);
    await channel.assertQueue(queue, { durable: false });
    for (let i = 0; i < 3; i++) channel.sendToQueue(queue, Buffer.from(`job ${i}`), { messageId: `job-${i}` });
    const worker = await connection.createChannel();
    await worker.prefetch(10);
    const held: amqp.ConsumeMessage[] = [];
    await worker.consume(queue, (m) => m && held.push(m), { noAck: false });
    await waitFor('3 deliveries', () => held.length === 3);

    const failing = await until(app, 'rabbit', `${queue}*`, 'message_acknowledgment', queue, 'fail', SETTLE_MS);
    expectFailure(failing, queue, /basic\.ack/);
    expect(failing.destination.fix).toBe(`consumers of queue ${queue} hold deliveries without basic.ack: ack each message after processing it (or reject it so it is dead-lettered) within the ack deadline`);
    expect(failing.destination.evidence).toMatch(/^3 of 3 delivered messages unacknowledged past the deadline, oldest unacked \d+ s \(3 unacknowledged [\d.]+ m?s ago and only 0 acknowledged since/);
    expect(failing.criterion.score).toBe(0);

    worker.ackAll();
    const fixed = await until(app, 'rabbit', `${queue}*`, 'message_acknowledgment', queue, 'pass', SETTLE_MS);
    expectPass(fixed);
    expect(fixed.destination.evidence).toMatch(/\(in-flight count 0\)$/);
    await worker.close();
  });

  it('dead_letter_handling: a Mailroom topic and its group queue without a DLX fail; a policy to an exchange with no queue still fails; binding a queue fixes both', async () => {
    const topic = `${base}-dl`;
    const groupQueue = `${topic}::billing`;
    const dlx = `${topic}-dead-x`;
    const dlq = `${topic}-dead`;
    queues.push(topic, groupQueue, dlq);
    exchanges.push(topic, dlx);
    const adapter = adapterOf(app, 'rabbit');
    await adapter.createDestination(topic);
    const consumer = adapter.createConsumer({ group: 'billing' });
    consumers.push(consumer);
    await consumer.subscribe([topic]);
    const scope = `${topic}*`;

    // The group's queue is what its consumers read, so that is where a DLX must sit; the topic's own queue is judged too.
    const failing = await until(app, 'rabbit', scope, 'dead_letter_handling', groupQueue, 'fail', SETTLE_MS);
    expectFailure(failing, groupQueue, /x-dead-letter-exchange/);
    expect(failing.destination.fix).toBe(
      `queue ${groupQueue} has no dead-letter exchange: set x-dead-letter-exchange on it (a queue argument, or a policy with "dead-letter-exchange" whose pattern matches ${groupQueue}) and bind a queue to that exchange to keep the dead letters`,
    );
    expect(failing.criterion.destinations.find((d) => d.destination === topic)?.status).toBe('fail');
    expect(failing.criterion.score).toBe(0);

    await channel.assertExchange(dlx, 'fanout', { durable: false });
    await management('PUT', `/policies/%2F/${encodeURIComponent(policy)}`, {
      pattern: `^${topic.replace(/[.-]/g, '\\$&')}(::.*)?$`,
      definition: { 'dead-letter-exchange': dlx },
      'apply-to': 'queues',
      priority: 10,
    });
    const nowhere = await waitFor(
      'the policy to show',
      async () => {
        const j = await measure(app, 'rabbit', scope, 'dead_letter_handling', groupQueue);
        return j.destination.evidence.includes('routes to no queue') ? j : null;
      },
      SETTLE_MS,
      500,
    );
    expect(nowhere.destination.status).toBe('fail');
    expect(nowhere.destination.evidence).toBe(`dead letters go to ${dlx} (destination configuration), which routes to no queue, so they are dropped`);
    expect(nowhere.destination.fix).toBe(`bind a queue to ${dlx} that keeps the dead letters of ${groupQueue}`);

    await channel.assertQueue(dlq, { durable: false });
    await channel.bindQueue(dlq, dlx, '');
    const fixed = await until(app, 'rabbit', scope, 'dead_letter_handling', groupQueue, 'pass', SETTLE_MS);
    expectPass(fixed);
    expect(fixed.destination.evidence).toBe(`dead letters go to ${dlq} (policy ${policy})`);
    expect(fixed.criterion.destinations.find((d) => d.destination === topic)?.status).toBe('pass');
    expect(fixed.criterion.destinations.find((d) => d.destination === dlq)?.status).toBe('not-applicable');
  });

  it("dead_letter_handling: a group's queue is judged while none of its consumers is connected (its work waits there)", async () => {
    const topic = `${base}-dl-idle`;
    const groupQueue = `${topic}::reports`;
    queues.push(topic, groupQueue);
    exchanges.push(topic);
    const adapter = adapterOf(app, 'rabbit');
    await adapter.createDestination(topic);
    const consumer = adapter.createConsumer({ group: 'reports' });
    await consumer.subscribe([topic]);
    await consumer.close();
    // The management statistics must have caught up: the group queue lists no consumer.
    await waitFor('the group queue to list no consumer', async () => (await adapter.listDestinations()).find((d) => d.name === groupQueue)?.consumers === 0, SETTLE_MS, 500);
    const failing = await until(app, 'rabbit', `${topic}*`, 'dead_letter_handling', groupQueue, 'fail', SETTLE_MS);
    expectFailure(failing, groupQueue, /x-dead-letter-exchange/);
    expect(failing.destination.evidence).toBe('no dead-letter queue configured');
  });

  it('idempotent_consumers: unknown on classic queues (a peek requeues); measured on a stream queue: missing and duplicated ids fail, unique ids pass', async () => {
    const classic = `${base}-id-classic`;
    const stream = `${base}-id-stream`;
    queues.push(classic, stream);
    await channel.assertQueue(classic, { durable: false });
    channel.sendToQueue(classic, Buffer.from('x'));
    const unknown = await until(app, 'rabbit', classic, 'idempotent_consumers', classic, 'unknown', SETTLE_MS);
    expect(unknown.destination.evidence).toMatch(/^sampling its messages would change them, so it is not done: /);
    expect(unknown.criterion.status).toBe('unknown');

    await channel.assertQueue(stream, { durable: true, arguments: { 'x-queue-type': 'stream' } });
    const publish = async (messages: { value: string; id?: string }[]) => {
      const confirm = await connection.createConfirmChannel();
      for (const m of messages) confirm.sendToQueue(stream, Buffer.from(m.value), m.id === undefined ? {} : { headers: { 'message-id': m.id } });
      await confirm.waitForConfirms();
      await confirm.close();
    };
    await publish([0, 1, 2].map((i) => ({ value: `anonymous ${i}` })));
    const noIds = await until(app, 'rabbit', stream, 'idempotent_consumers', stream, 'fail', SETTLE_MS);
    expectFailure(noIds, stream, /message-id/);
    expect(noIds.destination.evidence).toBe('0 of 3 sampled messages carry an id');

    await publish(['a', 'b', 'b', 'c', 'd'].map((id) => ({ value: `order ${id}`, id: `${stream}-${id}` })));
    const dupes = await measure(app, 'rabbit', stream, 'idempotent_consumers', stream);
    expectFailure(dupes, stream, /deduplicate/);
    expect(dupes.destination.evidence).toBe(`5 of 5 sampled messages carry an id; 1 ids seen twice (e.g. ${stream}-b)`);

    await publish(['e', 'f', 'g', 'h', 'i'].map((id) => ({ value: `order ${id}`, id: `${stream}-${id}` })));
    const fixed = await measure(app, 'rabbit', stream, 'idempotent_consumers', stream);
    expectPass(fixed);
    expect(fixed.destination.evidence).toBe('5 of 5 sampled messages carry an id');
  });

  it('error_retry: unknown behind a classic DLQ; measured behind a stream DLQ: single attempts fail, growing delays pass', async () => {
    const classicOrigin = `${base}-rtc`;
    const origin = `${base}-rts`;
    const streamDlq = `${origin}.dlq`;
    queues.push(classicOrigin, `${classicOrigin}.dlq`, origin, streamDlq);
    await channel.assertQueue(classicOrigin, { durable: false });
    await channel.assertQueue(`${classicOrigin}.dlq`, { durable: false });
    const unknown = await until(app, 'rabbit', `${classicOrigin}*`, 'error_retry', classicOrigin, 'unknown', SETTLE_MS);
    expect(unknown.destination.evidence).toMatch(new RegExp(`^reading the dead letters in ${classicOrigin}\\.dlq would change them, so it is not done: `));

    await channel.assertQueue(origin, { durable: false });
    await channel.assertQueue(streamDlq, { durable: true, arguments: { 'x-queue-type': 'stream' } });
    expect(await deadLetterThroughRetry(producer, origin, streamDlq, ['r1', 'r2', 'r3'], NO_RETRY)).toBe(3);
    const failing = await until(app, 'rabbit', `${origin}*`, 'error_retry', origin, 'fail', SETTLE_MS);
    expectFailure(failing, origin, /exponential backoff/);
    expect(failing.destination.evidence).toMatch(/^0 of 3 failed messages were retried with growing delays before dead-lettering; e\.g\. .*dead-lettered after a single attempt/);

    expect(await deadLetterThroughRetry(producer, origin, streamDlq, ['r4', 'r5', 'r6', 'r7', 'r8'], BACKOFF)).toBe(5);
    const fixed = await until(app, 'rabbit', `${origin}*`, 'error_retry', origin, 'pass', SETTLE_MS);
    expectPass(fixed);
    expect(fixed.destination.evidence).toBe('5 of 5 failed messages were retried with growing delays before dead-lettering');
  });

  it('monitoring: a queue no alert rule covers fails; an app with a rule for it passes and shows the rule firing', async () => {
    const queue = `${base}-mon`;
    queues.push(queue);
    await channel.assertQueue(queue, { durable: false });
    for (let i = 0; i < 4; i++) channel.sendToQueue(queue, Buffer.from(`m ${i}`));
    const failing = await until(app, 'rabbit', `${queue}*`, 'monitoring', queue, 'fail', SETTLE_MS);
    expectFailure(failing, queue, /alert rule/);
    expect(failing.destination.evidence).toBe('no alert rule covers it');

    const monitored = await rabbitApp([{ connection: 'rabbit', destination: `${queue}*`, maxDepth: 2 }]);
    opened.push(monitored);
    const fixed = await until(monitored, 'rabbit', `${queue}*`, 'monitoring', queue, 'pass', SETTLE_MS);
    expectPass(fixed);
    expect(fixed.destination.evidence).toBe('alert rules: depth ≤ 2; metrics exported on /metrics');
    const alerts = await waitFor('the depth rule to fire', async () => {
      const s = await monitored.caller.fitness.scores({ connectionId: 'rabbit', destinations: `${queue}*`, refresh: true });
      return s.alerts.length > 0 ? s.alerts : null;
    }, SETTLE_MS, 500);
    expect(alerts).toEqual([{ connection: 'rabbit', destination: queue, rule: 'max depth', value: 4, limit: 2 }]);
  });
});
