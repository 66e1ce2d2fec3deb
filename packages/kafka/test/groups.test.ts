import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError, NotFoundError, UnsupportedError, utf8, type ConsumerGroupDetail, type Message, type MessageConsumer, type MetricsSnapshot, type ReceivedMessage } from '@mailroom/core';
import { Kafka, logLevel } from 'kafkajs';
import { brokers, deleteGroups, newAdapter, uniqueName } from './helpers';
import { describeWithKafkaTool, type ToolRow } from './kafka-tools';
import type { KafkaAdapter } from '../src';

let adapter: KafkaAdapter;
const topic = uniqueName('groups');
const group = uniqueName('g');
const t0 = Date.now() - 10 * 60_000;
const count = 90;

function asToolRows(detail: ConsumerGroupDetail): Omit<ToolRow, 'consumerId'>[] {
  return detail.partitions.map((p) => ({
    topic: p.destination,
    partition: p.partition ?? -1,
    currentOffset: p.committed === null ? null : Number(p.committed),
    logEndOffset: p.end === null ? null : Number(p.end),
    lag: p.lag,
  }));
}

async function expectSameAsKafkaTool(): Promise<ToolRow[]> {
  const [tool, ours] = await Promise.all([describeWithKafkaTool(brokers().join(','), group), adapter.describeConsumerGroup(group, topic)]);
  expect(asToolRows(ours)).toEqual(tool.map(({ consumerId: _c, ...row }) => row));
  expect(ours.lag).toBe(tool.reduce((n, r) => n + (r.lag ?? 0), 0));
  return tool;
}

async function pollAtLeast(consumer: MessageConsumer, wanted: number): Promise<ReceivedMessage[]> {
  const got: ReceivedMessage[] = [];
  const deadline = Date.now() + 20_000;
  while (got.length < wanted && Date.now() < deadline) got.push(...(await consumer.poll(500)));
  return got;
}

beforeAll(async () => {
  adapter = newAdapter();
  await adapter.createDestination(topic, { partitions: 3 });
});

afterAll(async () => {
  await adapter.deleteDestination(topic).catch(() => undefined);
  const kafka = new Kafka({ clientId: 'mailroom-test', brokers: brokers(), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups([group]).catch(() => undefined);
  await admin.disconnect();
  await adapter.close();
});

describe('consumer groups', () => {
  it('reports committed offsets, end offsets and lag exactly as kafka-consumer-groups does, then resets offsets', async () => {
    const consumer = adapter.createConsumer({ group, maxMessages: 20 });
    await consumer.subscribe([topic]);
    const producer = adapter.createProducer();
    const messages: Message[] = Array.from({ length: count }, (_, i) => ({ key: `k-${i}`, value: utf8(`m-${i}`), headers: {}, timestamp: new Date(t0 + i * 1000) }));
    await producer.sendBatch(topic, messages);
    await producer.close();

    const polled = await pollAtLeast(consumer, 30);
    expect(polled.length).toBeGreaterThanOrEqual(30);
    await consumer.commit();

    // Active group: one member, lag = end − committed.
    const active = await expectSameAsKafkaTool();
    expect(active.every((r) => r.consumerId !== null)).toBe(true);
    const activeDetail = await adapter.describeConsumerGroup(group, topic);
    expect(activeDetail.state).toBe('Stable');
    expect(activeDetail.members).toBe(1);
    expect(activeDetail.lag).toBe(count - polled.length);
    const summaries = await adapter.listConsumerGroups(topic);
    expect(summaries.map((s) => [s.name, s.lag, s.members])).toEqual([[group, count - polled.length, 1]]);

    await expect(adapter.resetOffsets(group, topic, { kind: 'earliest' })).rejects.toBeInstanceOf(ConflictError);

    await consumer.close();
    const idle = await expectSameAsKafkaTool();
    expect(idle.every((r) => r.consumerId === null)).toBe(true);
    expect((await adapter.describeConsumerGroup(group, topic)).state).toBe('Empty');

    await adapter.resetOffsets(group, topic, { kind: 'earliest' });
    const earliest = await expectSameAsKafkaTool();
    expect(earliest.map((r) => r.currentOffset)).toEqual([0, 0, 0]);
    expect(earliest.reduce((n, r) => n + (r.lag ?? 0), 0)).toBe(count);

    await adapter.resetOffsets(group, topic, { kind: 'latest' });
    const latest = await expectSameAsKafkaTool();
    expect(latest.map((r) => r.lag)).toEqual([0, 0, 0]);

    // By time: each partition's first record at or after T (from browsing), or its end.
    const at = t0 + 45_000;
    await adapter.resetOffsets(group, topic, { kind: 'timestamp', timestamp: new Date(at) });
    const all = await adapter.browse({ destination: topic, start: { from: 'oldest' }, limit: 500 });
    const byTime = await expectSameAsKafkaTool();
    for (const row of byTime) {
      const first = all.messages.find((m) => m.partition === row.partition && m.timestamp.getTime() >= at);
      expect(row.currentOffset).toBe(first ? Number(first.position) : row.logEndOffset);
    }
    expect(byTime.reduce((n, r) => n + (r.lag ?? 0), 0)).toBe(count - 45);

    await adapter.resetOffsets(group, topic, { kind: 'offset', partition: 1, offset: '2' });
    const exact = await expectSameAsKafkaTool();
    expect(exact.find((r) => r.partition === 1)?.currentOffset).toBe(2);
    expect(exact.filter((r) => r.partition !== 1).map((r) => r.currentOffset)).toEqual(byTime.filter((r) => r.partition !== 1).map((r) => r.currentOffset));
    await expect(adapter.resetOffsets(group, topic, { kind: 'offset', partition: 1, offset: '100000' })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(adapter.resetOffsets(group, topic, { kind: 'offset', partition: 9, offset: '0' })).rejects.toBeInstanceOf(InvalidInputError);

    // A reset is real: after "earliest" the group consumes everything again.
    await adapter.resetOffsets(group, topic, { kind: 'earliest' });
    const again = adapter.createConsumer({ group, maxMessages: 100 });
    await again.subscribe([topic]);
    const replay = await pollAtLeast(again, count);
    await again.commit();
    expect(new Set(replay.map((m) => m.id)).size).toBe(count);
    expect(replay.length).toBe(count);
    await again.close();
    const drained = await expectSameAsKafkaTool();
    expect(drained.map((r) => r.lag)).toEqual([0, 0, 0]);
  });

  it('measures produce and consume rates between metrics snapshots', async () => {
    const first = await adapter.metrics();
    expect(first.destinations.find((d) => d.destination === topic)?.depth).toBe(count);
    await adapter.publish(topic, Array.from({ length: 60 }, (_, i) => ({ key: `r-${i}`, value: utf8(`r-${i}`), headers: {} })));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = await adapter.metrics();
    const d = second.destinations.find((x) => x.destination === topic);
    expect(d?.depth).toBe(count + 60);
    expect(d?.publishRate ?? 0).toBeGreaterThan(0);
    const g = second.groups.find((x) => x.group === group && x.destination === topic);
    expect(g?.lag).toBe(60);
    expect(g?.consumeRate).toBe(0);
    const listed = (await adapter.listDestinations()).find((x) => x.name === topic);
    expect(listed?.lag).toBe(60);
    expect(listed?.partitions).toBe(3);
    expect(listed?.attributes['cleanup.policy']).toBe('delete');
    expect(listed?.attributes['replicationFactor']).toBe(1);
  });

  it("shows a consuming group's rate: the offsets it committed between two snapshots over the time between them", async () => {
    const rateGroup = uniqueName('g-rate');
    // A new group is committed at the end of every partition when it subscribes, so the first snapshot has a baseline.
    const consumer = adapter.createConsumer({ group: rateGroup, maxMessages: 100 });
    try {
      await consumer.subscribe([topic]);
      const ofGroup = (snapshot: MetricsSnapshot) => snapshot.groups.find((g) => g.group === rateGroup && g.destination === topic);
      const firstStart = Date.now();
      const first = await adapter.metrics();
      const firstEnd = Date.now();
      expect(ofGroup(first)).toMatchObject({ lag: 0, consumeRate: null });

      const consumed = 120;
      await adapter.publish(topic, Array.from({ length: consumed }, (_, i) => ({ key: `c-${i}`, value: utf8(`c-${i}`), headers: {} })));
      const polled = await pollAtLeast(consumer, consumed);
      expect(polled.length).toBe(consumed);
      await consumer.commit();
      await new Promise((resolve) => setTimeout(resolve, 1000));

      const secondStart = Date.now();
      const second = await adapter.metrics();
      const secondEnd = Date.now();
      const measured = ofGroup(second);
      expect(measured?.lag).toBe(0);
      const rate = measured?.consumeRate ?? null;
      if (rate === null) throw new Error(`no consume rate for ${rateGroup} in the second snapshot`);
      expect(rate).toBeGreaterThan(0);
      // The adapter's window lies between the end of the first snapshot and the start of the second
      // (shortest) and between the start of the first and the end of the second (longest).
      expect(rate).toBeGreaterThanOrEqual((consumed * 1000) / (secondEnd - firstStart));
      expect(rate).toBeLessThanOrEqual((consumed * 1000) / (secondStart - firstEnd));
      // Every other group on the topic committed nothing meanwhile: the topic's deliver rate is this group's.
      expect(second.destinations.find((d) => d.destination === topic)?.deliverRate).toBeCloseTo(rate, 6);
    } finally {
      await consumer.close();
      await deleteGroups([rateGroup]);
    }
  });

  it('says what Kafka cannot do and what does not exist', async () => {
    await expect(adapter.listPending(topic, group, 10)).rejects.toBeInstanceOf(UnsupportedError);
    await expect(adapter.describeConsumerGroup(uniqueName('nobody'))).rejects.toBeInstanceOf(NotFoundError);
  });
});
