import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '@mailroom/core';
import { newAdapter, uniqueName } from './helpers';
import type { KafkaAdapter } from '../src';

let adapter: KafkaAdapter;
const topic = uniqueName('rates');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  adapter = newAdapter();
  await adapter.createDestination(topic, { partitions: 2 });
});

afterAll(async () => {
  await adapter.deleteDestination(topic).catch(() => undefined);
  await adapter.close();
});

describe('rates', () => {
  it('every caller sees the publish rate of the last few seconds, however close together they list', async () => {
    const started = Date.now();
    let published = 0;
    let producing = true;
    const producer = (async () => {
      for (let batch = 0; producing; batch++) {
        await adapter.publish(topic, Array.from({ length: 50 }, (_, i) => ({ key: `k-${i}`, value: utf8(`b${batch}-${i}`), headers: {} })));
        published += 50;
        await sleep(125);
      }
    })();
    // The other callers of the same adapter: the destinations cache, the fitness gatherer, a destination page.
    let othersRunning = true;
    const every = async (ms: number, call: () => Promise<unknown>) => {
      while (othersRunning) {
        await call();
        await sleep(ms);
      }
    };
    const others = Promise.all([every(500, () => adapter.listDestinations()), every(700, () => adapter.metrics()), every(600, () => adapter.describeDestination(topic))]);
    await sleep(3000);

    const rateOf = (list: Awaited<ReturnType<KafkaAdapter['listDestinations']>>) => list.find((d) => d.name === topic)?.publishRate;
    const inSuccession = [rateOf(await adapter.listDestinations()), rateOf(await adapter.listDestinations())];
    const atOnce = (await Promise.all([adapter.listDestinations(), adapter.listDestinations()])).map(rateOf);
    const realRate = published / ((Date.now() - started) / 1000);

    producing = false;
    othersRunning = false;
    await Promise.all([producer, others]);
    expect(realRate).toBeGreaterThan(100);
    for (const rate of [...inSuccession, ...atOnce]) {
      expect(rate).toBeGreaterThan(realRate / 2);
      expect(rate).toBeLessThan(realRate * 2);
    }
  }, 30_000);
});
