import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError, NotFoundError, UnsupportedError, fromUtf8, utf8 } from '@mailroom/core';
import { newAdapter, uniqueName } from './helpers';
import type { KafkaAdapter } from '../src';

let adapter: KafkaAdapter;
const topic = uniqueName('admin');

beforeAll(async () => {
  adapter = newAdapter();
  await adapter.createDestination(topic, { partitions: 2 });
});

afterAll(async () => {
  await adapter.deleteDestination(topic).catch(() => undefined);
  await adapter.close();
});

describe('topics', () => {
  it('ping answers with the broker generation', async () => {
    const health = await adapter.ping();
    expect(health.version).toBe('Apache Kafka 4.0 or later');
    expect(health.latencyMs).toBeGreaterThan(0);
  });

  it('creates with Mailroom settings, refuses duplicates and bad options', async () => {
    const detail = await adapter.describeDestination(topic);
    expect(detail.partitions).toBe(2);
    expect(detail.config['max.message.bytes']).toBe(String(8 * 1024 * 1024));
    expect(detail.config['cleanup.policy']).toBe('delete');
    await expect(adapter.createDestination(topic, { partitions: 2 })).rejects.toBeInstanceOf(ConflictError);
    await expect(adapter.createDestination(uniqueName('x'), { partitions: 0 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(adapter.createDestination(uniqueName('x'), { type: 'quorum' })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(adapter.describeDestination(uniqueName('missing'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(adapter.deleteDestination(uniqueName('missing'))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('publishes with partition:offset ids and maps properties to headers', async () => {
    const result = await adapter.publish(topic, [
      { key: 'a', value: utf8('one'), headers: {}, properties: { partition: 1, messageId: 'm-1', contentType: 'text/plain' } },
      { key: 'b', value: utf8('two'), headers: { h: 'ü' }, properties: { partition: 1, correlationId: 'c-2', replyTo: 'replies' } },
      { key: 'c', value: utf8('three'), headers: {}, properties: { partition: 0 } },
    ]);
    expect(result).toEqual({ published: 3, ids: ['1:0', '1:1', '0:0'] });
    const page = await adapter.browse({ destination: topic, partition: 1, start: { from: 'oldest' }, limit: 10 });
    expect(page.messages.map((m) => [m.id, fromUtf8(m.value), m.headers])).toEqual([
      ['1:0', 'one', { 'message-id': 'm-1', 'content-type': 'text/plain' }],
      ['1:1', 'two', { h: 'ü', 'correlation-id': 'c-2', 'reply-to': 'replies' }],
    ]);
    expect(page.messages[0]?.properties).toMatchObject({ messageId: 'm-1', contentType: 'text/plain' });
    await expect(adapter.publish(topic, [{ key: null, value: utf8('x'), headers: {}, properties: { delaySeconds: 5 } }])).rejects.toBeInstanceOf(UnsupportedError);
    await expect(adapter.publish(topic, [{ key: null, value: utf8('x'), headers: {}, properties: { partition: 5 } }])).rejects.toBeInstanceOf(InvalidInputError);
    await expect(adapter.publish(uniqueName('missing'), [{ key: null, value: utf8('x'), headers: {} }])).rejects.toBeInstanceOf(NotFoundError);
  });

  it('purges every record, reporting how many', async () => {
    const removed = await adapter.purge(topic);
    expect(removed).toBe(3);
    const detail = await adapter.describeDestination(topic);
    expect(detail.depth).toBe(0);
    expect(detail.partitionDetails.map((p) => [p.low, p.high])).toEqual([
      ['1', '1'],
      ['2', '2'],
    ]);
    expect((await adapter.browse({ destination: topic, start: { from: 'newest' }, limit: 10 })).messages).toEqual([]);
  });
});
