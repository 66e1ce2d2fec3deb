import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { utf8 } from '@mailroom/core';
import { REDIS_URL, serve, tempDir, testApp, uniqueName, type Served } from './helpers';
import { procedures } from './safety-helpers';

/** Codes a hostile input may get: each a 4xx that tells the caller what was wrong. */
const CLIENT_ERRORS = new Set([400, 401, 403, 404, 405, 408, 409, 412, 413, 414, 415, 429, 431]);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function deep(depth: number, leaf: Json): Json {
  let value: Json = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

const INJECTIONS = [
  "'; DROP TABLE messages; --",
  '${process.exit(1)}',
  '{{constructor.constructor("return process")()}}',
  '../../../../etc/passwd',
  'kafka://attacker:9092',
  'http://169.254.169.254/latest/meta-data/',
  '\u0000\u0001\u202e\ud800',
  '<script>alert(1)</script>',
  '__proto__',
  'constructor',
  '*',
  '$(rm -rf /)',
];

const protoObject = (): Json => JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}') as Json;

/** Any JSON value, biased to the hostile: deep nesting, huge strings, prototype keys, injections. */
const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>,
  fc.constantFrom(...INJECTIONS),
  fc.constantFrom<Json>(-1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 0, true, false, [], {}),
  fc.integer({ min: 100, max: 3000 }).map((d) => deep(d, 'x')),
  fc.integer({ min: 70_000, max: 1_100_000 }).map((n) => 'A'.repeat(n)),
  fc.constant(null).map(protoObject),
  fc.array(fc.constantFrom(...INJECTIONS), { maxLength: 3000 }),
);

/** The zod type name of each top-level input key of a procedure (optional/default/nullable unwrapped). */
function inputKeys(p: { _def: { inputs: unknown[] } }): Map<string, string> {
  const out = new Map<string, string>();
  const unwrap = (schema: unknown): Record<string, unknown> | undefined => {
    let def = (schema as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
    while (def && ['optional', 'default', 'nullable', 'readonly', 'prefault'].includes(def.type as string)) def = (def.innerType as { _zod: { def: Record<string, unknown> } })._zod.def;
    return def;
  };
  for (const input of p._def.inputs) {
    const def = unwrap(input);
    if (def?.type !== 'object') continue;
    for (const [key, value] of Object.entries(def.shape as Record<string, unknown>)) out.set(key, (unwrap(value)?.type as string) ?? 'unknown');
  }
  return out;
}

/** A value the key's type never accepts (so a field-level attack can never be a valid call that changes something). */
function wrongFor(type: string): fc.Arbitrary<Json> {
  const notString = hostileValue.filter((v) => typeof v !== 'string' && v !== null);
  switch (type) {
    case 'string':
      return fc.oneof(notString, fc.integer({ min: 70_000, max: 300_000 }).map((n) => 'Z'.repeat(n)));
    case 'number':
    case 'int':
      return hostileValue.filter((v) => typeof v !== 'number' && v !== null);
    case 'boolean':
      return hostileValue.filter((v) => typeof v !== 'boolean' && v !== null);
    case 'array':
      return hostileValue.filter((v) => !Array.isArray(v) && v !== null);
    default:
      // objects and unions: wrong shapes, or a discriminator no branch has
      return fc.oneof(
        hostileValue.filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)).filter((v) => v !== null),
        fc.constantFrom<Json>({ kind: '__proto__' }, { from: 'constructor' }, { encoding: 'eval' }, protoObject()),
      );
  }
}

describe('hostile input: every procedure answers 4xx, the server stays up, brokers are unchanged', () => {
  const data = tempDir();
  let served: Served;
  let redis: Redis;
  const stream = uniqueName('mr-test-fuzz');

  const base = (connectionId: string, d: string, dlq: string) => ({
    connectionId, destination: d, name: d, source: dlq, target: d, group: 'fz-g', consumer: 'fz-c', ids: ['0-1'], copies: 1, limit: 10,
    messages: [{ key: null, headers: {}, value: { encoding: 'text', data: 'x' } }], message: { key: null, headers: {}, value: { encoding: 'text', data: 'x' } },
    start: { from: 'oldest' }, filter: 'key == "x"', partition: 0, force: false, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false, timeoutMs: 100,
    replyTo: d, partitions: 1, deadLetter: { destination: dlq, maxDeliveries: 3 }, search: '', sort: 'name', dir: 'asc', offset: 0, taskId: 'rd-none', expression: 'key == "x"',
    intervalMs: 1000, maxAgeMs: 0, minIntervalMs: 0, username: 'fuzz', password: 'fuzz', destinations: '*',
  });

  async function state() {
    const memory = served.app.services.connections.get('memory').requireAdapter();
    const names = (await memory.listDestinations()).map((d) => `${d.name}:${d.depth}`).sort();
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${stream}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    const streams = await Promise.all(keys.sort().map(async (k) => [k, await redis.xlen(k), JSON.stringify(await redis.xinfo('GROUPS', k))]));
    return { names, streams, tasks: served.app.services.redrive.list().length };
  }

  async function send(path: string, type: string, input: unknown): Promise<number> {
    const json = JSON.stringify(input);
    if (type === 'mutation') {
      const r = await fetch(`${served.url}/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mailroom-csrf': '1' }, body: json });
      await r.arrayBuffer();
      return r.status;
    }
    const controller = new AbortController();
    const r = await fetch(`${served.url}/trpc/${path}?input=${encodeURIComponent(json)}`, {
      headers: type === 'subscription' ? { accept: 'text/event-stream' } : {},
      signal: controller.signal,
    });
    if (type !== 'subscription' || r.status !== 200) {
      await r.arrayBuffer();
      return r.status;
    }
    // An SSE stream answers 200 and puts the error in its first event.
    const reader = r.body!.getReader();
    let text = '';
    while (!/event: (serialized-error|connected)|data: /.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    const code = /"httpStatus":(\d+)/.exec(text);
    return code ? Number(code[1]) : 200;
  }

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    served = await serve(
      await testApp({
        dataDir: data.dir,
        memory: { enabled: true, demoTraffic: false },
        connections: [{ id: 'redis', kind: 'redis', readOnly: false, demoTraffic: false, config: { url: REDIS_URL } }],
        security: { auth: { anonymous: { role: 'admin' } }, limits: { maxSubscriptionsPerSession: 1000 } },
      }),
    );
    const memory = served.app.services.connections.get('memory').requireAdapter();
    for (const name of ['fz-q', 'fz-q.dlq']) await memory.createDestination(name, { partitions: 1 });
    await memory.publish('fz-q', [{ key: 'k', value: utf8('v'), headers: {} }]);
    await memory.publish('fz-q.dlq', [{ key: 'k', value: utf8('dead'), headers: { 'x-mailroom-origin': 'fz-q' } }]);
    for (let i = 0; i < 3; i++) await redis.xadd(stream, '*', 'value', `v${i}`);
    await redis.xadd(`${stream}:dlq`, '*', 'value', 'dead');
    await redis.xgroup('CREATE', stream, 'fz-g', '0');
  });
  afterAll(async () => {
    await served?.app.close();
    const keys = await redis.keys(`${stream}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    data.remove();
  });

  it('whole-input garbage to every procedure', async () => {
    const before = await state();
    const all = procedures();
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...all), hostileValue, async ([path, p], input) => {
        const status = await send(path, p._def.type, input);
        // 200 only where garbage cannot matter: queries, subscriptions, and mutations without input (sign-out).
        if (!CLIENT_ERRORS.has(status) && !(status === 200 && (p._def.type !== 'mutation' || p._def.inputs.length === 0))) failures.push(`${path} → ${status}`);
        return true;
      }),
      { numRuns: 400, seed: 12 },
    );
    expect(failures).toEqual([]);
    expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
    expect(await state()).toEqual(before);
  }, 120_000);

  it('one wrong-typed, oversized or nested field in an otherwise plausible call, on memory and on real Redis', async () => {
    const before = await state();
    const targets = [base('memory', 'fz-q', 'fz-q.dlq'), base('redis', stream, `${stream}:dlq`)];
    const cases = procedures().flatMap(([path, p]) => [...inputKeys(p)].map(([key, type]) => ({ path, kind: p._def.type, key, type })));
    const failures: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...cases).chain((c) => fc.tuple(fc.constant(c), fc.constantFrom(...targets), wrongFor(c.type))),
        async ([c, target, value]) => {
          const input = { ...target, [c.key]: value };
          const status = await send(c.path, c.kind, input);
          if (!CLIENT_ERRORS.has(status)) failures.push(`${c.path}.${c.key} (${c.type}) → ${status}`);
          return true;
        },
      ),
      { numRuns: 600, seed: 34 },
    );
    expect(failures).toEqual([]);
    expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
    expect(await state()).toEqual(before);
  }, 180_000);

  it('malformed HTTP: bodies that are not JSON, oversized bodies, unknown procedures, wrong methods', async () => {
    const before = await state();
    const post = (path: string, body: string, contentType = 'application/json') =>
      fetch(`${served.url}/trpc/${path}`, { method: 'POST', headers: { 'content-type': contentType, 'x-mailroom-csrf': '1' }, body }).then(async (r) => (await r.arrayBuffer(), r.status));
    expect(await post('messages.publish', '{"connectionId":')).toBe(400);
    expect(await post('messages.publish', '\u0000\u0001')).toBe(400);
    expect(await post('messages.publish', 'connectionId=memory', 'application/x-www-form-urlencoded')).toBe(415);
    expect(await post('messages.publish', JSON.stringify({ connectionId: 'memory', destination: 'fz-q', messages: [{ key: null, headers: {}, value: { encoding: 'text', data: 'x'.repeat(17 * 1024 * 1024) } }] }))).toBe(413);
    expect(await post('nope.nothing', '{}')).toBe(404);
    expect(await post('__proto__.constructor', '{}')).toBe(404);
    expect(await post('messages.browse', '{}')).toBe(405);
    expect((await fetch(`${served.url}/trpc/messages.publish?input=%7B%7D`)).status).toBe(405);
    expect(await post('messages.publish,messages.publish?batch=1', '{"0":{},"1":[]}')).toBe(400);
    expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
    expect(await state()).toEqual(before);
  });
});
