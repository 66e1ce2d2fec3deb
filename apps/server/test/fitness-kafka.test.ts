import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import type { MessageProducer } from '@mailroom/core';
import type { MailroomApp } from '../src/app';
import type { ConnectionConfig } from '../src/config/schema';
import { BACKOFF, NO_RETRY, adapterOf, deadLetterThroughRetry, expectFailure, expectPass, fitnessApp, measure, until } from './fitness-helpers';
import { KAFKA_BROKERS, tempDir, uniqueName } from './helpers';

const CONNECTION: ConnectionConfig = { id: 'kafka', kind: 'kafka', readOnly: false, demoTraffic: false, config: { brokers: KAFKA_BROKERS.split(',') } };

describe('fitness on a real Kafka: each measurable criterion fails on a broken setup, names the topic, and passes once fixed', () => {
  const data = tempDir();
  const base = uniqueName('mr-fit-kafka');
  const group = `${base}-workers`;
  const topics: string[] = [];
  let app: MailroomApp;
  let kafka: Kafka;
  let admin: Admin;
  let raw: Producer;
  let producer: MessageProducer;
  const opened: MailroomApp[] = [];

  const createTopic = async (name: string) => {
    await adapterOf(app, 'kafka').createDestination(name, { partitions: 1 });
    topics.push(name);
  };
  /** A group that consumes the topic: Mailroom's consumer commits its starting position on subscribe. */
  const consumeWithGroup = async (topic: string) => {
    const consumer = adapterOf(app, 'kafka').createConsumer({ group });
    try {
      await consumer.subscribe([topic]);
    } finally {
      await consumer.close();
    }
  };

  beforeAll(async () => {
    kafka = new Kafka({ clientId: 'mailroom-fitness-test', brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    raw = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await raw.connect();
    app = await fitnessApp(CONNECTION, data.dir);
    opened.push(app);
    producer = adapterOf(app, 'kafka').createProducer();
  });

  afterAll(async () => {
    await producer?.close();
    for (const a of opened) await a.close();
    await admin?.deleteGroups([group]).catch(() => undefined);
    if (topics.length > 0) await admin?.deleteTopics({ topics, timeout: 10_000 }).catch(() => undefined);
    await raw?.disconnect();
    await admin?.disconnect();
    data.remove();
  });

  it('message_acknowledgment is unknown on Kafka, with the reason: committed offsets measure lag, not acknowledgements', async () => {
    const topic = `${base}-ack`;
    await createTopic(topic);
    await consumeWithGroup(topic);
    const j = await until(app, 'kafka', `${topic}*`, 'message_acknowledgment', topic, 'unknown');
    expect(j.destination.evidence).toContain('committed vs end offsets is lag');
    expect(j.criterion.status).toBe('unknown');
    expect(j.criterion.score).toBeNull();
    expect(j.criterion.summary).toMatch(/^could not be measured: the broker does not report delivered-but-unacknowledged messages/);
    expect(j.scores.connections[0]!.report.failing.filter((f) => f.criterion === 'message_acknowledgment')).toEqual([]);
  });

  it('dead_letter_handling: a consumed topic without a DLT fails; creating <topic>.DLT fixes it', async () => {
    const topic = `${base}-dl`;
    await createTopic(topic);
    await consumeWithGroup(topic);
    const failing = await until(app, 'kafka', `${topic}*`, 'dead_letter_handling', topic, 'fail');
    expectFailure(failing, topic, /dead-letter/);
    expect(failing.destination.evidence).toBe('no dead-letter queue configured');
    expect(failing.destination.fix).toMatch(new RegExp(`^create ${topic}\\.DLT \\(the dead-letter naming convention\\)`));

    await createTopic(`${topic}.DLT`);
    const fixed = await until(app, 'kafka', `${topic}*`, 'dead_letter_handling', topic, 'pass');
    expectPass(fixed);
    expect(fixed.destination.evidence).toBe(`dead letters go to ${topic}.DLT (naming convention)`);
  });

  it('idempotent_consumers: records without a message id, then duplicated ids, fail; unique ids pass', async () => {
    const topic = `${base}-id`;
    await createTopic(topic);
    await raw.send({ topic, messages: [0, 1, 2].map((i) => ({ key: `k${i}`, value: `anonymous ${i}` })) });
    const noIds = await measure(app, 'kafka', `${topic}*`, 'idempotent_consumers', topic);
    expectFailure(noIds, topic, /message-id/);
    expect(noIds.destination.evidence).toBe('0 of 3 sampled messages carry an id');

    await raw.send({ topic, messages: ['a', 'b', 'b', 'c', 'd'].map((id) => ({ key: id, value: `order ${id}`, headers: { 'message-id': `${topic}-${id}` } })) });
    const dupes = await measure(app, 'kafka', `${topic}*`, 'idempotent_consumers', topic);
    expectFailure(dupes, topic, /deduplicate/);
    expect(dupes.destination.evidence).toBe(`5 of 5 sampled messages carry an id; 1 ids seen twice (e.g. ${topic}-b)`);

    await raw.send({ topic, messages: ['e', 'f', 'g', 'h', 'i'].map((id) => ({ key: id, value: `order ${id}`, headers: { 'message-id': `${topic}-${id}` } })) });
    const fixed = await measure(app, 'kafka', `${topic}*`, 'idempotent_consumers', topic);
    expectPass(fixed);
    expect(fixed.destination.evidence).toBe('5 of 5 sampled messages carry an id');
  });

  it('error_retry: dead letters written after a single attempt fail; retries with growing delays pass', async () => {
    const topic = `${base}-rt`;
    const dlt = `${topic}.DLT`;
    await createTopic(topic);
    await createTopic(dlt);
    expect(await deadLetterThroughRetry(producer, topic, dlt, ['r1', 'r2', 'r3'], NO_RETRY)).toBe(3);
    const failing = await measure(app, 'kafka', `${topic}*`, 'error_retry', topic);
    expectFailure(failing, topic, /exponential backoff/);
    expect(failing.destination.evidence).toMatch(/^0 of 3 failed messages were retried with growing delays before dead-lettering; e\.g\. .*dead-lettered after a single attempt/);

    expect(await deadLetterThroughRetry(producer, topic, dlt, ['r4', 'r5', 'r6', 'r7', 'r8'], BACKOFF)).toBe(5);
    const fixed = await measure(app, 'kafka', `${topic}*`, 'error_retry', topic);
    expectPass(fixed);
    expect(fixed.destination.evidence).toBe('5 of 5 failed messages were retried with growing delays before dead-lettering');
  });

  it('monitoring: a topic no alert rule covers fails; an app with a rule for it passes and shows the rule firing', async () => {
    const topic = `${base}-mon`;
    await createTopic(topic);
    await consumeWithGroup(topic);
    await raw.send({ topic, messages: [0, 1, 2, 3].map((i) => ({ value: `m ${i}`, headers: { 'message-id': `m-${i}` } })) });
    const failing = await until(app, 'kafka', `${topic}*`, 'monitoring', topic, 'fail');
    expectFailure(failing, topic, /alert rule/);
    expect(failing.destination.evidence).toBe('no alert rule covers it');

    const monitored = await fitnessApp(CONNECTION, data.dir, [{ connection: 'kafka', destination: `${topic}*`, maxLag: 2 }]);
    opened.push(monitored);
    const fixed = await until(monitored, 'kafka', `${topic}*`, 'monitoring', topic, 'pass', 30_000);
    expectPass(fixed);
    expect(fixed.destination.evidence).toBe('alert rules: lag ≤ 2; metrics exported on /metrics');
    expect(fixed.scores.alerts).toEqual([{ connection: 'kafka', destination: topic, rule: 'max lag', value: 4, limit: 2 }]);
  });
});
