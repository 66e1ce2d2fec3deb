import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveRequestsOnce, utf8 } from '@mailroom/core';
import type { MailroomApp } from '../src/app';
import type { TailStreamEvent } from '../src/router';
import { fromB64, tempDir, testApp, waitFor } from './helpers';

type Tracked = { id: string; data: TailStreamEvent };

/** createCaller yields tRPC's tracked envelopes ([id, data, marker]); the HTTP client gives { id, data }. */
function untrack(value: unknown): Tracked {
  if (Array.isArray(value)) return { id: value[0] as string, data: value[1] as TailStreamEvent };
  return value as Tracked;
}

describe('router on the embedded memory broker', () => {
  const data = tempDir();
  let app: MailroomApp;

  beforeAll(async () => {
    app = await testApp({
      dataDir: data.dir,
      memory: { enabled: true, demoTraffic: false },
      tail: { bufferCapacity: 50, maxBatch: 20, flushMs: 20, ringBatches: 3, ringMessages: 60, resumeGraceMs: 0 },
    });
  });
  afterAll(async () => {
    await app?.close();
    data.remove();
  });

  const adapter = () => app.services.connections.get('memory').requireAdapter();

  it('the memory connection is present by default and ready', async () => {
    await waitFor('memory up', async () => (await app.caller.connections.get({ connectionId: 'memory' })).health.status === 'up');
    const list = await app.caller.connections.list();
    expect(list.map((c) => [c.id, c.kind])).toEqual([['memory', 'memory']]);
  });

  it('lists 10,000+ destinations with search, sort and pages served from one cached listing', async () => {
    // Its own app, with a cache that cannot expire mid-test on a slow machine.
    const listingData = tempDir();
    const listingApp = await testApp({ dataDir: listingData.dir, memory: { enabled: true, demoTraffic: false }, destinationsCacheTtlMs: 600_000 });
    const adapter = () => listingApp.services.connections.get('memory').requireAdapter();
    const app = listingApp;
    try {
      const n = 10_000;
      for (let i = 0; i < n; i++) await adapter().createDestination(`bulk-${String(i).padStart(5, '0')}`, { partitions: 1 });
      // Give depth an order: destination i holds i % 7 messages for the first 700.
      for (let i = 0; i < 700; i++) {
        const count = i % 7;
        if (count > 0) await adapter().publish(`bulk-${String(i).padStart(5, '0')}`, Array.from({ length: count }, () => ({ key: null, value: utf8('x'), headers: {} })));
      }
      const first = await app.caller.destinations.list({ connectionId: 'memory', search: 'bulk-', sort: 'name', dir: 'asc', offset: 0, limit: 500, refresh: true });
      expect(first.total).toBe(n);
      expect(first.items[0]!.name).toBe('bulk-00000');
      expect(first.items[499]!.name).toBe('bulk-00499');

      // Speed is the listing benchmark's job (bench/); here: every page after the first reuses one broker listing.
      const broker = adapter();
      const listDestinations = broker.listDestinations.bind(broker);
      let brokerListings = 0;
      broker.listDestinations = () => {
        brokerListings++;
        return listDestinations();
      };
      const time = <T>(fn: () => Promise<T>) => fn();
      const page2 = await time(() => app.caller.destinations.list({ connectionId: 'memory', search: 'bulk-', sort: 'name', dir: 'asc', offset: 500, limit: 500 }));
      expect(page2.items[0]!.name).toBe('bulk-00500');
      const byDepth = await time(() => app.caller.destinations.list({ connectionId: 'memory', search: 'bulk-', sort: 'depth', dir: 'desc', offset: 0, limit: 100 }));
      expect(byDepth.items.every((d) => d.depth === 6)).toBe(true);
      expect(byDepth.items[0]!.name).toBe('bulk-00006');
      const last = await time(() => app.caller.destinations.list({ connectionId: 'memory', search: 'bulk-', sort: 'depth', dir: 'desc', offset: n - 10, limit: 100 }));
      expect(last.items).toHaveLength(10);
      expect(last.items.every((d) => d.depth === 0)).toBe(true);
      const search = await time(() => app.caller.destinations.list({ connectionId: 'memory', search: 'BULK-0999', offset: 0, limit: 100 }));
      expect(search.items.map((d) => d.name)).toEqual(Array.from({ length: 10 }, (_, i) => `bulk-0999${i}`));
      expect(search.total).toBe(10);
      expect(brokerListings).toBe(0);
    } finally {
      await listingApp.close();
      listingData.remove();
    }
  });

  it('a tail that outruns its reader drops the oldest and says exactly how many it skipped', async () => {
    await adapter().createDestination('firehose', { partitions: 1 });
    const iterable = (await app.caller.messages.tail({ connectionId: 'memory', destination: 'firehose' })) as AsyncIterable<unknown>;
    const iterator = iterable[Symbol.asyncIterator]();
    const open = await iterator.next();
    expect(untrack(open.value).data.kind).toBe('open');
    const total = 1_000;
    // Nobody reads while 1,000 messages arrive in 20 bursts.
    for (let burst = 0; burst < 20; burst++) {
      await app.caller.messages.publish({
        connectionId: 'memory',
        destination: 'firehose',
        messages: Array.from({ length: 50 }, (_, i) => ({ key: null, headers: {}, value: { encoding: 'text' as const, data: String(burst * 50 + i) } })),
      });
      await new Promise((r) => setTimeout(r, 30));
    }
    await new Promise((r) => setTimeout(r, 200));
    const received: number[] = [];
    let skipped = 0;
    while (received.length + skipped < total) {
      const next = await Promise.race([iterator.next(), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 3_000))]);
      if (next === 'timeout' || next.done) break;
      const event = untrack(next.value).data;
      skipped += event.skipped;
      for (const m of event.messages) received.push(Number(fromB64(m.valueBase64).toString('utf8')));
    }
    await iterator.return?.();
    expect(received.length + skipped).toBe(total);
    expect(skipped).toBeGreaterThan(0);
    expect(received.length).toBeLessThanOrEqual(60 + 50); // the ring plus what was still buffered
    expect(received).toEqual([...received].sort((a, b) => a - b));
    expect(received.at(-1)).toBe(total - 1);
    await waitFor('tail released', () => app.services.tails.size === 0);
  });

  it('request-reply through a temporary reply destination, removed afterwards', async () => {
    await adapter().createDestination('rpc-requests', { partitions: 1 });
    await adapter().createDestination('rpc-unserved', { partitions: 1 });
    await adapter().createDestination('rpc-replies', { partitions: 1 });
    const responder = adapter().createConsumer({ group: 'rpc-responder' });
    await responder.subscribe(['rpc-requests']);
    const producer = adapter().createProducer();
    let serving = true;
    const loop = (async () => {
      while (serving) {
        await serveRequestsOnce(responder, producer, async (request) => ({ key: request.key, headers: {}, value: utf8(`pong:${Buffer.from(request.value).toString('utf8')}`) }), 100);
      }
    })();
    try {
      const result = await app.caller.messages.request({
        connectionId: 'memory',
        destination: 'rpc-requests',
        message: { key: 'k1', headers: {}, value: { encoding: 'text', data: 'ping' } },
        timeoutMs: 5_000,
      });
      expect(fromB64(result.reply.valueBase64).toString('utf8')).toBe('pong:ping');
      expect(result.correlationId).toBeTruthy();
      const names = (await adapter().listDestinations()).map((d) => d.name);
      expect(names.filter((n) => n.startsWith('mailroom-reply-'))).toEqual([]);

      const timedOut = await app.caller.messages
        .request({ connectionId: 'memory', destination: 'rpc-unserved', replyTo: 'rpc-replies', message: { key: null, headers: {}, value: { encoding: 'text', data: 'nobody' } }, timeoutMs: 300 })
        .catch((e: { code: string }) => e.code);
      expect(timedOut).toBe('TIMEOUT');
    } finally {
      serving = false;
      await loop;
      await responder.close();
      await producer.close();
    }
  });

  it('metrics, dead letters, groups and the Prometheus endpoint read the collector', async () => {
    await adapter().createDestination('orders-m', { partitions: 2, deadLetter: { destination: 'orders-m.dlq', maxDeliveries: 3 } });
    const idle = adapter().createConsumer({ group: 'billing' });
    await idle.subscribe(['orders-m']);
    await adapter().publish('orders-m', [{ key: 'a', value: utf8('1'), headers: {} }]);
    const snapshot = await app.caller.metrics.snapshot({ connectionId: 'memory', maxAgeMs: 0 });
    expect(snapshot.destinations.find((d) => d.destination === 'orders-m')).toBeTruthy();
    const links = await app.caller.deadLetters.list({ connectionId: 'memory' });
    expect(links.find((l) => l.deadLetter === 'orders-m.dlq')?.origins).toEqual(['orders-m']);
    await app.services.metrics.collect(app.services.connections.get('memory'));
    const text = (await app.services.metrics.render()).body;
    expect(text).toMatch(/mailroom_destination_depth\{connection="memory",destination="orders-m"\} 1/);
    expect(text).toMatch(/mailroom_connection_up\{connection="memory",kind="memory"\} 1/);
    expect(text).toMatch(/mailroom_group_lag\{connection="memory",group="billing",destination="orders-m"\} 1/);
    expect(text).toMatch(/mailroom_destination_lag\{connection="memory",destination="orders-m"\} 1/);
    const groups = await app.caller.groups.list({ connectionId: 'memory', destination: 'orders-m' });
    expect(groups.map((g) => [g.name, g.lag])).toEqual([['billing', 1]]);
    await idle.close();
    expect(text).toMatch(/mailroom_trpc_requests_total\{path="metrics.snapshot",type="query",code="OK"\} 1/);
  });
});
