import { afterAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { idempotent, startStatsReporter, utf8, type BrokerAdapter, type ConsumerStatsReport, type Message } from '@mailroom/core';
import type { ConnectionConfig } from '../src/config/schema';
import { adapterOf, expectFailure, expectPass, FAST_FITNESS, until } from './fitness-helpers';
import { KAFKA_BROKERS, RABBITMQ_URL, REDIS_URL, SQS_ENDPOINT, serve, tempDir, testApp, uniqueName, waitFor, type Served } from './helpers';

const MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';
const SQS_CREDENTIALS = { accessKeyId: 'x', secretAccessKey: 'x' };

interface Broker {
  connection: ConnectionConfig;
  /** Destinations are sampled without side effects here; elsewhere only the consumers' reports judge identity. */
  sampled: boolean;
  /** Broker statistics (RabbitMQ's management API) settle over seconds. */
  settleMs: number;
  /** Destinations a topic with these groups leaves behind, besides the topic. */
  leftovers: (topic: string, groups: string[]) => string[];
  /** Removes what deleting the destinations does not (Kafka's consumer groups). */
  cleanup?: (groups: string[]) => Promise<void>;
}

const BROKERS: Broker[] = [
  {
    connection: { id: 'kafka', kind: 'kafka', readOnly: false, demoTraffic: false, config: { brokers: KAFKA_BROKERS.split(',') } },
    sampled: true,
    settleMs: 20_000,
    leftovers: () => [],
    cleanup: async (groups) => {
      const admin = new Kafka({ clientId: 'mailroom-test-cleanup', brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.deleteGroups(groups).catch(() => undefined);
      await admin.disconnect();
    },
  },
  { connection: { id: 'redis', kind: 'redis', readOnly: false, demoTraffic: false, config: { url: REDIS_URL } }, sampled: true, settleMs: 20_000, leftovers: () => [] },
  {
    connection: { id: 'rabbit', kind: 'rabbitmq', readOnly: false, demoTraffic: false, config: { url: RABBITMQ_URL, managementUrl: MANAGEMENT_URL } },
    sampled: false,
    settleMs: 30_000,
    leftovers: (topic, groups) => groups.map((g) => `${topic}::${g}`),
  },
  {
    connection: { id: 'sqs', kind: 'sqs', readOnly: false, demoTraffic: false, config: { endpoint: SQS_ENDPOINT, region: 'elasticmq', credentials: SQS_CREDENTIALS } },
    sampled: false,
    settleMs: 20_000,
    leftovers: () => [],
  },
];

/** Evidence of a destination whose reads have side effects: why it was not sampled, then the reports. */
const notSampledThen = (reports: string) => new RegExp(`^not sampled \\(sampling its messages would change them, so it is not done: .+\\); ${reports.replace(/[()]/g, '\\$&')}$`);

const withId = (id: string | null, value: string): Message => ({ key: null, value: utf8(value), headers: id === null ? {} : { 'message-id': id }, timestamp: new Date() });

/** Posts a report as a consumer on the same machine would (anonymous loopback access, CSRF header). */
const sendTo = (served: Served) => async (report: ConsumerStatsReport) => {
  const response = await fetch(`${served.url}/api/consumer-stats`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mailroom-csrf': '1' }, body: JSON.stringify(report) });
  if (response.status !== 204) throw new Error(`report refused: ${response.status} ${await response.text()}`);
};

/**
 * A worker of `group` built on core's idempotent wrapper: consumes `expected` messages from
 * `topic` through the real adapter, commits, and reports its counters to Mailroom.
 */
async function runIdempotentWorker(adapter: BrokerAdapter, served: Served, topic: string, group: string, consumerId: string, subscribed: () => Promise<void>, expected: number) {
  const consumer = adapter.createConsumer({ group });
  const handler = idempotent(async () => undefined);
  const connectionId = served.app.services.connections.all()[0]!.id;
  const who = { connectionId, destination: topic, group: adapter.capabilities.consumerGroups ? group : null, consumer: consumerId };
  const reporter = startStatsReporter({ who, stats: handler.stats, send: sendTo(served), intervalMs: 60_000, onError: (e) => { throw e; } });
  try {
    await consumer.subscribe([topic]);
    await subscribed();
    let seen = 0;
    await waitFor(`${expected} messages for ${group}`, async () => {
      const batch = await consumer.poll(500);
      for (const m of batch) await handler(m);
      if (batch.length > 0) await consumer.commit();
      seen += batch.length;
      return seen >= expected;
    }, 30_000, 0);
    expect(seen).toBe(expected);
    await reporter.flush();
    return handler.stats;
  } finally {
    await reporter.stop();
    await consumer.close();
  }
}

describe.each(BROKERS)('idempotent_consumers from consumer reports on a real $connection.kind broker', (broker) => {
  const data = tempDir();
  const topic = uniqueName(`mr-fit-dedupe-${broker.connection.kind}`);
  const groups = ['workers', 'audit'].map((g) => `${topic}-${g}`);
  const [workers, audit] = groups as [string, string];
  let served: Served;
  const id = broker.connection.id;

  afterAll(async () => {
    if (served) {
      const adapter = adapterOf(served.app, id);
      for (const name of [topic, ...broker.leftovers(topic, groups)]) await adapter.deleteDestination(name).catch(() => undefined);
      await broker.cleanup?.(groups);
      await served.app.close();
    }
    data.remove();
  });

  it('messages without ids fail from the reports; ids pass with duplicates the group skipped; a second group that does not deduplicate fails until it reports', async () => {
    served = await serve(await testApp({ dataDir: data.dir, connections: [broker.connection], metricsIntervalMs: 300, fitness: FAST_FITNESS }));
    const adapter = adapterOf(served.app, id);
    await adapter.createDestination(topic, { partitions: 1 });
    const producer = adapter.createProducer();
    const measureAt = (status: 'pass' | 'fail') => until(served.app, id, `${topic}*`, 'idempotent_consumers', topic, status, broker.settleMs);
    const ofGroup = adapter.capabilities.consumerGroups ? ` in group ${workers}` : '';
    try {
      // A worker that cannot deduplicate: the producers send no ids.
      const first = await runIdempotentWorker(adapter, served, topic, workers, 'worker-1', () => producer.sendBatch(topic, [0, 1, 2].map((i) => withId(null, `anonymous ${i}`))), 3);
      expect(first).toEqual({ handled: 3, duplicates: 0, withoutIdentity: 3 });
      const noIds = await measureAt('fail');
      expectFailure(noIds, topic, /^producers to .* must set a message-id/);
      expect(noIds.destination.score).toBe(0);
      const reported = `1 idempotent consumer(s)${ofGroup} report 3 handled, 0 duplicate(s) skipped, 3 without an id`;
      if (broker.sampled) expect(noIds.destination.evidence).toBe(`0 of 3 sampled messages carry an id; ${reported}`);
      else expect(noIds.destination.evidence).toMatch(notSampledThen(reported));

      // Fixed producers (ids, one sent twice) and the worker restarted: its new counters replace the old.
      const ids = ['a', 'b', 'b', 'c', 'd', 'e'].map((x) => `${topic}-${x}`);
      const second = await runIdempotentWorker(adapter, served, topic, workers, 'worker-1', () => producer.sendBatch(topic, ids.map((x) => withId(x, `order ${x}`))), 6);
      expect(second).toEqual({ handled: 5, duplicates: 1, withoutIdentity: 0 });
      const fixed = await measureAt('pass');
      expectPass(fixed);
      const dedupe = `1 idempotent consumer(s)${ofGroup} report 5 handled, 1 duplicate(s) skipped, 0 without an id`;
      if (broker.sampled) {
        expect(fixed.destination.evidence).toBe(`5 of 5 sampled messages carry an id; 1 ids seen twice (e.g. ${topic}-b), skipped by the idempotent consumers; ${dedupe}`);
      } else {
        expect(fixed.destination.evidence).toMatch(notSampledThen(dedupe));
      }
      if (!adapter.capabilities.consumerGroups) return;

      // Another group consumes the topic without the wrapper: the duplicates reach it unchecked.
      const auditConsumer = adapter.createConsumer({ group: audit });
      await auditConsumer.subscribe([topic]);
      await auditConsumer.close();
      const unchecked = await measureAt('fail');
      expectFailure(unchecked, topic, new RegExp(`^deduplicate by message id in group ${audit} of `));
      expect(unchecked.destination.score).toBe(broker.sampled ? 0.8 : 1 - 1 / 6);
      expect(unchecked.destination.evidence).toContain(`; group ${audit} reports no deduplication`);

      await sendTo(served)({ connectionId: id, destination: topic, group: audit, consumer: 'auditor-1', handled: 0, duplicates: 0, withoutIdentity: 0, since: new Date().toISOString() });
      const covered = await measureAt('pass');
      expectPass(covered);
      expect(covered.destination.evidence).toContain(`2 idempotent consumer(s) in groups ${[audit, workers].sort().join(', ')} report 5 handled, 1 duplicate(s) skipped, 0 without an id`);
    } finally {
      await producer.close();
    }
  });
});
