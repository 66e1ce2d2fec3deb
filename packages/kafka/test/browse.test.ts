import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError, fromUtf8, utf8, type BrowsePage, type Message, type StoredMessage } from '@mailroom/core';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { brokers, deleteGroups, groupsLeftBehind, joinAndLeaveWithoutCommit, newAdapter, uniqueName } from './helpers';
import type { KafkaAdapter } from '../src';

const values = (messages: StoredMessage[]) => messages.map((m) => fromUtf8(m.value));

let adapter: KafkaAdapter;
const topic = uniqueName('browse');
const big = uniqueName('browse-big');
const t0 = Date.now() - 60 * 60_000;
const count = 30;

async function allPages(first: BrowsePage, next: (cursor: string) => Promise<BrowsePage>): Promise<BrowsePage[]> {
  const pages = [first];
  let cursor = first.nextCursor;
  while (cursor !== null) {
    const page = await next(cursor);
    pages.push(page);
    cursor = page.nextCursor;
    if (pages.length > 100) throw new Error('runaway pagination');
  }
  return pages;
}

beforeAll(async () => {
  adapter = newAdapter();
  await adapter.createDestination(topic, { partitions: 3 });
  await adapter.createDestination(big, { partitions: 1 });
  const producer = adapter.createProducer();
  // Timestamps one second apart, keys spreading the records over the 3 partitions.
  const messages: Message[] = Array.from({ length: count }, (_, i) => ({
    key: `key-${i}`,
    value: utf8(`v-${i}`),
    headers: { 'message-id': `id-${i}` },
    timestamp: new Date(t0 + i * 1000),
  }));
  await producer.sendBatch(topic, messages);
  const bigMessages: Message[] = Array.from({ length: 1200 }, (_, i) => ({ key: null, value: utf8(`b-${i}`), headers: {}, timestamp: new Date(t0 + i) }));
  await producer.sendBatch(big, bigMessages);
  await producer.close();
});

afterAll(async () => {
  await adapter.deleteDestination(topic).catch(() => undefined);
  await adapter.deleteDestination(big).catch(() => undefined);
  await adapter.close();
});

describe('browse', () => {
  it('spreads the fixture over every partition', async () => {
    const detail = await adapter.describeDestination(topic);
    expect(detail.partitions).toBe(3);
    expect(detail.depth).toBe(count);
    expect(detail.partitionDetails.map((p) => p.count).reduce((a, b) => a + b, 0)).toBe(count);
    expect(detail.partitionDetails.filter((p) => p.count > 0).length).toBe(3);
  });

  it('pages newest-first across all partitions, merged by timestamp', async () => {
    const first = await adapter.browse({ destination: topic, start: { from: 'newest' }, limit: 10 });
    const pages = await allPages(first, (cursor) => adapter.browse({ destination: topic, start: { from: 'newest' }, cursor, limit: 10 }));
    const seen = pages.flatMap((p) => values(p.messages));
    expect(seen).toEqual(Array.from({ length: count }, (_, i) => `v-${count - 1 - i}`));
    expect(first.destructive).toBe(false);
    expect(first.scanned).toBe(10);
    expect(new Set(first.messages.map((m) => m.partition)).size).toBeGreaterThan(1);
  });

  it('reads oldest-first and from a timestamp', async () => {
    const oldest = await adapter.browse({ destination: topic, start: { from: 'oldest' }, limit: 500 });
    expect(values(oldest.messages)).toEqual(Array.from({ length: count }, (_, i) => `v-${i}`));
    expect(oldest.nextCursor).toBeNull();
    const fromTime = await adapter.browse({ destination: topic, start: { from: 'timestamp', timestamp: new Date(t0 + 15_000) }, limit: 500 });
    expect(values(fromTime.messages)).toEqual(Array.from({ length: count - 15 }, (_, i) => `v-${15 + i}`));
    const future = await adapter.browse({ destination: topic, start: { from: 'timestamp', timestamp: new Date(Date.now() + 60_000) }, limit: 10 });
    expect(future.messages).toEqual([]);
  });

  it('reads one partition from an offset, as partition:offset or with partition given', async () => {
    const oldest = await adapter.browse({ destination: topic, start: { from: 'oldest' }, limit: 500 });
    const partition = oldest.messages[0]?.partition ?? 0;
    const inPartition = oldest.messages.filter((m) => m.partition === partition);
    expect(inPartition.length).toBeGreaterThan(2);
    const second = inPartition[1];
    if (!second) throw new Error('fixture');
    expect(second.id).toBe(`${partition}:${second.position}`);
    const byPair = await adapter.browse({ destination: topic, start: { from: 'position', position: `${partition}:${second.position}` }, limit: 500 });
    expect(byPair.messages.map((m) => m.id)).toEqual(inPartition.slice(1).map((m) => m.id));
    const byOffset = await adapter.browse({ destination: topic, partition, start: { from: 'position', position: String(second.position) }, limit: 500 });
    expect(byOffset.messages.map((m) => m.id)).toEqual(inPartition.slice(1).map((m) => m.id));
    const newestOfOne = await adapter.browse({ destination: topic, partition, start: { from: 'newest' }, limit: 2 });
    expect(newestOfOne.messages.map((m) => m.id)).toEqual(inPartition.slice(-2).reverse().map((m) => m.id));
    await expect(adapter.browse({ destination: topic, start: { from: 'position', position: 'x:1' }, limit: 5 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(adapter.browse({ destination: topic, partition: 7, start: { from: 'newest' }, limit: 5 })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('returns byte-exact values, keys, headers and timestamps', async () => {
    const page = await adapter.browse({ destination: topic, start: { from: 'oldest' }, limit: 1 });
    const m = page.messages[0];
    expect(m?.key).toBe('key-0');
    expect(m?.headers).toEqual({ 'message-id': 'id-0' });
    expect(m?.timestamp.getTime()).toBe(t0);
    expect(m?.properties['messageId']).toBe('id-0');
    expect(m?.deadLetter).toBeNull();
  });

  it('serves pages of at most 500, newest-first through 1200 records without gaps or repeats', async () => {
    const first = await adapter.browse({ destination: big, start: { from: 'newest' }, limit: 500 });
    const pages = await allPages(first, (cursor) => adapter.browse({ destination: big, start: { from: 'newest' }, cursor, limit: 500 }));
    expect(pages.map((p) => p.messages.length)).toEqual([500, 500, 200]);
    expect(pages.flatMap((p) => values(p.messages))).toEqual(Array.from({ length: 1200 }, (_, i) => `b-${1199 - i}`));
    const clamped = await adapter.browse({ destination: big, start: { from: 'oldest' }, limit: 2000 });
    expect(clamped.messages.length).toBe(500);
    expect(clamped.warnings.join(' ')).toMatch(/at most 500/);
    await expect(adapter.browse({ destination: big, start: { from: 'oldest' }, limit: 0 })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('filters within a bounded scan and reports what it examined', async () => {
    const page = await adapter.browse({ destination: big, start: { from: 'oldest' }, limit: 5, filter: (m) => fromUtf8(m.value).endsWith('7') });
    expect(values(page.messages)).toEqual(['b-7', 'b-17', 'b-27', 'b-37', 'b-47']);
    expect(page.scanned).toBe(48);
    const next = await adapter.browse({ destination: big, start: { from: 'oldest' }, cursor: page.nextCursor, limit: 1, filter: (m) => fromUtf8(m.value).endsWith('7') });
    expect(values(next.messages)).toEqual(['b-57']);
  });

  it('hides aborted transactions and transaction markers', async () => {
    const txTopic = uniqueName('browse-tx');
    await adapter.createDestination(txTopic, { partitions: 1 });
    const kafka = new Kafka({ clientId: 'mailroom-test', brokers: brokers(), logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ transactionalId: `${txTopic}-tx`, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    try {
      await producer.connect();
      const committed = await producer.transaction();
      await committed.send({ topic: txTopic, messages: [1, 2, 3].map((i) => ({ value: `c-${i}` })) });
      await committed.commit();
      const aborted = await producer.transaction();
      await aborted.send({ topic: txTopic, messages: [1, 2].map((i) => ({ value: `a-${i}` })) });
      await aborted.abort();
      const last = await producer.transaction();
      await last.send({ topic: txTopic, messages: [{ value: 'c-4' }] });
      await last.commit();
      const newest = await adapter.browse({ destination: txTopic, start: { from: 'newest' }, limit: 500 });
      expect(values(newest.messages)).toEqual(['c-4', 'c-3', 'c-2', 'c-1']);
      const oldest = await adapter.browse({ destination: txTopic, start: { from: 'oldest' }, limit: 2 });
      const rest = await adapter.browse({ destination: txTopic, start: { from: 'oldest' }, cursor: oldest.nextCursor, limit: 500 });
      expect([...values(oldest.messages), ...values(rest.messages)]).toEqual(['c-1', 'c-2', 'c-3', 'c-4']);
    } finally {
      await producer.disconnect();
      await adapter.deleteDestination(txTopic);
    }
  });

  it('leaves no consumer group and no commit behind (every group on the broker, before and after)', async () => {
    const left = await groupsLeftBehind([topic, big], async () => {
      await adapter.browse({ destination: topic, start: { from: 'newest' }, limit: 5 });
      const page = await adapter.browse({ destination: big, start: { from: 'oldest' }, limit: 5 });
      await adapter.browse({ destination: big, start: { from: 'oldest' }, cursor: page.nextCursor, limit: 5 });
      await adapter.browse({ destination: topic, start: { from: 'timestamp', timestamp: new Date(t0 + 10_000) }, limit: 5 });
    });
    expect(left).toEqual([]);
    expect(await adapter.listConsumerGroups(topic)).toEqual([]);
    expect(await adapter.listConsumerGroups(big)).toEqual([]);
  });

  it('the group check sees a group that joined and left without committing (which listConsumerGroups cannot)', async () => {
    const leaver = uniqueName('leaver');
    try {
      const left = await groupsLeftBehind([topic], () => joinAndLeaveWithoutCommit(leaver, topic));
      expect(left).toEqual([leaver]);
      expect((await adapter.listConsumerGroups(topic)).map((g) => g.name)).not.toContain(leaver);
    } finally {
      await deleteGroups([leaver]);
    }
  });

  it('rejects a missing topic and a foreign cursor', async () => {
    await expect(adapter.browse({ destination: uniqueName('missing'), start: { from: 'newest' }, limit: 5 })).rejects.toBeInstanceOf(NotFoundError);
    const page = await adapter.browse({ destination: topic, start: { from: 'newest' }, limit: 5 });
    await expect(adapter.browse({ destination: big, start: { from: 'newest' }, cursor: page.nextCursor, limit: 5 })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
