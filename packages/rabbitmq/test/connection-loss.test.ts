import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerUnavailableError, Headers, fromUtf8, utf8 } from '@mailroom/core';
import { createRabbitMqAdapter, type RabbitMqAdapter } from '../src/index';
import { Broker } from './broker';
import { testConfig, uniqueName } from './env';
import { STATS_DEADLINE_MS, waitUntil } from './wait';

/**
 * Closes every connection whose connection_name starts with `prefix`, once the management API
 * lists each of `required` (its connection list lags by the statistics interval).
 */
async function closeConnections(broker: Broker, prefix: string, required: string[]): Promise<string[]> {
  const named = async () => {
    const connections = await broker.management.connections();
    return connections.filter((c) => c.client_properties?.connection_name?.startsWith(prefix));
  };
  const listed = await waitUntil(named, (found) => required.every((r) => found.some((c) => c.client_properties?.connection_name === r)), STATS_DEADLINE_MS);
  for (const connection of listed) await broker.management.closeConnection(connection.name);
  return listed.map((c) => c.client_properties?.connection_name ?? '');
}

describe('connection loss', () => {
  const broker = new Broker();
  let adapter: RabbitMqAdapter;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  const connectionName = uniqueName('conn');

  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
    adapter = createRabbitMqAdapter(testConfig({ connectionName }));
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await adapter.close();
    await broker.cleanup();
  }, 60_000);

  it('a consumer whose connection is closed reports the lost commit, reconnects on poll and gets the uncommitted messages again', async () => {
    const topic = uniqueName('loss');
    await adapter.createDestination(topic);
    broker.track('queue', topic);
    broker.track('exchange', topic);
    broker.track('queue', `${topic}::g`);
    const consumer = adapter.createConsumer({ group: 'g', maxMessages: 3 });
    await consumer.subscribe([topic]);
    const producer = adapter.createProducer();
    await producer.sendBatch(topic, Array.from({ length: 6 }, (_, i) => ({ key: null, value: utf8(`l-${i}`), headers: { [Headers.messageId]: `l-${i}` }, timestamp: new Date() })));
    // Deliveries may reach the buffer in more than one socket read: poll until 3 came (maxMessages).
    const first: string[] = [];
    const firstDeadline = Date.now() + 30_000;
    while (first.length < 3 && Date.now() < firstDeadline) first.push(...(await consumer.poll(1000)).map((m) => fromUtf8(m.value)));
    expect(first).toEqual(['l-0', 'l-1', 'l-2']);

    const required = [`${connectionName}/consumer:g`, `${connectionName}/producer`];
    const closed = await closeConnections(broker, `${connectionName}/`, required);
    expect(closed, 'the consumer and producer connections (and the admin one), found by connection_name').toEqual(expect.arrayContaining(required));
    // The broker has closed the connection when the management API answers: whether or not the
    // consumer has seen the close frame yet, the ack cannot reach the broker any more.
    await expect(consumer.commit(), 'the ack could not be sent: the caller must know').rejects.toBeInstanceOf(BrokerUnavailableError);

    const again: string[] = [];
    const deadline = Date.now() + 30_000;
    while (again.length < 6 && Date.now() < deadline) {
      const batch = await consumer.poll(1000);
      again.push(...batch.map((m) => fromUtf8(m.value)));
      if (batch.length > 0) await consumer.commit();
    }
    expect(again.sort(), 'every message again, none lost').toEqual(['l-0', 'l-1', 'l-2', 'l-3', 'l-4', 'l-5']);

    // The producer's connection was closed too: the next send reconnects.
    await producer.send(topic, { key: null, value: utf8('after'), headers: {}, timestamp: new Date() });
    const after = await waitUntil(() => consumer.poll(1000), (batch) => batch.length > 0, 30_000, 0);
    expect(after.map((m) => fromUtf8(m.value))).toEqual(['after']);
    await consumer.commit();
    await consumer.close();
    await producer.close();
    expect(unhandled, 'no unhandled rejection from a dropped connection').toEqual([]);
  });
});
