import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRPCError } from '@trpc/server';
import { Redis } from 'ioredis';
import type { MailroomApp } from '../src/app';
import { REDIS_URL, fromB64, tempDir, testApp, uniqueName, waitFor } from './helpers';

describe('router on a real Redis (createCaller)', () => {
  const data = tempDir();
  let app: MailroomApp;
  let redis: Redis;
  const stream = uniqueName('mr-srv');

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    app = await testApp({
      dataDir: data.dir,
      connections: [
        { id: 'redis', name: 'Local Redis', kind: 'redis', readOnly: false, demoTraffic: false, config: { url: REDIS_URL } },
        { id: 'redis-ro', kind: 'redis', readOnly: true, demoTraffic: false, config: { url: REDIS_URL } },
        { id: 'dead', name: 'Dead Redis', kind: 'redis', readOnly: false, demoTraffic: false, config: { url: 'redis://admin:hunter2@127.0.0.1:1', connectTimeoutMs: 1000 } },
      ],
    });
  });

  afterAll(async () => {
    await app?.close();
    await redis.del(stream);
    redis.disconnect();
    data.remove();
  });

  it('lists connections with health and capabilities, never their config or credentials', async () => {
    await waitFor('redis up', async () => (await app.caller.connections.get({ connectionId: 'redis' })).health.status === 'up');
    const list = await app.caller.connections.list();
    expect(list.map((c) => c.id)).toEqual(['redis', 'redis-ro', 'dead']);
    const redisInfo = list[0]!;
    expect(redisInfo).toMatchObject({ name: 'Local Redis', kind: 'redis', readOnly: false });
    expect(redisInfo.capabilities?.consumerGroups).toBe(true);
    expect(redisInfo.health.version).toMatch(/Redis/);
    const json = JSON.stringify(list);
    expect(json).not.toContain('hunter2');
    expect(json).not.toContain('127.0.0.1:1');
    expect(Object.keys(redisInfo).sort()).toEqual(['capabilities', 'health', 'id', 'kind', 'name', 'readOnly', 'readOnlyReason', 'role']);
  });

  it('publishes text, JSON and binary values that browse returns byte for byte', async () => {
    const binary = Buffer.from([0, 255, 128, 10, 13, 0xc3, 0x28]);
    const published = await app.caller.messages.publish({
      connectionId: 'redis',
      destination: stream,
      messages: [
        { key: 'k-text', headers: { 'x-kind': 'text', 'ünï': 'cödé' }, value: { encoding: 'text', data: 'héllo wörld' } },
        { key: null, headers: {}, value: { encoding: 'json', data: '{"amount": 42, "items": [1,2]}' } },
        { key: 'k-bin', headers: {}, value: { encoding: 'base64', data: binary.toString('base64') } },
      ],
    });
    expect(published.published).toBe(3);
    const page = await app.caller.messages.browse({ connectionId: 'redis', destination: stream, start: { from: 'oldest' }, limit: 10 });
    expect(page.messages).toHaveLength(3);
    expect(page.destructive).toBe(false);
    const [text, json, bin] = page.messages;
    expect(fromB64(text!.valueBase64).toString('utf8')).toBe('héllo wörld');
    expect(text!.key).toBe('k-text');
    expect(text!.headers).toMatchObject({ 'x-kind': 'text', 'ünï': 'cödé' });
    expect(fromB64(json!.valueBase64).toString('utf8')).toBe('{"amount": 42, "items": [1,2]}');
    expect(json!.key).toBeNull();
    expect(fromB64(bin!.valueBase64).equals(binary)).toBe(true);
    expect(bin!.size).toBe(binary.length);
    expect(typeof bin!.timestamp).toBe('string');

    const filtered = await app.caller.messages.browse({ connectionId: 'redis', destination: stream, start: { from: 'newest' }, limit: 10, filter: 'json.amount > 40' });
    expect(filtered.messages.map((m) => m.id)).toEqual([json!.id]);
  });

  it('pages, sorts and searches destinations from the cached list', async () => {
    const others = [uniqueName('mr-srv-b'), uniqueName('mr-srv-c')];
    for (const name of others) await redis.xadd(name, '*', 'v', 'x');
    try {
      const page = await app.caller.destinations.list({ connectionId: 'redis', search: 'mr-srv', sort: 'name', dir: 'asc', offset: 0, limit: 500, refresh: true });
      const names = page.items.map((d) => d.name);
      expect(names).toEqual(expect.arrayContaining([stream, ...others]));
      expect([...names].sort((a, b) => a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' }))).toEqual(names);
      expect(page.total).toBe(names.length);
      const one = await app.caller.destinations.list({ connectionId: 'redis', search: others[1]!, offset: 0, limit: 1 });
      expect(one.items.map((d) => d.name)).toEqual([others[1]]);
      expect(one.total).toBe(1);
    } finally {
      await redis.del(...others);
    }
  });

  it('maps a dead broker to SERVICE_UNAVAILABLE naming the broker within 5 s', async () => {
    const started = Date.now();
    const error = await app.caller.destinations.list({ connectionId: 'dead' }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(TRPCError);
    expect((error as TRPCError).code).toBe('SERVICE_UNAVAILABLE');
    expect((error as TRPCError).message).toMatch(/^broker Dead Redis \(dead\) is unreachable: /);
    expect((error as TRPCError).message).not.toContain('hunter2');
    const dead = await app.caller.connections.get({ connectionId: 'dead' });
    expect(dead.health.status).toBe('down');
    expect(dead.health.reason).toBeTruthy();
  });

  it('maps core errors: unknown connection, invalid name, bad filter, read-only', async () => {
    const code = (p: Promise<unknown>) => p.then(() => 'OK', (e: TRPCError) => e.code);
    expect(await code(app.caller.destinations.list({ connectionId: 'nope' }))).toBe('NOT_FOUND');
    expect(await code(app.caller.messages.browse({ connectionId: 'redis', destination: stream, filter: 'key ==', limit: 5 }))).toBe('BAD_REQUEST');
    expect(await code(app.caller.messages.publish({ connectionId: 'redis-ro', destination: stream, messages: [{ key: null, headers: {}, value: { encoding: 'text', data: 'x' } }] }))).toBe('FORBIDDEN');
    expect(await code(app.caller.messages.publish({ connectionId: 'redis', destination: stream, messages: [{ key: null, headers: {}, value: { encoding: 'json', data: '{nope' } }] }))).toBe('BAD_REQUEST');
    expect(await code(app.caller.messages.publish({ connectionId: 'redis', destination: stream, messages: [{ key: null, headers: {}, value: { encoding: 'base64', data: '%%%' } }] }))).toBe('BAD_REQUEST');
    expect(await app.caller.filters.validate({ expression: 'key == "a" &&' })).toMatchObject({ ok: false, position: expect.any(Number) });
    expect(await app.caller.filters.validate({ expression: 'key == "a"' })).toEqual({ ok: true });
  });
});
