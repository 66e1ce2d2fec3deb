import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TRPCClient } from '@trpc/client';
import type { AppRouter } from '../src/router';
import { Redis } from 'ioredis';
import { REDIS_URL, serve, tempDir, testApp, trpcClient, uniqueName, waitFor, type Served } from './helpers';
import { outcome, procedures } from './safety-helpers';

type Client = TRPCClient<AppRouter>;

/** A valid call of every broker mutation against connection `c` (destination names from `d`). */
function mutations(client: Client, c: string, d: string): Record<string, () => Promise<unknown>> {
  return {
    'destinations.create': () => client.destinations.create.mutate({ connectionId: c, name: `${d}.new`, partitions: 1 }),
    'destinations.delete': () => client.destinations.delete.mutate({ connectionId: c, name: d }),
    'destinations.purge': () => client.destinations.purge.mutate({ connectionId: c, name: d }),
    'messages.publish': () => client.messages.publish.mutate({ connectionId: c, destination: d, messages: [{ key: null, headers: {}, value: { encoding: 'text', data: 'x' } }] }),
    'messages.request': () => client.messages.request.mutate({ connectionId: c, destination: d, replyTo: `${d}.dlq`, message: { key: null, headers: {}, value: { encoding: 'text', data: 'x' } }, timeoutMs: 100 }),
    'redrive.start': () => client.redrive.start.mutate({ connectionId: c, source: `${d}.dlq`, target: d }),
    'redrive.cancel': async () => client.redrive.cancel.mutate({ taskId: (await client.redrive.list.query({ connectionId: c }))[0]!.id }),
    'groups.resetOffsets': () => client.groups.resetOffsets.mutate({ connectionId: c, group: 'g', destination: d, target: { kind: 'earliest' } }),
    'pending.ack': () => client.pending.ack.mutate({ connectionId: c, destination: d, group: 'g', ids: ['0:0'] }),
    'pending.claim': () => client.pending.claim.mutate({ connectionId: c, destination: d, group: 'g', consumer: 'me', ids: ['0:0'] }),
  };
}

const SESSION_MUTATIONS = ['session.signIn', 'session.signOut'];

describe('every mutation goes through one guard', () => {
  it('each mutation declares an audited access rule with a role (session sign-in/out aside)', () => {
    const all = procedures();
    const found = all.filter(([, p]) => p._def.type === 'mutation').map(([path]) => path).sort();
    expect(found).toEqual([...Object.keys(mutations(null as never, '', '')), ...SESSION_MUTATIONS].sort());
    for (const [path, p] of all) {
      const access = p._def.meta?.access;
      if (p._def.type !== 'mutation' || SESSION_MUTATIONS.includes(path)) continue;
      expect([path, access?.action, access?.role !== null && access?.role !== undefined]).toEqual([path, path, true]);
    }
    // Procedures that need no sign-in are exactly these.
    expect(all.filter(([, p]) => p._def.meta?.access?.public).map(([path]) => path).sort()).toEqual(['session.me', ...SESSION_MUTATIONS].sort());
  });
});

async function depths(client: Client, connectionId: string, names: string[]): Promise<Record<string, number | null>> {
  const list = await client.destinations.list.query({ connectionId, refresh: true, limit: 500 });
  return Object.fromEntries(names.map((n) => [n, list.items.find((i) => i.name === n)?.depth ?? null]));
}

describe.each([
  ['global read-only', { readOnly: true }, 'memory', /^Mailroom is in read-only mode/],
  ['a read-only connection', {}, 'locked', /^Connection locked is read-only/],
] as const)('%s refuses every mutation', (_label, security, connectionId, reason) => {
  const data = tempDir();
  let served: Served;
  let client: Client;
  const d = 'ro-q';

  beforeAll(async () => {
    served = await serve(
      await testApp({
        dataDir: data.dir,
        memory: { enabled: true, demoTraffic: false },
        connections: [{ id: 'locked', kind: 'memory', readOnly: true, demoTraffic: false, config: {} }],
        security: { ...security, auth: { anonymous: { role: 'admin' } } },
      }),
    );
    client = trpcClient(served.url);
    // Fixtures go in through the broker side of the app (adapters), not through the guarded API.
    for (const id of ['memory', 'locked']) {
      const adapter = served.app.services.connections.get(id).requireAdapter();
      await adapter.createDestination(d, { partitions: 1 });
      await adapter.createDestination(`${d}.dlq`, { partitions: 1 });
      await adapter.publish(d, [{ key: 'k', value: new TextEncoder().encode('keep'), headers: {} }]);
      await adapter.publish(`${d}.dlq`, [{ key: 'k', value: new TextEncoder().encode('dead'), headers: { 'x-mailroom-origin': d } }]);
    }
  });
  afterAll(async () => {
    await served?.app.close();
    data.remove();
  });

  it('with FORBIDDEN and the reason, leaving the broker as it was; a redrive dry run still runs', async () => {
    const before = await depths(client, connectionId, [d, `${d}.dlq`, `${d}.new`]);
    expect(before).toEqual({ [d]: 1, [`${d}.dlq`]: 1, [`${d}.new`]: null });
    const dry = await client.redrive.start.mutate({ connectionId, source: `${d}.dlq`, target: d, dryRun: true });
    expect(dry.dryRun).toBe(true);
    for (const [path, run] of Object.entries(mutations(client, connectionId, d))) {
      if (path === 'redrive.cancel') {
        // The only task is the dry run, and stopping a dry run changes nothing: allowed.
        expect(await outcome(run())).toBe('OK');
        continue;
      }
      const error = await run().then(() => null, (e: unknown) => e as { data?: { code?: string }; message: string });
      expect([path, error?.data?.code]).toEqual([path, 'FORBIDDEN']);
      expect(error!.message).toMatch(reason);
    }
    expect(await depths(client, connectionId, [d, `${d}.dlq`, `${d}.new`])).toEqual(before);
    const info = await client.connections.get.query({ connectionId });
    expect(info.readOnly).toBe(true);
    expect(info.readOnlyReason).toMatch(connectionId === 'memory' ? /^Mailroom is in read-only mode$/ : /read-only in the Mailroom config/);
    expect((await client.session.me.query()).readOnly).toBe(connectionId === 'memory');
  });

  it('the other connection stays writable unless the switch is global', async () => {
    const other = connectionId === 'memory' ? 'locked' : 'memory';
    const result = await outcome(client.messages.publish.mutate({ connectionId: other, destination: d, messages: [{ key: null, headers: {}, value: { encoding: 'text', data: 'x' } }] }));
    expect(result).toBe(connectionId === 'memory' ? 'FORBIDDEN' : 'OK');
  });
});

describe('read-only mode and stored redrive tasks', () => {
  it('a redrive that was running when the server stopped is not resumed by a read-only server', async () => {
    const redis = new Redis(REDIS_URL);
    const data = tempDir();
    const origin = uniqueName('mr-ro-rd');
    const dlq = `${origin}:dlq`;
    const connections = [{ id: 'redis', kind: 'redis', readOnly: false, demoTraffic: false, config: { url: REDIS_URL } }];
    try {
      const pipeline = redis.pipeline();
      for (let i = 0; i < 40; i++) pipeline.xadd(dlq, '*', 'h:x-mailroom-origin', origin, 'value', `m-${i}`);
      await pipeline.exec();
      const first = await testApp({ dataDir: data.dir, connections });
      const task = await first.caller.redrive.start({ connectionId: 'redis', source: dlq, target: null, ratePerSecond: 20 });
      await waitFor('some moved', async () => (await first.caller.redrive.get({ taskId: task.id })).progress.moved >= 3, 10_000, 20);
      await first.close();
      const left = await redis.xlen(dlq);
      expect(left).toBeGreaterThan(0);

      const second = await testApp({ dataDir: data.dir, connections, security: { readOnly: true, auth: { anonymous: { role: 'admin' } } } });
      try {
        const stopped = await second.caller.redrive.get({ taskId: task.id });
        expect([stopped.status, stopped.error]).toEqual(['interrupted', 'Mailroom is in read-only mode; the task was not resumed']);
        await new Promise((r) => setTimeout(r, 600));
        expect(await redis.xlen(dlq)).toBe(left);
      } finally {
        await second.close();
      }
    } finally {
      await redis.del(origin, dlq);
      redis.disconnect();
      data.remove();
    }
  });
});
