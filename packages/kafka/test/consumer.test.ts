import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, utf8, type ReceivedMessage } from '@mailroom/core';
import { Kafka, logLevel } from 'kafkajs';
import { brokers, newAdapter, uniqueName } from './helpers';
import { createKafkaAdapter, type KafkaAdapter } from '../src';

let adapter: KafkaAdapter;
const topic = uniqueName('consumer');
const groups: string[] = [];
const newGroup = () => {
  const group = uniqueName('g');
  groups.push(group);
  return group;
};

beforeAll(async () => {
  adapter = newAdapter();
  await adapter.createDestination(topic, { partitions: 2 });
});

afterAll(async () => {
  await adapter.deleteDestination(topic).catch(() => undefined);
  await adapter.close();
  const admin = new Kafka({ clientId: 'mailroom-test', brokers: brokers(), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.deleteGroups(groups).catch(() => undefined);
  await admin.disconnect();
});

describe('consumer', () => {
  it('stays bounded while nobody polls (pause/resume) and then delivers every message once, in order per partition', async () => {
    const consumer = adapter.createConsumer({ group: newGroup(), maxMessages: 10 });
    await consumer.subscribe([topic]);
    const total = 4000;
    for (let i = 0; i < total; i += 1000) {
      await adapter.publish(topic, Array.from({ length: 1000 }, (_, j) => ({ key: `k-${(i + j) % 13}`, value: utf8(String(i + j)), headers: {} })));
    }
    // Let kafkajs fetch as far as it will: the buffer pauses the topic at 1000 messages.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const buffered = (consumer as unknown as { buffer: unknown[] }).buffer.length;
    expect(buffered).toBeGreaterThanOrEqual(1000);
    expect(buffered).toBeLessThan(total);
    const got: ReceivedMessage[] = [];
    const deadline = Date.now() + 30_000;
    while (got.length < total && Date.now() < deadline) {
      const batch = await consumer.poll(500);
      expect(batch.length).toBeLessThanOrEqual(10);
      got.push(...batch);
      if (batch.length > 0) await consumer.commit();
    }
    expect(await consumer.poll(300)).toEqual([]);
    await consumer.close();
    expect(got.length).toBe(total);
    expect(new Set(got.map((m) => m.id)).size).toBe(total);
    for (const partition of [0, 1]) {
      const offsets = got.filter((m) => m.partition === partition).map((m) => Number(m.id.split(':')[1]));
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
  });

  it('after a rebalance redelivers only what was polled but not committed on revoked partitions', async () => {
    const rebalanced = uniqueName('rebalance');
    await adapter.createDestination(rebalanced, { partitions: 4 });
    try {
      const group = newGroup();
      const a = adapter.createConsumer({ group, maxMessages: 1000 });
      await a.subscribe([rebalanced]);
      const total = 400;
      await adapter.publish(rebalanced, Array.from({ length: total }, (_, i) => ({ key: `k-${i}`, value: utf8(String(i)), headers: {} })));
      const early: ReceivedMessage[] = [];
      const deadline = Date.now() + 20_000;
      while (early.length < total && Date.now() < deadline) early.push(...(await a.poll(300)));
      expect(early.length).toBe(total);
      // Nothing committed yet: a second member takes half of the partitions.
      const b = adapter.createConsumer({ group, maxMessages: 1000 });
      await b.subscribe([rebalanced]);
      const fromA: ReceivedMessage[] = [];
      const fromB: ReceivedMessage[] = [];
      const settle = Date.now() + 4000;
      while (Date.now() < settle) {
        const [x, y] = await Promise.all([a.poll(200), b.poll(200)]);
        fromA.push(...x);
        fromB.push(...y);
        if (x.length > 0) await a.commit();
        if (y.length > 0) await b.commit();
      }
      await a.commit();
      await b.commit();
      const bPartitions = new Set(fromB.map((m) => m.partition));
      expect(bPartitions.size).toBeGreaterThan(0);
      // A got nothing again for the partitions it kept (it had them all already), B got exactly the
      // uncommitted records of the partitions it took over, and together nothing is missing.
      expect(fromA).toEqual([]);
      expect([...fromB.map((m) => m.id)].sort()).toEqual(early.filter((m) => bPartitions.has(m.partition)).map((m) => m.id).sort());
      await a.close();
      await b.close();
      const lag = await adapter.describeConsumerGroup(group, rebalanced);
      expect(lag.lag).toBe(0);
      expect(lag.partitions.map((p) => p.committed)).toEqual(lag.partitions.map((p) => p.end));
    } finally {
      await adapter.deleteDestination(rebalanced).catch(() => undefined);
    }
  });

  it('validates its arguments', async () => {
    expect(() => adapter.createConsumer({ group: '' })).toThrow(InvalidInputError);
    const consumer = adapter.createConsumer({ group: newGroup() });
    await expect(consumer.poll(10)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(consumer.subscribe([])).rejects.toBeInstanceOf(InvalidInputError);
    await consumer.close();
    expect(() => createKafkaAdapter({ brokers: [] })).toThrow(InvalidInputError);
    const fromString = createKafkaAdapter({ brokers: brokers().join(',') as unknown as string[] });
    expect((await fromString.ping()).version).not.toBeNull();
    await fromString.close();
  });
});
