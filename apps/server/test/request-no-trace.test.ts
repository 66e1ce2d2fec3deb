import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { serveRequestsOnce, utf8, type BrokerAdapter } from '@mailroom/core';
import type { MailroomApp } from '../src/app';
import { KAFKA_BROKERS, RABBITMQ_URL, REDIS_URL, fromB64, tempDir, testApp, uniqueName } from './helpers';

/**
 * messages.request with replyTo must leave nothing on the broker: before the fix every request
 * left a `mailroom-request-<hex>` consumer group on its reply destination.
 */
describe('messages.request with replyTo leaves no consumer group behind', () => {
  const data = tempDir();
  let app: MailroomApp;
  let redis: Redis;
  const redisStreams: string[] = [];

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    app = await testApp({
      dataDir: data.dir,
      memory: { enabled: true, demoTraffic: false },
      connections: [
        { id: 'kafka', kind: 'kafka', readOnly: false, demoTraffic: false, config: { brokers: KAFKA_BROKERS.split(',') } },
        { id: 'redis', kind: 'redis', readOnly: false, demoTraffic: false, config: { url: REDIS_URL } },
        { id: 'rabbit', kind: 'rabbitmq', readOnly: false, demoTraffic: false, config: { url: RABBITMQ_URL, managementUrl: process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672' } },
      ],
    });
  });
  afterAll(async () => {
    await app?.close();
    if (redisStreams.length) await redis.del(...redisStreams);
    redis?.disconnect();
    data.remove();
  });

  async function requestTwice(connectionId: string, requests: string, replies: string, unserved: string, cleanup = false): Promise<void> {
    const adapter: BrokerAdapter = app.services.connections.get(connectionId).requireAdapter();
    await adapter.createDestination(requests, { partitions: 1 });
    await adapter.createDestination(replies, { partitions: 1 });
    await adapter.createDestination(unserved, { partitions: 1 });
    const responderGroup = uniqueName('mr-rpc-responder');
    const responder = adapter.createConsumer({ group: responderGroup });
    await responder.subscribe([requests]);
    const producer = adapter.createProducer();
    const groupsBefore = (await adapter.listConsumerGroups()).map((g) => g.name).sort();
    const destinationsBefore = (await adapter.listDestinations()).map((d) => d.name).sort();
    let serving = true;
    const loop = (async () => {
      while (serving) {
        await serveRequestsOnce(responder, producer, async (request) => ({ key: request.key, headers: {}, value: utf8(`pong:${Buffer.from(request.value).toString('utf8')}`) }), 100);
      }
    })();
    try {
      for (const ping of ['one', 'two']) {
        const result = await app.caller.messages.request({
          connectionId,
          destination: requests,
          replyTo: replies,
          message: { key: 'k', headers: {}, value: { encoding: 'text', data: ping } },
          timeoutMs: 5_000,
        });
        expect(fromB64(result.reply.valueBase64).toString('utf8')).toBe(`pong:${ping}`);
        expect(result.correlationId).toMatch(/^[0-9a-f-]{36}$/);
      }
      // Without replyTo: a temporary reply destination, deleted afterwards, and no group either.
      const viaTemporary = await app.caller.messages.request({ connectionId, destination: requests, message: { key: null, headers: {}, value: { encoding: 'text', data: 'three' } }, timeoutMs: 5_000 });
      expect(fromB64(viaTemporary.reply.valueBase64).toString('utf8')).toBe('pong:three');
      const groupsAfter = (await adapter.listConsumerGroups()).map((g) => g.name).sort();
      expect(groupsAfter).toEqual(groupsBefore);
      const timedOut = await app.caller.messages
        .request({ connectionId, destination: unserved, replyTo: replies, message: { key: null, headers: {}, value: { encoding: 'text', data: 'nobody' } }, timeoutMs: 300 })
        .catch((e: { code: string }) => e.code);
      expect(timedOut).toBe('TIMEOUT');
      expect((await adapter.listConsumerGroups()).map((g) => g.name).sort()).toEqual(groupsBefore);
      expect((await adapter.listDestinations()).map((d) => d.name).sort()).toEqual(destinationsBefore);
    } finally {
      serving = false;
      await loop;
      await responder.close();
      await producer.close();
      if (cleanup) for (const name of [requests, replies, unserved]) await adapter.deleteDestination(name).catch(() => undefined);
      // The test's own responder group persists on Kafka; remove it so the test leaves nothing either.
      if (connectionId === 'kafka') {
        const admin = new Kafka({ brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
        await admin.connect();
        await admin.deleteGroups([responderGroup]).catch(() => undefined);
        await admin.disconnect();
      }
    }
  }

  it('memory', async () => {
    await requestTwice('memory', uniqueName('rpc-req'), uniqueName('rpc-rep'), uniqueName('rpc-none'));
  });

  it('Redis', async () => {
    const requests = uniqueName('mr-rpc-req');
    const replies = uniqueName('mr-rpc-rep');
    const unserved = uniqueName('mr-rpc-none');
    redisStreams.push(requests, replies, unserved);
    await requestTwice('redis', requests, replies, unserved);
  });

  it('RabbitMQ', async () => {
    await requestTwice('rabbit', uniqueName('mr-rpc-req'), uniqueName('mr-rpc-rep'), uniqueName('mr-rpc-none'), true);
  });

  it('Kafka', async () => {
    await requestTwice('kafka', uniqueName('mr-rpc-req'), uniqueName('mr-rpc-rep'), uniqueName('mr-rpc-none'), true);
  }, 60_000);
});
