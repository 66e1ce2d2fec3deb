import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { MailroomApp } from '../src/app';
import { REDIS_URL, tempDir, testApp, uniqueName, waitFor } from './helpers';

/** XINFO GROUPS as { name: { 'last-delivered-id', consumers, ... } }. */
async function groupsOf(redis: Redis, stream: string): Promise<Record<string, Record<string, unknown>>> {
  const rows = (await redis.call('XINFO', 'GROUPS', stream)) as unknown[][];
  const out: Record<string, Record<string, unknown>> = {};
  for (const row of rows) {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < row.length; i += 2) o[String(row[i])] = row[i + 1];
    out[String(o.name)] = o;
  }
  return out;
}

describe('groups.resetOffsets on a real Redis stream', () => {
  const data = tempDir();
  let app: MailroomApp;
  let redis: Redis;
  const stream = uniqueName('mr-reset');
  const ids: string[] = [];

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    for (let i = 0; i < 5; i++) ids.push((await redis.xadd(stream, '*', 'n', String(i)))!);
    await redis.xgroup('CREATE', stream, 'idle', '$');
    await redis.xgroup('CREATE', stream, 'busy', '0');
    await redis.xreadgroup('GROUP', 'busy', 'w1', 'COUNT', 2, 'STREAMS', stream, '>');
    app = await testApp({ dataDir: data.dir, connections: [{ id: 'redis', kind: 'redis', readOnly: false, demoTraffic: false, config: { url: REDIS_URL } }] });
    await waitFor('redis up', async () => (await app.caller.connections.get({ connectionId: 'redis' })).health.status === 'up');
  });
  afterAll(async () => {
    await app?.close();
    await redis.del(stream);
    redis.disconnect();
    data.remove();
  });

  it('accepts a full entry id as the exact position (the web copies ids like 1700000000000-3)', async () => {
    await app.caller.groups.resetOffsets({ connectionId: 'redis', group: 'idle', destination: stream, target: { kind: 'offset', partition: 0, offset: ids[2]! } });
    const after = await groupsOf(redis, stream);
    // "Continue after a position": the group's last-delivered id is the entry before it.
    expect(after.idle!['last-delivered-id']).toBe(ids[1]);
    const [ms] = ids[3]!.split('-');
    await app.caller.groups.resetOffsets({ connectionId: 'redis', group: 'idle', destination: stream, target: { kind: 'offset', partition: 0, offset: ms! } });
    expect(Number(String((await groupsOf(redis, stream)).idle!['last-delivered-id']).split('-')[0])).toBeLessThan(Number(ms));
  });

  it('refuses malformed positions before they reach the broker, and a group with consumers with CONFLICT', async () => {
    for (const offset of ['1-2-3', 'abc', '-1', '12-']) {
      await expect(app.caller.groups.resetOffsets({ connectionId: 'redis', group: 'idle', destination: stream, target: { kind: 'offset', partition: 0, offset } })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    }
    const before = (await groupsOf(redis, stream)).busy!['last-delivered-id'];
    await expect(app.caller.groups.resetOffsets({ connectionId: 'redis', group: 'busy', destination: stream, target: { kind: 'earliest' } })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await groupsOf(redis, stream)).busy!['last-delivered-id']).toBe(before);
  });
});
