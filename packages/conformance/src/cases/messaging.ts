import { expect } from 'vitest';
import { Headers, utf8, type Message, type ReceivedMessage } from '@mailroom/core';
import type { CaseDefinition } from '../context';
import { collect, duplicatesOf, expectBytes, header, message, pseudoRandomBytes } from '../helpers';

const MiB = 1024 * 1024;

function idsOf(messages: ReceivedMessage[]): string[] {
  return messages.map((m) => header(m, Headers.messageId));
}

function sortedIds(count: number, prefix: string): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`).sort();
}

export const roundTrip: CaseDefinition = {
  name: 'round-trip',
  title: 'values, keys and headers round-trip byte-exact (empty, all byte values, invalid UTF-8, 1 MiB, unicode, null key)',
  timeoutMs: 90_000,
  async run({ adapter, scope, ms, warn }) {
    const topic = await scope.destination(scope.name());
    const consumer = await scope.subscribed(scope.group('g'), [topic]);
    const producer = scope.producer();

    const limit = adapter.capabilities.maxMessageBytes;
    const largeSize = limit === null ? MiB : Math.min(MiB, limit);
    if (largeSize < MiB) warn(`large value reduced from 1 MiB to ${largeSize} bytes: capabilities.maxMessageBytes is ${limit}`);

    const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const invalidUtf8 = Uint8Array.from([0xff, 0xfe, 0xc3, 0x28, 0x80, 0xed, 0xa0, 0x80, 0xf8, 0x88, 0x80, 0x80, 0x80, 0x00, 0xc0, 0xaf]);
    const id = (label: string) => `${scope.prefix}-${label}`;
    const sent: { label: string; message: Message }[] = [
      { label: 'empty value', message: message(new Uint8Array(0), { [Headers.messageId]: id('empty') }, 'k-empty') },
      { label: 'all 256 byte values', message: message(allBytes, { [Headers.messageId]: id('bytes') }, 'k-bytes') },
      { label: 'invalid UTF-8', message: message(invalidUtf8, { [Headers.messageId]: id('invalid-utf8') }, 'k-invalid') },
      {
        label: 'unicode key and header values',
        message: message(
          'ünïcödé body ✓',
          { [Headers.messageId]: id('unicode'), 'x-conf-unicode': 'héllo wörld ✓ 日本語 🚀', 'x-conf-ascii': 'plain value' },
          'clé-ключ-鍵-🔑',
        ),
      },
      { label: 'null key', message: message('no key here', { [Headers.messageId]: id('null-key') }, null) },
      { label: `${largeSize} random bytes`, message: message(pseudoRandomBytes(largeSize), { [Headers.messageId]: id('large') }, 'k-large') },
    ];
    const sentAt = Date.now();
    await producer.sendBatch(topic, sent.slice(0, 3).map((s) => s.message));
    for (const s of sent.slice(3)) await producer.send(topic, s.message);

    const received = await collect(consumer, sent.length, { deadlineMs: ms(60_000), settleMs: ms(1000) });
    expect(duplicatesOf(idsOf(received)), 'no message may arrive twice').toEqual([]);
    expect(received.length, `expected exactly ${sent.length} messages`).toBe(sent.length);
    const byId = new Map(received.map((m) => [header(m, Headers.messageId), m]));
    for (const s of sent) {
      const got = byId.get(s.message.headers[Headers.messageId] ?? '');
      if (!got) expect.fail(`${s.label}: not received`);
      expectBytes(got.value, s.message.value, s.label);
      expect(got.key, `${s.label}: key`).toBe(s.message.key);
      expect(got.headers, `${s.label}: headers`).toMatchObject(s.message.headers);
      expect(got.topic, `${s.label}: topic`).toBe(topic);
      expect(typeof got.id === 'string' && got.id.length > 0, `${s.label}: id is a non-empty string`).toBe(true);
      expect(got.deliveryCount === null || got.deliveryCount === 1, `${s.label}: first delivery has deliveryCount 1 or null, got ${got.deliveryCount}`).toBe(true);
      expect(got.timestamp instanceof Date && !Number.isNaN(got.timestamp.getTime()), `${s.label}: timestamp is a valid Date`).toBe(true);
      expect(Math.abs(got.timestamp.getTime() - sentAt), `${s.label}: timestamp near the send time`).toBeLessThan(10 * 60_000);
    }
  },
};

export const order: CaseDefinition = {
  name: 'order',
  title: '200 messages with one key arrive in the order they were sent',
  timeoutMs: 90_000,
  async run({ scope, ms }) {
    const topic = await scope.destination(scope.name());
    const consumer = await scope.subscribed(scope.group('g'), [topic]);
    const producer = scope.producer();
    const count = 200;
    const messages = Array.from({ length: count }, (_, i) => message(`${i}`, { [Headers.messageId]: `${scope.prefix}-${i}` }, 'same-key'));
    for (let i = 0; i < count; i += 50) await producer.sendBatch(topic, messages.slice(i, i + 50));

    const received = await collect(consumer, count, { deadlineMs: ms(60_000), settleMs: ms(500) });
    expect(received.map((m) => new TextDecoder().decode(m.value))).toEqual(messages.map((_, i) => `${i}`));
    const partitions = new Set(received.map((m) => m.partition));
    expect(partitions.size, 'one key lands on one partition').toBe(1);
  },
};

export const pollTimeout: CaseDefinition = {
  name: 'poll-timeout',
  title: 'poll on an empty destination returns [] within its timeout',
  timeoutMs: 45_000,
  async run({ scope, ms }) {
    const topic = await scope.destination(scope.name());
    const consumer = await scope.subscribed(scope.group('g'), [topic]);
    for (const timeout of [1000, 2000]) {
      const started = Date.now();
      const got = await consumer.poll(timeout);
      const elapsed = Date.now() - started;
      expect(got).toEqual([]);
      expect(elapsed, `poll(${timeout}) took ${elapsed} ms`).toBeLessThanOrEqual(timeout + ms(2500));
    }
  },
};

export const commit: CaseDefinition = {
  name: 'commit',
  title: 'commit acknowledges exactly what was polled; the uncommitted rest is redelivered after close',
  timeoutMs: 120_000,
  async run({ scope, ms }) {
    const topic = await scope.destination(scope.name());
    const group = scope.group('g');
    const maxMessages = 5;
    const first = await scope.subscribed(group, [topic], maxMessages);
    const producer = scope.producer();
    const count = 40;
    await producer.sendBatch(
      topic,
      Array.from({ length: count }, (_, i) => message(`c-${i}`, { [Headers.messageId]: `${scope.prefix}-${i}` }, `k-${i % 3}`)),
    );

    const pollAtLeast = async (wanted: number): Promise<ReceivedMessage[]> => {
      const got: ReceivedMessage[] = [];
      const deadline = Date.now() + ms(30_000);
      while (got.length < wanted && Date.now() < deadline) {
        const batch = await first.poll(1000);
        expect(batch.length, `poll returned ${batch.length} messages, maxMessages is ${maxMessages}`).toBeLessThanOrEqual(maxMessages);
        got.push(...batch);
      }
      expect(got.length, `expected at least ${wanted} messages from the first consumer`).toBeGreaterThanOrEqual(wanted);
      return got;
    };
    const committed = await pollAtLeast(5);
    await first.commit();
    const uncommitted = await pollAtLeast(5);
    await first.close();

    const committedIds = new Set(idsOf(committed));
    const uncommittedIds = new Set(idsOf(uncommitted));
    expect([...committedIds].filter((id) => uncommittedIds.has(id)), 'a committed message must not come again before close').toEqual([]);

    const second = await scope.subscribed(group, [topic]);
    const expectedIds = sortedIds(count, scope.prefix).filter((id) => !committedIds.has(id));
    const redelivered = await collect(second, expectedIds.length, { deadlineMs: ms(60_000), settleMs: ms(1500) });
    const ids = idsOf(redelivered);
    expect(ids.filter((id) => committedIds.has(id)), 'committed messages must never be delivered again').toEqual([]);
    expect(duplicatesOf(ids), 'each uncommitted message once').toEqual([]);
    expect([...ids].sort(), 'the new consumer gets exactly every uncommitted message').toEqual(expectedIds);
    for (const m of redelivered) {
      if (uncommittedIds.has(header(m, Headers.messageId)) && m.deliveryCount !== null) {
        expect(m.deliveryCount, `redelivered ${m.id} counts its second delivery`).toBeGreaterThanOrEqual(2);
      }
    }
  },
};

export const pointToPoint: CaseDefinition = {
  name: 'point-to-point',
  title: '3 competing consumers in one group: every message to exactly one, none missing, more than one consumer gets work',
  timeoutMs: 120_000,
  async run({ adapter, scope, ms }) {
    const consumerCount = 3;
    // A partition goes to one consumer of a group: with one partition there is nothing to compete for.
    const topic = await scope.destination(scope.name(), { partitions: adapter.capabilities.partitions ? consumerCount : 1 });
    const group = scope.group('g');
    const consumers = [];
    for (let i = 0; i < consumerCount; i++) consumers.push(await scope.subscribed(group, [topic], 10));
    const producer = scope.producer();
    const count = 60;
    await producer.sendBatch(
      topic,
      Array.from({ length: count }, (_, i) => message(`p-${i}`, { [Headers.messageId]: `${scope.prefix}-${i}` }, `k-${i}`)),
    );

    const perConsumer: ReceivedMessage[][] = consumers.map(() => []);
    const total = () => perConsumer.reduce((n, got) => n + got.length, 0);
    // Each consumer works on a batch for a moment, as a real worker would, so one fast poller cannot drain everything.
    const work = () => new Promise((resolve) => setTimeout(resolve, 50));
    const deadline = Date.now() + ms(60_000);
    await Promise.all(
      consumers.map(async (consumer, index) => {
        const mine = perConsumer[index] ?? [];
        while (total() < count && Date.now() < deadline) {
          const batch = await consumer.poll(500);
          mine.push(...batch);
          if (batch.length > 0) {
            await work();
            await consumer.commit();
          }
        }
        const settleEnd = Date.now() + ms(1000);
        while (Date.now() < settleEnd) {
          const batch = await consumer.poll(500);
          mine.push(...batch);
          if (batch.length > 0) await consumer.commit();
        }
      }),
    );
    const ids = perConsumer.flatMap(idsOf);
    const counts = perConsumer.map((got) => got.length);
    expect(duplicatesOf(ids), 'no message to two consumers (all of them commit)').toEqual([]);
    expect(ids.length, `exactly ${count} deliveries in all (per consumer: ${counts.join(', ')})`).toBe(count);
    expect([...ids].sort()).toEqual(sortedIds(count, scope.prefix));
    expect(counts.filter((n) => n > 0).length, `the consumers compete: more than one gets messages (per consumer: ${counts.join(', ')})`).toBeGreaterThan(1);
  },
};

export const publishSubscribe: CaseDefinition = {
  name: 'publish-subscribe',
  title: '3 groups each get every message',
  timeoutMs: 120_000,
  async run({ adapter, scope, ms, skip }) {
    const fanOut = adapter.capabilities.publishSubscribe;
    if (fanOut !== true) skip(`capabilities.publishSubscribe: ${fanOut}`);
    const topic = await scope.destination(scope.name());
    const consumers = [];
    for (let i = 0; i < 3; i++) consumers.push(await scope.subscribed(scope.group(`g${i}`), [topic]));
    const producer = scope.producer();
    const count = 30;
    await producer.sendBatch(
      topic,
      Array.from({ length: count }, (_, i) => message(utf8(`s-${i}`), { [Headers.messageId]: `${scope.prefix}-${i}` }, `k-${i % 4}`)),
    );
    const results = await Promise.all(consumers.map((c) => collect(c, count, { deadlineMs: ms(60_000), settleMs: ms(1000) })));
    results.forEach((received, i) => {
      const ids = idsOf(received);
      expect(duplicatesOf(ids), `group ${i}: no duplicates`).toEqual([]);
      expect([...ids].sort(), `group ${i}: every message`).toEqual(sortedIds(count, scope.prefix));
    });
  },
};
