import { describe, expect, it } from 'vitest';
import { Headers } from '@mailroom/core';
import { BROKEN_SKU, createMemoryAdapter, startDemoTraffic } from '../src';

function seeded(seed: number): () => number {
  let x = seed;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

describe('demo traffic', () => {
  it('builds the demo topology: keyed JSON with ids, a lagging group, retries into orders.dlq, a stuck consumer, a topic without ids', async () => {
    const adapter = createMemoryAdapter();
    const controller = new AbortController();
    const demo = await startDemoTraffic(adapter, { signal: controller.signal, messagesPerSecond: 400, random: seeded(42), log: () => {} });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const dlq = await adapter.describeDestination('orders.dlq');
      if ((dlq.depth ?? 0) >= 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    controller.abort();
    await demo.done;

    const byName = new Map((await adapter.listDestinations()).map((d) => [d.name, d]));
    expect([...byName.keys()].sort()).toEqual(['clickstream', 'notifications', 'orders', 'orders.dlq', 'payments', 'payments.dlq']);
    expect(byName.get('orders')).toMatchObject({ partitions: 3, deadLetter: 'orders.dlq' });
    expect(byName.get('notifications')?.deadLetter).toBeNull();
    expect(byName.get('orders.dlq')).toMatchObject({ isDeadLetter: true, deadLetterSources: ['orders'] });

    const dead = await adapter.browse({ destination: 'orders.dlq', start: { from: 'oldest' }, limit: 500 });
    expect(dead.messages.length).toBeGreaterThanOrEqual(2);
    for (const m of dead.messages) {
      expect(JSON.parse(new TextDecoder().decode(m.value))).toMatchObject({ sku: BROKEN_SKU });
      expect(m.deadLetter).toMatchObject({ origin: 'orders', attempts: 3 });
      expect(m.deadLetter?.history.length).toBe(3);
    }

    const orders = await adapter.browse({ destination: 'orders', start: { from: 'newest' }, limit: 20 });
    for (const m of orders.messages) {
      expect(m.headers[Headers.messageId]).toMatch(/^orders-\d+$/);
      expect(m.key).toMatch(/^c-\d+$/);
    }
    const clicks = await adapter.browse({ destination: 'clickstream', start: { from: 'newest' }, limit: 20 });
    expect(clicks.messages.length).toBeGreaterThan(0);
    expect(clicks.messages.every((m) => m.headers[Headers.messageId] === undefined)).toBe(true);

    const groups = new Map((await adapter.listConsumerGroups()).map((g) => [g.name, g]));
    expect([...groups.keys()].sort()).toEqual(['analytics', 'billing', 'fraud-check', 'fulfillment', 'mailer', 'metrics-rollup']);
    expect(groups.get('analytics')?.lag ?? 0).toBeGreaterThan(groups.get('fulfillment')?.lag ?? 0);
    expect(groups.get('analytics')?.lag ?? 0).toBeGreaterThan(100);
    // Every demo client closed on abort: the stuck consumer's batch went back to its group.
    expect([...groups.values()].every((g) => g.members === 0)).toBe(true);
    await adapter.close();
  });

  it('stays cheap at the default rate', async () => {
    const adapter = createMemoryAdapter();
    const controller = new AbortController();
    const before = process.cpuUsage();
    const started = performance.now();
    const demo = await startDemoTraffic(adapter, { signal: controller.signal, log: () => {} });
    await new Promise((r) => setTimeout(r, 3000));
    controller.abort();
    await demo.done;
    const used = process.cpuUsage(before);
    const share = (used.user + used.system) / 1000 / (performance.now() - started);
    const published = (await adapter.metrics()).destinations.reduce((n, d) => n + (d.depth ?? 0), 0);
    expect(published).toBeGreaterThan(40);
    expect(published).toBeLessThan(100);
    expect(share, `demo used ${(share * 100).toFixed(1)}% of a core`).toBeLessThan(0.25);
    await adapter.close();
  });
});
