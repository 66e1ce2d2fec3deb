import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs';
import { KAFKA_BROKERS, binaryPayload, uniqueName } from './endpoints';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

describe('Kafka smoke (kafkajs)', () => {
  const kafka = new Kafka({ clientId: 'mailroom-infra-smoke', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
  const topic = uniqueName('kafka');
  const groupId = uniqueName('kafka-group');
  let admin: Admin;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  });

  afterAll(async () => {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  it('produces one message and reads back the same key, headers and bytes', async () => {
    const producer = kafka.producer();
    await producer.connect();
    const [meta] = await producer.send({
      topic,
      messages: [{ key: 'order-1', value: binaryPayload(), headers: { 'content-type': 'application/octet-stream' } }],
    });
    await producer.disconnect();
    expect(meta?.baseOffset).toBe('0');

    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<KafkaMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message within 30 s')), 30_000);
      consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve(message);
        },
      }).catch(reject);
    });
    await consumer.disconnect();

    expect(received.offset).toBe('0');
    expect(received.key?.toString()).toBe('order-1');
    expect(Buffer.compare(received.value ?? Buffer.alloc(0), binaryPayload())).toBe(0);
    expect(received.headers?.['content-type']?.toString()).toBe('application/octet-stream');
  });
});
