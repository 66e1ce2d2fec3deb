import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { RedisAdapter } from '../src/index';
import { adapterFor, deleteKeys, rawClient, uniquePrefix } from './helpers';

const prefix = uniquePrefix('scan');
let redis: Redis;
let adapter: RedisAdapter;
const SCAN_COUNT = 500;

async function scanCalls(): Promise<number> {
  const info = (await redis.call('INFO', 'commandstats')) as string;
  return Number(/cmdstat_scan:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

beforeAll(async () => {
  redis = rawClient();
  adapter = adapterFor({ keyPattern: `${prefix}*`, scanCount: SCAN_COUNT });
  for (let i = 0; i < 10_000; i += 1000) {
    const args: string[] = [];
    for (let j = i; j < i + 1000; j++) args.push(`${prefix}-unrelated-${j}`, 'x');
    await redis.mset(...args);
  }
  for (const name of ['orders', 'orders:dlq', 'payments']) await redis.xadd(`${prefix}-${name}`, '*', 'value', name);
  await redis.hset(`${prefix}-a-hash`, 'f', 'v');
}, 60_000);

afterAll(async () => {
  await adapter.close();
  await deleteKeys(redis, prefix);
  redis.disconnect();
}, 60_000);

it('discovers the streams among 10,000 unrelated keys in bounded SCAN batches while Redis keeps answering', async () => {
  const dbsize = await redis.dbsize();
  expect(dbsize).toBeGreaterThanOrEqual(10_004);
  const pinger = rawClient();
  await pinger.ping();
  let stop = false;
  const latencies: number[] = [];
  const pinging = (async () => {
    while (!stop) {
      const t = performance.now();
      await pinger.ping();
      latencies.push(performance.now() - t);
    }
  })();

  const callsBefore = await scanCalls();
  const destinations = await adapter.listDestinations();
  const callsAfter = await scanCalls();
  stop = true;
  await pinging;
  pinger.disconnect();

  expect(destinations.map((d) => d.name)).toEqual([`${prefix}-orders`, `${prefix}-orders:dlq`, `${prefix}-payments`]);
  const orders = destinations[0]!;
  expect(orders).toMatchObject({ depth: 1, deadLetter: `${prefix}-orders:dlq`, isDeadLetter: false });
  expect(destinations[1]).toMatchObject({ isDeadLetter: true, deadLetterSources: [`${prefix}-orders`] });
  // SCAN visits the whole keyspace COUNT keys at a time: at least dbsize / COUNT calls, not one KEYS.
  expect(callsAfter - callsBefore).toBeGreaterThanOrEqual(Math.floor(dbsize / SCAN_COUNT));
  expect(latencies.length).toBeGreaterThan(5);
  const worst = Math.max(...latencies);
  console.info(`listDestinations: ${callsAfter - callsBefore} SCAN calls over ${dbsize} keys; concurrent PING worst ${worst.toFixed(1)} ms over ${latencies.length} pings`);
  expect(worst).toBeLessThan(100);
});
