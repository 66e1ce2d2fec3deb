import { afterAll, describe, expect, it } from 'vitest';
import { adapterFor, deleteKeys, rawClient, uniquePrefix } from './helpers';

describe('rates do not depend on who asked last', () => {
  const redis = rawClient();
  const adapter = adapterFor();
  const prefix = uniquePrefix('rates');
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await adapter.close();
    redis.disconnect();
  });

  it('two listings 5 ms apart, while metrics are polled too, both show the real publish rate', async () => {
    const stream = `${prefix}:orders`;
    const started = Date.now();
    let sent = 0;
    let polling = true;
    // Other callers (the metrics collector, a describe) read the same counters meanwhile.
    const others = (async () => {
      while (polling) {
        await adapter.metrics();
        await adapter.describeDestination(stream).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    while (Date.now() - started < 3_000) {
      await redis.xadd(stream, '*', 'v', String(sent++));
      await new Promise((r) => setTimeout(r, 5));
    }
    const realRate = (sent * 1000) / (Date.now() - started);
    const first = (await adapter.listDestinations()).find((d) => d.name === stream);
    await new Promise((r) => setTimeout(r, 5));
    const second = (await adapter.listDestinations()).find((d) => d.name === stream);
    polling = false;
    await others;
    for (const listed of [first, second]) {
      expect(listed?.publishRate, `publish rate vs the real ${realRate.toFixed(0)}/s`).toBeGreaterThan(realRate / 2);
      expect(listed!.publishRate!).toBeLessThan(realRate * 2);
    }
  });
});
