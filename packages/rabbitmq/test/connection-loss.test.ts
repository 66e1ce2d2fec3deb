import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerUnavailableError, Headers, fromUtf8, utf8 } from '@mailroom/core';
import { createRabbitMqAdapter, type RabbitMqAdapter } from '../src/index';
import { Broker } from './broker';
import { testConfig, uniqueName } from './env';

async function closeConnections(broker: Broker, prefix: string): Promise<number> {
  const deadline = Date.now() + 10_000;
  let names = await broker.connectionsNamed(prefix);
  while (names.length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    names = await broker.connectionsNamed(prefix);
  }
  for (const name of names) await broker.management.closeConnection(name);
  return names.length;
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
    const first = await consumer.poll(2000);
    expect(first.map((m) => fromUtf8(m.value))).toEqual(['l-0', 'l-1', 'l-2']);

    const closed = await closeConnections(broker, `${connectionName}/`);
    expect(closed, 'the consumer, producer and admin connections, found by connection_name').toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 300));
    await expect(consumer.commit(), 'the ack could not be sent: the caller must know').rejects.toBeInstanceOf(BrokerUnavailableError);

    const again: string[] = [];
    const deadline = Date.now() + 10_000;
    while (again.length < 6 && Date.now() < deadline) {
      const batch = await consumer.poll(1000);
      again.push(...batch.map((m) => fromUtf8(m.value)));
      if (batch.length > 0) await consumer.commit();
    }
    expect(again.sort(), 'every message again, none lost').toEqual(['l-0', 'l-1', 'l-2', 'l-3', 'l-4', 'l-5']);

    // The producer's connection was closed too: the next send reconnects.
    await producer.send(topic, { key: null, value: utf8('after'), headers: {}, timestamp: new Date() });
    expect((await consumer.poll(3000)).map((m) => fromUtf8(m.value))).toEqual(['after']);
    await consumer.commit();
    await consumer.close();
    await producer.close();
    expect(unhandled, 'no unhandled rejection from a dropped connection').toEqual([]);
  });
});
