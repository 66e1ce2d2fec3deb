import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, fromUtf8, utf8, type Message } from '@mailroom/core';
import type { SqsAdapter } from '../src';
import { testAdapter, uniqueName } from './helpers';

const msg = (text: string, key: string | null, headers: Record<string, string> = {}): Message => ({ key, value: utf8(text), headers, timestamp: new Date() });

describe('FIFO queues on ElasticMQ', () => {
  let adapter: SqsAdapter;
  const created: string[] = [];
  const create = async (name: string) => {
    await adapter.createDestination(name, { type: 'fifo' });
    created.unshift(name);
    return name;
  };

  beforeAll(() => {
    adapter = testAdapter();
  });
  afterAll(async () => {
    for (const name of created) await adapter.deleteDestination(name).catch(() => undefined);
    await adapter.close();
  });

  it('keeps order within a group (the key), across batches and consumers', async () => {
    const queue = await create(`${uniqueName('order')}.fifo`);
    const keys = ['alpha', 'beta', 'clé 🔑'];
    const messages = Array.from({ length: 150 }, (_, i) => msg(`${keys[i % 3]}:${Math.floor(i / 3)}`, keys[i % 3]!));
    const producer = adapter.createProducer();
    for (let i = 0; i < messages.length; i += 40) await producer.sendBatch(queue, messages.slice(i, i + 40));

    const consumer = adapter.createConsumer({ group: 'g', maxMessages: 7 });
    await consumer.subscribe([queue]);
    const received: { key: string | null; value: string }[] = [];
    const deadline = Date.now() + 30_000;
    while (received.length < messages.length && Date.now() < deadline) {
      const got = await consumer.poll(1000);
      received.push(...got.map((m) => ({ key: m.key, value: fromUtf8(m.value) })));
      if (got.length > 0) await consumer.commit();
    }
    await consumer.close();
    expect(received.length).toBe(messages.length);
    for (const key of keys) {
      const sequence = received.filter((r) => r.key === key).map((r) => Number(r.value.split(':')[1]));
      expect(sequence).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
  });

  it('deduplicates by message-id header, and publishes with explicit group and deduplication ids', async () => {
    const queue = await create(`${uniqueName('dedupe')}.fifo`);
    const producer = adapter.createProducer();
    await producer.send(queue, msg('first', 'k', { 'message-id': 'same-id' }));
    await producer.send(queue, msg('second copy', 'k', { 'message-id': 'same-id' }));
    const result = await adapter.publish(queue, [
      { key: 'k', value: utf8('p-1'), headers: {}, properties: { groupId: 'explicit-group', deduplicationId: 'd-1' } },
      { key: 'k', value: utf8('p-1 again'), headers: {}, properties: { groupId: 'explicit-group', deduplicationId: 'd-1' } },
    ]);
    expect(result.published).toBe(2);

    const page = await adapter.browse({ destination: queue, start: { from: 'oldest' }, limit: 10 });
    const byValue = new Map(page.messages.map((m) => [fromUtf8(m.value), m]));
    expect([...byValue.keys()].sort()).toEqual(['first', 'p-1']);
    expect(byValue.get('p-1')?.properties['messageGroupId']).toBe('explicit-group');
    expect(byValue.get('first')?.properties['messageGroupId']).toBe('k');
    expect(byValue.get('first')?.position).toMatch(/^\d+$/);

    await expect(adapter.publish(queue, [{ key: null, value: utf8('x'), headers: {}, properties: { delaySeconds: 5 } }])).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    await expect(adapter.publish(queue, [{ key: null, value: utf8('x'), headers: {}, properties: { groupId: 'has space' } }])).rejects.toBeInstanceOf(
      InvalidInputError,
    );
  });

  it('names FIFO DLQs as FIFO and refuses mismatched queue types', async () => {
    expect(adapter.deadLetterNameFor('jobs.fifo')).toBe('jobs-dlq.fifo');
    await expect(adapter.createDestination(uniqueName('x'), { type: 'fifo' })).rejects.toBeInstanceOf(InvalidInputError);
    const dlq = await create(`${uniqueName('dlq')}.fifo`);
    await expect(adapter.createDestination(uniqueName('std'), { deadLetter: { destination: dlq, maxDeliveries: 3 } })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
