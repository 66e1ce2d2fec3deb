import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Headers, fromUtf8, utf8 } from '@mailroom/core';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { brokers, newAdapter, uniqueName } from './helpers';
import { createKafkaAdapter, fromKafkaEnv, SpringDlt, type KafkaAdapter } from '../src';

let adapter: KafkaAdapter;
const base = uniqueName('dl');
const orders = `${base}-orders`;
const ordersDlt = `${orders}.DLT`;
const payments = `${base}-payments`;
const paymentsDlq = `${payments}-dlq`;
const quarantine = `${base}-quarantine`;
const springFailures = `${base}-spring-failures`;
const lonely = `${base}-lonely.dlq`;
const all = [orders, ordersDlt, payments, paymentsDlq, quarantine, springFailures, lonely];

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
function int64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
}

beforeAll(async () => {
  adapter = newAdapter();
  for (const t of all) await adapter.createDestination(t, { partitions: 1 });
  await adapter.publish(ordersDlt, [{ key: 'o-1', value: utf8('order 1'), headers: { [Headers.deadLetterOrigin]: orders, [Headers.deadLetterReason]: 'boom', [Headers.deadLetterAttempts]: '3', [Headers.deadLetterFailedAt]: '2026-01-02T03:04:05.000Z' } }]);
  await adapter.publish(quarantine, [{ key: 'p-1', value: utf8('payment 1'), headers: { [Headers.deadLetterOrigin]: payments, [Headers.deadLetterReason]: 'card declined' } }]);
  await adapter.publish(payments, [{ key: 'p-2', value: utf8('payment 2'), headers: {} }]);
  const kafka = new Kafka({ clientId: 'mailroom-test', brokers: brokers(), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({
    topic: springFailures,
    messages: [
      {
        key: 'o-9',
        value: Buffer.from('order 9'),
        headers: {
          [SpringDlt.originalTopic]: Buffer.from(orders),
          [SpringDlt.originalPartition]: int32(0),
          [SpringDlt.originalOffset]: int64(41n),
          [SpringDlt.originalTimestamp]: int64(1_700_000_000_000n),
          [SpringDlt.exceptionMessage]: Buffer.from('Listener failed; nested exception is java.lang.IllegalStateException: bad order'),
          [SpringDlt.exceptionClass]: Buffer.from('org.springframework.kafka.listener.ListenerExecutionFailedException'),
        },
      },
    ],
  });
  await producer.disconnect();
});

afterAll(async () => {
  for (const t of all) await adapter.deleteDestination(t).catch(() => undefined);
  await adapter.close();
});

describe('dead-letter topics', () => {
  it('are found by naming convention and by origin headers (Mailroom and Spring)', async () => {
    const links = (await adapter.listDeadLetterQueues()).filter((l) => l.deadLetter.startsWith(base));
    expect(links).toEqual([
      { deadLetter: lonely, origins: [], depth: 0, via: 'naming convention' },
      { deadLetter: ordersDlt, origins: [orders], depth: 1, via: 'naming convention, origin header' },
      { deadLetter: paymentsDlq, origins: [payments], depth: 0, via: 'naming convention' },
      { deadLetter: quarantine, origins: [payments], depth: 1, via: 'origin header' },
      { deadLetter: springFailures, origins: [orders], depth: 1, via: 'origin header' },
    ]);
    const destinations = new Map((await adapter.listDestinations()).map((d) => [d.name, d]));
    expect(destinations.get(orders)?.deadLetter).toBe(ordersDlt);
    expect(destinations.get(orders)?.isDeadLetter).toBe(false);
    expect(destinations.get(ordersDlt)?.isDeadLetter).toBe(true);
    expect(destinations.get(ordersDlt)?.deadLetterSources).toEqual([orders]);
    expect(destinations.get(payments)?.deadLetter).toBe(paymentsDlq);
    expect(destinations.get(quarantine)?.isDeadLetter).toBe(true);
    expect(destinations.get(quarantine)?.deadLetterSources).toEqual([payments]);
    expect(destinations.get(payments)?.isDeadLetter).toBe(false);
  });

  it("fill StoredMessage.deadLetter from Mailroom's headers", async () => {
    const page = await adapter.browse({ destination: ordersDlt, start: { from: 'newest' }, limit: 10 });
    expect(page.messages[0]?.deadLetter).toEqual({
      origin: orders,
      reason: 'boom',
      attempts: 3,
      failedAt: new Date('2026-01-02T03:04:05.000Z'),
      history: [{ destination: orders, reason: 'boom', count: 3, time: new Date('2026-01-02T03:04:05.000Z') }],
    });
    const plain = await adapter.browse({ destination: payments, start: { from: 'newest' }, limit: 10 });
    expect(plain.messages[0]?.deadLetter).toBeNull();
  });

  it("fill StoredMessage.deadLetter from Spring's DLT headers, decoding its binary numbers", async () => {
    const page = await adapter.browse({ destination: springFailures, start: { from: 'newest' }, limit: 10 });
    const m = page.messages[0];
    expect(m?.deadLetter?.origin).toBe(orders);
    expect(m?.deadLetter?.reason).toBe('Listener failed; nested exception is java.lang.IllegalStateException: bad order');
    expect(m?.deadLetter?.attempts).toBeNull();
    expect(m?.deadLetter?.failedAt?.getTime()).toBe(m?.timestamp.getTime());
    expect(m?.headers[SpringDlt.originalOffset]).toBe('41');
    expect(m?.properties).toMatchObject({ dltOriginalPartition: '0', dltOriginalOffset: '41', dltOriginalTimestamp: '1700000000000', dltExceptionClass: 'org.springframework.kafka.listener.ListenerExecutionFailedException' });
    expect(fromUtf8(m?.value ?? new Uint8Array())).toBe('order 9');
  });

  it('follow configurable naming patterns', async () => {
    const custom = createKafkaAdapter({ ...fromKafkaEnv(), deadLetterPatterns: ['{topic}.errors', 'dlq.{topic}'] });
    try {
      expect(custom.deadLetterNameFor('orders')).toBe('orders.errors');
      expect(adapter.deadLetterNameFor('orders')).toBe('orders.DLT');
      const links = (await custom.listDeadLetterQueues()).filter((l) => l.deadLetter.startsWith(base));
      // Only header evidence remains under patterns that match none of these names.
      expect(links.map((l) => l.deadLetter)).toEqual([ordersDlt, quarantine, springFailures]);
    } finally {
      await custom.close();
    }
  });
});
