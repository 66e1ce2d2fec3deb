import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, tempDir, testApp, trpcClient, waitFor, type Served } from './helpers';

describe('procedures whose fields are all optional refuse unknown keys (garbage is a 400, not a default answer)', () => {
  const data = tempDir();
  let served: Served;
  beforeAll(async () => {
    served = await serve(await testApp({ dataDir: data.dir, memory: { enabled: true, demoTraffic: false } }));
  });
  afterAll(async () => {
    await served?.app.close();
    data.remove();
  });

  it('redrive.list, fitness.scores and audit.list answer BAD_REQUEST to unknown keys and accept their own', async () => {
    const raw = async (path: string, input: unknown) => (await fetch(`${served.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`)).status;
    for (const path of ['redrive.list', 'fitness.scores', 'audit.list']) {
      expect([path, await raw(path, { bogus: 1 })]).toEqual([path, 400]);
      expect([path, await raw(path, { constructor: { prototype: { polluted: true } } })]).toEqual([path, 400]);
    }
    expect(await raw('redrive.list', { connectionId: 'memory' })).toBe(200);
    expect(await raw('audit.list', { limit: 5 })).toBe(200);
    expect(await raw('fitness.scores', { connectionId: 'memory' })).toBe(200);
  });

  it('the subscriptions keep taking the lastEventId a reconnecting client sends', async () => {
    const client = trpcClient(served.url);
    const seen: number[] = [];
    const sub = client.connections.health.subscribe({ intervalMs: 500, lastEventId: 'resume-1' } as never, { onData: (d) => seen.push((d as unknown[]).length) });
    try {
      await waitFor('a health event', () => seen.length > 0, 10_000);
    } finally {
      sub.unsubscribe();
    }
    const refused = await fetch(`${served.url}/trpc/connections.health?input=${encodeURIComponent(JSON.stringify({ bogus: 1 }))}`, { headers: { accept: 'text/event-stream' } });
    const text = await refused.text();
    expect(text).toMatch(/BAD_REQUEST|Unrecognized key/);
  });
});
