import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerUnavailableError, TooLargeError, fromUtf8, utf8, type Message } from '@mailroom/core';
import { PartialBatchError, type SqsAdapter } from '../src';
import { SqsConnection } from '../src/connection';
import { resolveConfig } from '../src/config';
import { encodeMessage } from '../src/codec';
import { sendMessages } from '../src/send';
import { createSqsAdapter } from '../src';
import { testAdapter, testConfig, uniqueName } from './helpers';

const msg = (value: Uint8Array | string, headers: Record<string, string> = {}, key: string | null = null): Message => ({
  key,
  value: typeof value === 'string' ? utf8(value) : value,
  headers,
  timestamp: new Date(),
});

describe('producer and consumer on ElasticMQ', () => {
  let adapter: SqsAdapter;
  const created: string[] = [];
  const create = async (name: string) => {
    await adapter.createDestination(name);
    created.unshift(name);
    return name;
  };

  beforeAll(() => {
    adapter = testAdapter({ consumerVisibilityTimeoutSeconds: 120 });
  });
  afterAll(async () => {
    for (const name of created) await adapter.deleteDestination(name).catch(() => undefined);
    await adapter.close();
  });

  it('carries 15 headers (packed into one attribute) and reads them back exactly', async () => {
    const queue = await create(uniqueName('headers'));
    const headers = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`x-h-${i}`, `välue ${i}`]));
    await adapter.createProducer().send(queue, msg('body', headers, 'key'));
    const page = await adapter.browse({ destination: queue, start: { from: 'oldest' }, limit: 10 });
    expect(page.messages[0]?.headers).toEqual(headers);
    expect(page.messages[0]?.key).toBe('key');
  });

  it('refuses an oversized message with TooLargeError before sending anything of the batch', async () => {
    const queue = await create(uniqueName('large'));
    const limit = adapter.capabilities.maxMessageBytes!;
    const producer = adapter.createProducer();
    // The declared limit fits even for bytes that must go base64-encoded.
    const binary = new Uint8Array(limit).fill(0xff);
    await producer.send(queue, msg(binary));
    await expect(producer.sendBatch(queue, [msg('small'), msg('x'.repeat(262_145))])).rejects.toBeInstanceOf(TooLargeError);
    await expect(producer.send(queue, msg(new Uint8Array(limit + 10_000).fill(0xff)))).rejects.toThrow(/SQS allows 262144 bytes/);
    const page = await adapter.browse({ destination: queue, start: { from: 'oldest' }, limit: 10 });
    expect(page.messages.map((m) => m.value.byteLength)).toEqual([limit]);
  });

  it('splits a batch by the 256 KiB batch total, not only by 10 entries', async () => {
    const queue = await create(uniqueName('split'));
    const values = Array.from({ length: 12 }, (_, i) => `${i}:`.padEnd(60_000, 'x'));
    await adapter.createProducer().sendBatch(queue, values.map((v) => msg(v)));
    expect((await adapter.describeDestination(queue)).depth).toBe(12);
  });

  it('reports each failed entry of a batch, having sent the others', async () => {
    const queue = await create(uniqueName('partial'));
    const connection = new SqsConnection(resolveConfig(testConfig()));
    try {
      const good = encodeMessage({ key: null, value: utf8('good'), headers: {} });
      // A Number attribute that is no number: SQS refuses that entry alone.
      const bad = { body: 'bad', attributes: { n: { DataType: 'Number', StringValue: 'not a number' } }, size: 20 };
      const error = await sendMessages(connection, queue, [good, bad, good]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PartialBatchError);
      const partial = error as PartialBatchError;
      expect(partial.succeeded).toBe(2);
      expect(partial.failures.map((f) => [f.index, f.senderFault])).toEqual([[1, true]]);
      expect((await adapter.describeDestination(queue)).depth).toBe(2);
    } finally {
      connection.close();
    }
  });

  it('close makes uncommitted messages visible at once, long before their visibility timeout', async () => {
    const queue = await create(uniqueName('release'));
    await adapter.createProducer().sendBatch(queue, [msg('a'), msg('b'), msg('c')]);
    const first = adapter.createConsumer({ group: 'g', maxMessages: 2 });
    await first.subscribe([queue]);
    const polled = await first.poll(2000);
    expect(polled.length).toBe(2);
    await first.commit();
    const uncommitted = await first.poll(2000);
    expect(uncommitted.map((m) => fromUtf8(m.value))).toHaveLength(1);
    const started = Date.now();
    await first.close();
    const second = adapter.createConsumer({ group: 'g' });
    await second.subscribe([queue]);
    const again = await second.poll(3000);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(again.map((m) => [fromUtf8(m.value), m.deliveryCount])).toEqual([[fromUtf8(uncommitted[0]!.value), 2]]);
    await second.commit();
    await second.close();
    expect((await adapter.describeDestination(queue)).depth).toBe(0);
  });

  it('messages a consumer polled and neither committed nor released come back after their visibility timeout', async () => {
    const short = testAdapter({ consumerVisibilityTimeoutSeconds: 2 });
    const queue = await create(uniqueName('visibility'));
    const abandoned = short.createConsumer({ group: 'g' });
    const other = short.createConsumer({ group: 'g' });
    try {
      await short.createProducer().sendBatch(queue, [msg('a'), msg('b'), msg('c')]);
      await abandoned.subscribe([queue]);
      let held: string[] = [];
      while (held.length < 3) held = [...held, ...(await abandoned.poll(2000)).map((m) => fromUtf8(m.value))];
      const heldAt = Date.now();
      // The consumer stops working without commit or close, as a crashed worker would.
      await other.subscribe([queue]);
      const during = await other.poll(500);
      if (Date.now() - heldAt < 2000) expect(during).toEqual([]);
      const back: { value: string; deliveryCount: number | null }[] = [];
      const deadline = Date.now() + 15_000;
      while (back.length < 3 && Date.now() < deadline) back.push(...(await other.poll(1000)).map((m) => ({ value: fromUtf8(m.value), deliveryCount: m.deliveryCount })));
      expect(Date.now() - heldAt).toBeGreaterThanOrEqual(2000);
      expect(back.map((m) => m.value).sort()).toEqual(['a', 'b', 'c']);
      expect(back.every((m) => m.deliveryCount === 2)).toBe(true);
      await other.commit();
      expect((await short.describeDestination(queue)).depth).toBe(0);
    } finally {
      await other.close();
      await abandoned.close();
      await short.close();
    }
  });

  it('polls several queues with one consumer', async () => {
    const a = await create(uniqueName('multi-a'));
    const b = await create(uniqueName('multi-b'));
    const producer = adapter.createProducer();
    await producer.send(a, msg('from a'));
    await producer.send(b, msg('from b'));
    const consumer = adapter.createConsumer({ group: 'g' });
    await consumer.subscribe([a, b]);
    const got: string[] = [];
    const deadline = Date.now() + 10_000;
    while (got.length < 2 && Date.now() < deadline) {
      got.push(...(await consumer.poll(1000)).map((m) => `${m.topic}:${fromUtf8(m.value)}`));
      await consumer.commit();
    }
    await consumer.close();
    expect(got.sort()).toEqual([`${a}:from a`, `${b}:from b`]);
  });

  it('a long poll ends promptly when the consumer closes', async () => {
    const queue = await create(uniqueName('idle'));
    const consumer = adapter.createConsumer({ group: 'g' });
    await consumer.subscribe([queue]);
    const started = Date.now();
    const polling = consumer.poll(15_000);
    await new Promise((r) => setTimeout(r, 300));
    await consumer.close();
    expect(await polling).toEqual([]);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a dead endpoint fails listDestinations with BrokerUnavailableError in seconds', async () => {
    const dead = createSqsAdapter(testConfig({ endpoint: 'http://127.0.0.1:1' }));
    const started = Date.now();
    await expect(dead.listDestinations()).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(Date.now() - started).toBeLessThan(10_000);
    await dead.close();
  });
});
