import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedError, fromUtf8, utf8, type Message, type TailBatch } from '@mailroom/core';
import type { SqsAdapter } from '../src';
import { testAdapter, uniqueName } from './helpers';

const msg = (text: string): Message => ({ key: null, value: utf8(text), headers: {}, timestamp: new Date() });

describe('admin on ElasticMQ', () => {
  let adapter: SqsAdapter;
  const created: string[] = [];
  const create = async (name: string) => {
    await adapter.createDestination(name);
    created.unshift(name);
    return name;
  };

  beforeAll(() => {
    adapter = testAdapter({ consumerVisibilityTimeoutSeconds: 60 });
  });
  afterAll(async () => {
    for (const name of created) await adapter.deleteDestination(name).catch(() => undefined);
    await adapter.close();
  });

  it('metrics: depth, in flight and delayed per queue; no guessed rates or age', async () => {
    const queue = await create(uniqueName('metrics'));
    await adapter.createProducer().sendBatch(queue, [msg('a'), msg('b')]);
    await adapter.publish(queue, [{ key: null, value: utf8('later'), headers: {}, properties: { delaySeconds: 60 } }]);
    const consumer = adapter.createConsumer({ group: 'g', maxMessages: 1 });
    await consumer.subscribe([queue]);
    expect(await consumer.poll(2000)).toHaveLength(1);

    const snapshot = await adapter.metrics();
    expect(snapshot.destinations.find((d) => d.destination === queue)).toEqual({
      destination: queue,
      depth: 1,
      inFlight: 1,
      delayed: 1,
      consumers: null,
      publishRate: null,
      deliverRate: null,
      ackRate: null,
      oldestAgeMs: null,
    });
    expect(snapshot.groups).toEqual([]);
    await consumer.close();
  });

  it('purge empties a queue; SQS does not say how many it removed', async () => {
    const queue = await create(uniqueName('purge'));
    await adapter.createProducer().sendBatch(queue, [msg('a'), msg('b')]);
    expect(await adapter.purge(queue)).toBeNull();
    expect((await adapter.describeDestination(queue)).depth).toBe(0);
  });

  it('tail starts at the end, yields new messages in batches, and ends promptly on abort', async () => {
    const queue = await create(uniqueName('tail'));
    const producer = adapter.createProducer();
    await producer.send(queue, msg('before the tail'));
    await new Promise((r) => setTimeout(r, 1100)); // older than the tail's clock slack
    const controller = new AbortController();
    const seen: string[] = [];
    const batches: TailBatch[] = [];
    const tailing = (async () => {
      for await (const batch of adapter.tail({ destination: queue, signal: controller.signal })) {
        batches.push(batch);
        seen.push(...batch.messages.map((m) => fromUtf8(m.value)));
        if (seen.length >= 3) controller.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    await producer.sendBatch(queue, [msg('t-1'), msg('t-2'), msg('t-3')]);
    const started = Date.now();
    await tailing;
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(seen.sort()).toEqual(['t-1', 't-2', 't-3']);
    expect(batches.every((b) => b.skipped === 0)).toBe(true);
    // Nothing was consumed: all four are still there.
    expect((await adapter.describeDestination(queue)).depth).toBe(4);
  });

  it('an idle tail ends within moments of the abort, leaving nothing behind', async () => {
    const queue = await create(uniqueName('tail-idle'));
    const controller = new AbortController();
    const tailing = (async () => {
      for await (const _batch of adapter.tail({ destination: queue, signal: controller.signal })) {
        // nothing is sent
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    controller.abort();
    await tailing;
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('declares and refuses what SQS cannot do', async () => {
    const queue = await create(uniqueName('caps'));
    expect(adapter.capabilities).toMatchObject({ peekIsDestructive: true, browseByPosition: false, browseByTimestamp: false, consumerGroups: false, nativeRedrive: true });
    expect(typeof adapter.capabilities.publishSubscribe).toBe('string');
    await expect(adapter.browse({ destination: queue, start: { from: 'position', position: '5' }, limit: 10 })).rejects.toBeInstanceOf(UnsupportedError);
    await expect(adapter.listConsumerGroups()).rejects.toBeInstanceOf(UnsupportedError);
    const health = await adapter.ping();
    expect(health.latencyMs).toBeGreaterThanOrEqual(0);
  });
});
