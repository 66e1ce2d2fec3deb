import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrokerUnavailableError,
  ConflictError,
  Headers,
  InvalidInputError,
  NotFoundError,
  UnsupportedError,
  utf8,
} from '@mailroom/core';
import { createRabbitMqAdapter, WireHeaders, type RabbitMqAdapter } from '../src/index';
import { Broker } from './broker';
import { testConfig, uniqueName, unreachableConfig } from './env';
import { STATS_DEADLINE_MS, waitUntil } from './wait';

describe('admin', () => {
  const broker = new Broker();
  let adapter: RabbitMqAdapter;

  beforeAll(() => {
    adapter = createRabbitMqAdapter(testConfig());
  });
  afterAll(async () => {
    await adapter.close();
    await broker.cleanup();
  }, 120_000);

  it('pings with the broker version', async () => {
    const health = await adapter.ping();
    expect(health.version).toMatch(/^RabbitMQ \d+\.\d+/);
    expect(health.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('shows ready, unacked and consumers that match rabbitmqctl, and rates from message_stats', async () => {
    const queue = await broker.queue(uniqueName('counts'));
    await broker.sendToQueue(queue, Array.from({ length: 25 }, (_, i) => ({ body: Buffer.from(`c-${i}`) })));
    const holder = await broker.channel();
    await holder.prefetch(7);
    await holder.consume(queue, () => undefined, { noAck: false });
    const ctl = await broker.ctlCountsSettled(queue, { ready: 18, unacked: 7 });
    expect(ctl).toEqual({ ready: 18, unacked: 7 });

    const described = await adapter.describeDestination(queue);
    expect(described.depth, 'describe uses a passive declare: exact at once').toBe(ctl?.ready);
    expect(described.consumers).toBe(1);

    // The management API refreshes its statistics every few seconds.
    const metric = await waitUntil(
      async () => (await adapter.metrics()).destinations.find((d) => d.destination === queue),
      // Publish and deliver statistics can arrive in different collection rounds: wait for both.
      (m) => m?.depth === 18 && m.inFlight === 7 && m.consumers === 1 && m.publishRate !== null && m.deliverRate !== null,
      STATS_DEADLINE_MS,
    );
    expect(metric).toMatchObject({ depth: ctl?.ready, inFlight: ctl?.unacked, consumers: 1 });
    expect(typeof metric?.publishRate).toBe('number');
    expect(typeof metric?.deliverRate).toBe('number');
    const listed = (await adapter.listDestinations()).find((d) => d.name === queue);
    expect(listed).toMatchObject({ kind: 'queue', depth: 18, inFlight: 7, consumers: 1 });
    expect(listed?.attributes['type']).toBe('classic');
    await holder.close();
    expect(await broker.ctlCountsSettled(queue, { ready: 25, unacked: 0 }), 'unacked come back when the channel closes').toEqual({ ready: 25, unacked: 0 });
    expect(await adapter.purge(queue)).toBe(25);
    expect(await broker.ctlCounts(queue)).toEqual({ ready: 0, unacked: 0 });
  });

  it('lists consumer groups of a topic with their lag and members', async () => {
    const topic = uniqueName('groups');
    await adapter.createDestination(topic);
    broker.track('queue', topic);
    broker.track('exchange', topic);
    const consumer = adapter.createConsumer({ group: 'billing', maxMessages: 2 });
    await consumer.subscribe([topic]);
    broker.track('queue', `${topic}::billing`);
    const producer = adapter.createProducer();
    await producer.sendBatch(topic, Array.from({ length: 5 }, (_, i) => ({ key: null, value: utf8(`g-${i}`), headers: {}, timestamp: new Date() })));
    // Deliveries may reach the consumer's buffer in more than one socket read: poll until 2 came.
    let total = 0;
    const pollDeadline = Date.now() + 30_000;
    while (total < 2 && Date.now() < pollDeadline) total += (await consumer.poll(1000)).length;
    expect(total, 'maxMessages bounds each poll').toBe(2);
    await consumer.commit();
    // describe counts members with a passive declare: exact at once, before the statistics list them.
    const detail = await adapter.describeConsumerGroup('billing', topic);
    expect(detail).toMatchObject({ name: 'billing', destinations: [topic], state: 'active', members: 1 });
    expect(detail.membersDetail, 'one entry per consumer, listed by the management API or not yet').toHaveLength(1);
    expect(detail.membersDetail[0]?.id).toMatch(/^amq\.ctag-|^consumer 1 of 1 \(not yet listed by the management API\)$/);
    const listedDetail = await waitUntil(
      () => adapter.describeConsumerGroup('billing', topic),
      // The consumer can be listed before its channel's statistics name the peer host (null until then).
      (d) => d.membersDetail[0]?.id.startsWith('amq.ctag-') === true && d.membersDetail[0].host !== null,
      STATS_DEADLINE_MS,
    );
    expect(listedDetail.membersDetail, 'the consumer as the management API lists it').toEqual([
      { id: expect.stringMatching(/^amq\.ctag-/), host: '127.0.0.1', pending: null, idleMs: null },
    ]);
    // The list reads the statistics only (no declare per queue): it catches up within their interval.
    const groups = await waitUntil(() => adapter.listConsumerGroups(topic), (g) => g[0]?.members === 1 && g[0].pending !== null, STATS_DEADLINE_MS);
    expect(groups.map((g) => g.name)).toEqual(['billing']);
    expect(groups[0]).toMatchObject({ destinations: [topic], state: 'active', members: 1 });
    const group = await waitUntil(
      async () => (await adapter.metrics()).groups.find((g) => g.group === 'billing' && g.destination === topic),
      (g) => g?.lag === 3,
      STATS_DEADLINE_MS,
    );
    expect(group, 'metrics list the group with its lag').toMatchObject({ group: 'billing', destination: topic, lag: 3 });
    const listed = await waitUntil(async () => (await adapter.listDestinations()).find((d) => d.name === topic), (d) => d?.lag === 3, STATS_DEADLINE_MS);
    expect(listed?.lag, 'topic lag = unacknowledged messages of its group queues (5 sent, 2 committed)').toBe(3);
    expect(listed?.kind).toBe('topic');
    await consumer.close();
    const idle = await adapter.describeConsumerGroup('billing', topic);
    expect(idle, 'a closed consumer is gone at once, whatever the statistics still list').toMatchObject({ state: 'idle', members: 0, membersDetail: [] });
    await producer.close();
    await expect(adapter.resetOffsets('billing', topic, { kind: 'earliest' })).rejects.toBeInstanceOf(UnsupportedError);
    await expect(adapter.listPending(topic, 'billing', 10)).rejects.toBeInstanceOf(UnsupportedError);
    await adapter.deleteDestination(topic);
    expect(await broker.ctlCounts(`${topic}::billing`), 'deleting a topic removes its group queues').toBeNull();
  });

  it('pages through a thousand queues from the management API', async () => {
    const prefix = uniqueName('page');
    const count = 1200;
    const ch = await broker.channel();
    for (let i = 0; i < count; i++) {
      const name = `${prefix}-${String(i).padStart(4, '0')}`;
      void ch.assertQueue(name, { durable: false, autoDelete: false });
      broker.track('queue', name);
    }
    await ch.checkQueue(`${prefix}-${String(count - 1).padStart(4, '0')}`);
    await ch.close();
    const paged = createRabbitMqAdapter(testConfig({ managementPageSize: 250 }));
    try {
      const started = Date.now();
      const listed = await paged.listDestinations();
      const mine = listed.filter((d) => d.name.startsWith(prefix));
      expect(mine.length).toBe(count);
      expect(new Set(mine.map((d) => d.name)).size, 'no page read twice').toBe(count);
      console.info(`listDestinations over ${listed.length} destinations in pages of 250: ${Date.now() - started} ms`);
    } finally {
      await paged.close();
    }
  }, 120_000);

  it('writes persistent messages with message id, timestamp and the key as routing key', async () => {
    const topic = uniqueName('wire');
    await adapter.createDestination(topic);
    broker.track('queue', topic);
    broker.track('exchange', topic);
    const producer = adapter.createProducer();
    const sentAt = new Date('2026-01-02T03:04:05.678Z');
    await producer.send(topic, { key: 'orders.eu', value: utf8('x'), headers: { [Headers.correlationId]: 'corr-1', custom: 'v' }, timestamp: sentAt });
    await producer.close();
    const ch = await broker.channel();
    const got = await ch.get(topic, { noAck: true });
    await ch.close();
    if (got === false) throw new Error('no message');
    expect(got.fields.routingKey).toBe('orders.eu');
    expect(got.properties.deliveryMode).toBe(2);
    expect(typeof got.properties.messageId).toBe('string');
    expect(got.properties.timestamp).toBe(Math.floor(sentAt.getTime() / 1000));
    expect(got.properties.correlationId).toBe('corr-1');
    expect(got.properties.headers?.[WireHeaders.timestampMs]).toBe(String(sentAt.getTime()));
    expect(got.properties.headers?.[WireHeaders.key]).toBe('orders.eu');
  });

  it('publishes to a queue through the default exchange with the properties given', async () => {
    const queue = await broker.queue(uniqueName('props'));
    const result = await adapter.publish(queue, [
      {
        key: 'k',
        value: utf8('{"a":1}'),
        headers: { h: 'v' },
        properties: { messageId: 'mid', correlationId: 'cid', replyTo: 'replies', contentType: 'application/json', expirationMs: 60_000, persistent: false },
      },
    ]);
    expect(result).toEqual({ published: 1, ids: ['mid'] });
    const page = await adapter.browse({ destination: queue, start: { from: 'oldest' }, limit: 1 });
    const m = page.messages[0];
    expect(m?.properties).toMatchObject({ messageId: 'mid', correlationId: 'cid', replyTo: 'replies', contentType: 'application/json', expiration: '60000', deliveryMode: '1', exchange: '' });
    expect(m?.key).toBe('k');
    expect(m?.headers).toEqual({ h: 'v' });
  });

  it('maps broker errors to typed errors and keeps working after a channel error', async () => {
    await expect(adapter.describeDestination(uniqueName('missing'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(adapter.purge(uniqueName('missing'))).rejects.toBeInstanceOf(NotFoundError);
    const producer = adapter.createProducer();
    await expect(producer.send(uniqueName('missing'), { key: null, value: utf8('x'), headers: {}, timestamp: new Date() })).rejects.toBeInstanceOf(NotFoundError);
    await producer.close();
    const name = uniqueName('conflict');
    await adapter.createDestination(name);
    broker.track('queue', name);
    broker.track('exchange', name);
    await expect(adapter.createDestination(name, { type: 'quorum' }), 'same name, other queue type').rejects.toBeInstanceOf(ConflictError);
    const detail = await adapter.describeDestination(name);
    expect(detail.kind, 'the next operation works').toBe('topic');
    expect(detail.config['binding:' + name], 'the topic queue is bound to its exchange with #').toBe('#');
    expect(detail.config[`routesTo:queue:${name}`]).toBe('#');
    expect(detail.config['exchange.type']).toBe('topic');
    await expect(adapter.createDestination(uniqueName('parts'), { partitions: 3 })).rejects.toBeInstanceOf(UnsupportedError);
  });

  it('validates names by UTF-8 bytes and refuses reserved ones', async () => {
    expect(() => adapter.validateDestinationName('é'.repeat(127))).not.toThrow();
    expect(() => adapter.validateDestinationName('é'.repeat(128))).toThrow(InvalidInputError);
    expect(() => adapter.validateDestinationName('bad\u007fname')).toThrow(InvalidInputError);
    await expect(adapter.createDestination('amq.mine')).rejects.toBeInstanceOf(InvalidInputError);
    const topic = uniqueName('long-key');
    await adapter.createDestination(topic);
    broker.track('queue', topic);
    broker.track('exchange', topic);
    const producer = adapter.createProducer();
    await expect(
      producer.send(topic, { key: 'k'.repeat(256), value: utf8(''), headers: {}, timestamp: new Date() }),
      'a key is the routing key: at most 255 bytes',
    ).rejects.toBeInstanceOf(InvalidInputError);
    await producer.close();
  });

  it('fails fast with BrokerUnavailableError when nobody listens', async () => {
    const dead = createRabbitMqAdapter(unreachableConfig());
    const started = Date.now();
    await expect(dead.ping()).rejects.toBeInstanceOf(BrokerUnavailableError);
    await expect(dead.listDestinations()).rejects.toBeInstanceOf(BrokerUnavailableError);
    await expect(dead.browse({ destination: 'q', start: { from: 'oldest' }, limit: 1 })).rejects.toBeInstanceOf(BrokerUnavailableError);
    expect(Date.now() - started).toBeLessThan(5000);
    await dead.close();
  });
});
