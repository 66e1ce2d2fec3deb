import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import type { TailStreamEvent } from '../src/router';
import { KAFKA_BROKERS, RABBITMQ_URL, REDIS_URL, fromB64, serve, tempDir, testApp, uniqueName, waitFor, type Served } from './helpers';

type Tracked = { id: string; data: TailStreamEvent };

/**
 * The guarantee of the 'open' event: a message published right after the client received it is
 * delivered. Each round opens a fresh tail and publishes from inside the `open` callback, with no
 * retry and no warm-up, so a tail that is not yet positioned loses the probe.
 */
async function probeAfterOpen(served: Served, connectionId: string, destination: string, publish: (value: string) => Promise<void>, rounds: number): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const events: Tracked[] = [];
    const errors: unknown[] = [];
    const probe = `probe-${round}-${Math.random().toString(36).slice(2, 8)}`;
    let published: Promise<void> | null = null;
    const sub = served.client.messages.tail.subscribe(
      { connectionId, destination },
      {
        onData: (event) => {
          const tracked = event as Tracked;
          events.push(tracked);
          if (tracked.data.kind === 'open') published = publish(probe);
        },
        onError: (error) => errors.push(error),
      },
    );
    try {
      await waitFor('open', () => published !== null || errors.length > 0);
      expect(errors).toEqual([]);
      await published;
      const values = () => events.flatMap((e) => e.data.messages.map((m) => fromB64(m.valueBase64).toString('utf8')));
      await waitFor(`probe of round ${round} delivered`, () => values().includes(probe), 5_000);
      expect(values()).toEqual([probe]);
    } finally {
      sub.unsubscribe();
    }
  }
}

describe('messages.tail sends open only once the adapter tail is positioned', () => {
  const data = tempDir();
  let served: Served;
  let redis: Redis;
  let amqpConnection: amqp.ChannelModel;
  let channel: amqp.Channel;
  const stream = uniqueName('mr-ready');
  const exchange = uniqueName('mr-ready-x');
  const queue = uniqueName('mr-ready-q');
  const topic = uniqueName('mr-ready-t');

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    amqpConnection = await amqp.connect(RABBITMQ_URL);
    channel = await amqpConnection.createChannel();
    await channel.assertExchange(exchange, 'fanout', { durable: false, autoDelete: false });
    await channel.assertQueue(queue, { durable: false });
    await channel.bindQueue(queue, exchange, '');
    served = await serve(
      await testApp({
        dataDir: data.dir,
        memory: { enabled: true, demoTraffic: false },
        tail: { resumeGraceMs: 0 },
        connections: [
          { id: 'kafka', kind: 'kafka', readOnly: false, demoTraffic: false, config: { brokers: KAFKA_BROKERS.split(',') } },
          { id: 'redis', kind: 'redis', readOnly: false, demoTraffic: false, config: { url: REDIS_URL } },
          { id: 'rabbit', kind: 'rabbitmq', readOnly: false, demoTraffic: false, config: { url: RABBITMQ_URL, managementUrl: process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672' } },
        ],
      }),
    );
  });

  afterAll(async () => {
    await served?.app.services.connections.get('kafka').requireAdapter().deleteDestination(topic).catch(() => undefined);
    await served?.app.close();
    await redis?.del(stream);
    redis?.disconnect();
    await channel?.deleteQueue(queue).catch(() => undefined);
    await channel?.deleteExchange(exchange).catch(() => undefined);
    await amqpConnection?.close();
    data.remove();
  });

  it('memory: a message published on open is delivered, every time', async () => {
    await served.app.services.connections.get('memory').requireAdapter().createDestination('ready-probe', { partitions: 1 });
    const publish = async (value: string) => {
      await served.client.messages.publish.mutate({ connectionId: 'memory', destination: 'ready-probe', messages: [{ key: null, headers: {}, value: { encoding: 'text', data: value } }] });
    };
    await probeAfterOpen(served, 'memory', 'ready-probe', publish, 5);
  });

  it('Redis: a message XADDed on open is delivered, every time', async () => {
    await redis.xadd(stream, '*', 'value', 'before');
    await probeAfterOpen(served, 'redis', stream, async (value) => void (await redis.xadd(stream, '*', 'value', value)), 5);
  });

  it('RabbitMQ: a message published on open is delivered, every time', async () => {
    const publish = async (value: string) => {
      channel.publish(exchange, '', Buffer.from(value));
    };
    await probeAfterOpen(served, 'rabbit', queue, publish, 5);
    await channel.purgeQueue(queue);
  });

  it('Kafka: a message published on open is delivered, every time', async () => {
    await served.app.services.connections.get('kafka').requireAdapter().createDestination(topic, { partitions: 2 });
    const publish = async (value: string) => {
      await served.client.messages.publish.mutate({ connectionId: 'kafka', destination: topic, messages: [{ key: null, headers: {}, value: { encoding: 'text', data: value } }] });
    };
    await probeAfterOpen(served, 'kafka', topic, publish, 5);
  }, 30_000);
});
