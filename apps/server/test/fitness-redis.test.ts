import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { MessageProducer } from '@mailroom/core';
import type { MailroomApp } from '../src/app';
import type { ConnectionConfig } from '../src/config/schema';
import { BACKOFF, NO_RETRY, adapterOf, deadLetterThroughRetry, expectFailure, expectPass, fitnessApp, measure, until } from './fitness-helpers';
import { REDIS_URL, tempDir, uniqueName, waitFor } from './helpers';

const CONNECTION: ConnectionConfig = { id: 'redis', kind: 'redis', readOnly: false, demoTraffic: false, config: { url: REDIS_URL } };

describe('fitness on a real Redis: each criterion fails on a broken setup, names the stream, and passes once fixed', () => {
  const data = tempDir();
  const base = uniqueName('mr-fit-redis');
  let app: MailroomApp;
  let redis: Redis;
  let producer: MessageProducer;
  const opened: MailroomApp[] = [];

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    app = await fitnessApp(CONNECTION, data.dir);
    opened.push(app);
    producer = adapterOf(app, 'redis').createProducer();
  });

  afterAll(async () => {
    await producer?.close();
    for (const a of opened) await a.close();
    const keys = await redis.keys(`${base}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    data.remove();
  });

  it('message_acknowledgment: entries a group read but never acknowledged go overdue by their pending idle time; XACK fixes it', async () => {
    const stream = `${base}-ack`;
    await redis.xgroup('CREATE', stream, 'workers', '$', 'MKSTREAM');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await redis.xadd(stream, '*', 'value', `job ${i}`, 'h:message-id', `job-${i}`)) as string);
    // A worker that takes three entries and never acknowledges them.
    await redis.xreadgroup('GROUP', 'workers', 'worker-1', 'COUNT', 3, 'STREAMS', stream, '>');

    const failing = await until(app, 'redis', `${stream}*`, 'message_acknowledgment', stream, 'fail');
    expectFailure(failing, stream, /acknowledge/);
    expect(failing.destination.evidence).toMatch(/^3 of 3 delivered messages unacknowledged past the deadline/);
    expect(failing.destination.evidence).toContain('pending entries of 1 group(s)');
    expect(failing.criterion.score).toBe(0);

    expect(await redis.xack(stream, 'workers', ...ids)).toBe(3);
    const fixed = await until(app, 'redis', `${stream}*`, 'message_acknowledgment', stream, 'pass');
    expectPass(fixed);
    expect(fixed.destination.evidence).toMatch(/^0 of \d+ delivered|nothing delivered/);
  });

  it('dead_letter_handling: a consumed stream without <stream>:dlq fails; creating the DLQ stream fixes it', async () => {
    const stream = `${base}-dl`;
    await redis.xgroup('CREATE', stream, 'workers', '$', 'MKSTREAM');
    const failing = await measure(app, 'redis', `${stream}*`, 'dead_letter_handling', stream);
    expectFailure(failing, stream, /dead-letter/);
    expect(failing.destination.evidence).toBe('no dead-letter queue configured');
    expect(failing.destination.fix).toContain(`create ${stream}:dlq (the dead-letter naming convention)`);
    expect(failing.criterion.score).toBe(0);

    await adapterOf(app, 'redis').createDestination(`${stream}:dlq`);
    const fixed = await until(app, 'redis', `${stream}*`, 'dead_letter_handling', stream, 'pass');
    expectPass(fixed);
    expect(fixed.destination.evidence).toContain(`dead letters go to ${stream}:dlq`);
    expect(fixed.criterion.destinations.find((d) => d.destination === `${stream}:dlq`)?.status).toBe('not-applicable');
  });

  it('idempotent_consumers: entries without a message id, then duplicated ids, fail; unique ids pass', async () => {
    const stream = `${base}-id`;
    for (let i = 0; i < 3; i++) await redis.xadd(stream, '*', 'value', `anonymous ${i}`);
    const noIds = await measure(app, 'redis', `${stream}*`, 'idempotent_consumers', stream);
    expectFailure(noIds, stream, /message-id/);
    expect(noIds.destination.evidence).toBe('0 of 3 sampled messages carry an id');

    // The sample is the newest 5: two of them share an id.
    for (const id of ['a', 'b', 'b', 'c', 'd']) await redis.xadd(stream, '*', 'value', `order ${id}`, 'h:message-id', `${stream}-${id}`);
    const dupes = await measure(app, 'redis', `${stream}*`, 'idempotent_consumers', stream);
    expectFailure(dupes, stream, /deduplicate/);
    expect(dupes.destination.evidence).toBe(`5 of 5 sampled messages carry an id; 1 ids seen twice (e.g. ${stream}-b)`);
    expect(dupes.destination.score).toBe(0.8);

    for (const id of ['e', 'f', 'g', 'h', 'i']) await redis.xadd(stream, '*', 'value', `order ${id}`, 'h:message-id', `${stream}-${id}`);
    const fixed = await measure(app, 'redis', `${stream}*`, 'idempotent_consumers', stream);
    expectPass(fixed);
    expect(fixed.destination.evidence).toBe('5 of 5 sampled messages carry an id');
  });

  it('error_retry: dead letters written after a single attempt fail; retries with growing delays pass', async () => {
    const stream = `${base}-rt`;
    const dlq = `${stream}:dlq`;
    await redis.xgroup('CREATE', stream, 'workers', '$', 'MKSTREAM');
    expect(await deadLetterThroughRetry(producer, stream, dlq, ['r1', 'r2', 'r3'], NO_RETRY)).toBe(3);
    const failing = await measure(app, 'redis', `${stream}*`, 'error_retry', stream);
    expectFailure(failing, stream, /exponential backoff/);
    expect(failing.destination.evidence).toMatch(/^0 of 3 failed messages were retried with growing delays before dead-lettering; e\.g\. .*dead-lettered after a single attempt/);

    // The worker now retries with exponential backoff; the newest dead letters (the sample) show it.
    expect(await deadLetterThroughRetry(producer, stream, dlq, ['r4', 'r5', 'r6', 'r7', 'r8'], BACKOFF)).toBe(5);
    const fixed = await measure(app, 'redis', `${stream}*`, 'error_retry', stream);
    expectPass(fixed);
    expect(fixed.destination.evidence).toBe('5 of 5 failed messages were retried with growing delays before dead-lettering');
  });

  it('monitoring: a stream no alert rule covers fails; an app with a rule for it passes and shows the rule firing', async () => {
    const stream = `${base}-mon`;
    await redis.xgroup('CREATE', stream, 'workers', '$', 'MKSTREAM');
    for (let i = 0; i < 4; i++) await redis.xadd(stream, '*', 'value', `m ${i}`, 'h:message-id', `m-${i}`);
    const failing = await until(app, 'redis', `${stream}*`, 'monitoring', stream, 'fail');
    expectFailure(failing, stream, /alert rule/);
    expect(failing.destination.evidence).toBe('no alert rule covers it');

    const monitored = await fitnessApp(CONNECTION, data.dir, [{ connection: 'redis', destination: `${base}-mon*`, maxLag: 2 }]);
    opened.push(monitored);
    const fixed = await until(monitored, 'redis', `${stream}*`, 'monitoring', stream, 'pass');
    expectPass(fixed);
    expect(fixed.destination.evidence).toBe('alert rules: lag ≤ 2; metrics exported on /metrics');
    expect(fixed.scores.alerts).toEqual([{ connection: 'redis', destination: stream, rule: 'max lag', value: 4, limit: 2 }]);

    // /metrics follows the metrics snapshots, not fitness measurements: once the group catches up the alert clears.
    const series = `mailroom_alerts_firing{connection="redis",destination="${stream}",rule="max lag"} 1`;
    expect((await monitored.services.metrics.render()).body).toContain(series);
    const read = (await redis.xreadgroup('GROUP', 'workers', 'w1', 'COUNT', 10, 'STREAMS', stream, '>')) as [string, [string, string[]][]][];
    const ids = read[0]![1].map(([id]) => id);
    expect(ids).toHaveLength(4);
    await redis.xack(stream, 'workers', ...ids);
    await waitFor('the alert to clear on /metrics', async () => !(await monitored.services.metrics.render()).body.includes(series), 10_000, 200);
  });
});
