import { existsSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { Headers, fromUtf8, utf8, type BrokerAdapter } from '@mailroom/core';
import { REDIS_URL, serve, tempDir, testApp, uniqueName, waitFor, type Served } from './helpers';
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

/**
 * Injection-style strings for every string field of an otherwise valid call. `trap` is a local
 * port that counts connections (no request may make the server connect to an address it was sent);
 * `sentinel` is a file that code run by any evaluator would create.
 */
function injectionStrings(trap: string, sentinel: string): string[] {
  const touch = `require('fs').writeFileSync('${sentinel}', 'x')`;
  return [
    '../../../../etc/passwd',
    '..\\..\\..\\windows\\win.ini',
    'file:///etc/passwd',
    `kafka://${trap}`,
    `http://${trap}/latest/meta-data/`,
    `redis://${trap}/0`,
    `amqp://guest:guest@${trap}/`,
    `https://user:pass@${trap}/x?y=1#z`,
    '${7*7}',
    '{{7*7}}',
    '#{7*7}',
    '<%= 7*7 %>',
    "'; DROP TABLE messages; --",
    '" OR "1"="1',
    '<script>alert(1)</script>',
    '"><img src=x onerror=alert(1)>',
    'fz\u0000q',
    '\u0000',
    '\u202eq-zf\u202c',
    '\ufeff\u200b\u2028',
    '\ud800',
    touch,
    `\${${touch}}`,
    `{{${touch}}}`,
    `this.constructor.constructor("${touch.replaceAll('"', '\\"')}")()`,
    `new File('${sentinel}').text = 'x'`,
    `"touch ${sentinel}".execute()`,
    `T(java.lang.Runtime).getRuntime().exec('touch ${sentinel}')`,
    `$(touch ${sentinel})`,
    `\`touch ${sentinel}\``,
    `; touch ${sentinel}`,
    '*',
    '%',
  ];
}

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

interface ZodDef {
  type: string;
  shape?: Record<string, Schema>;
  element?: Schema;
  keyType?: Schema;
  valueType?: Schema;
  options?: Schema[];
  innerType?: Schema;
  values?: unknown[];
}
interface Schema {
  _zod: { def: ZodDef };
  safeParse(value: unknown): { success: boolean };
}

const WRAPPERS = new Set(['optional', 'default', 'nullable', 'readonly', 'prefault', 'nonoptional', 'catch']);

function unwrapSchema(schema: Schema): Schema {
  let current = schema;
  while (WRAPPERS.has(current._zod.def.type)) current = current._zod.def.innerType!;
  return current;
}

/** A schema whose values are strings: free text, formats (dates), enums and string literals (discriminators). */
function takesString(schema: Schema): boolean {
  const def = schema._zod.def;
  return def.type === 'string' || def.type === 'enum' || def.type === 'template_literal' || (def.type === 'literal' && typeof def.values?.[0] === 'string');
}

/** Every place a schema takes a string, as a path with `[]` for array items, `{key}`/`{}` for record keys/values; every union option included. */
function stringPaths(schema: Schema, prefix = ''): string[] {
  const s = unwrapSchema(schema);
  const def = s._zod.def;
  if (takesString(s)) return [prefix];
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape!).flatMap(([key, field]) => stringPaths(field, `${prefix}.${key}`));
    case 'array':
      return stringPaths(def.element!, `${prefix}[]`);
    case 'record':
      return [...(takesString(unwrapSchema(def.keyType!)) ? [`${prefix}{key}`] : []), ...stringPaths(def.valueType!, `${prefix}{}`)];
    case 'union':
      return [...new Set(def.options!.flatMap((option) => stringPaths(option, prefix)))];
    default:
      return [];
  }
}

/** A string in a concrete input: where it is (`at`), its schema path, and whether it is a record key. */
interface StringLeaf {
  at: (string | number)[];
  path: string;
  isKey: boolean;
}

/** The strings of a valid input, found by walking it together with its schema (union options by which one accepts the value). */
function stringLeaves(schema: Schema, value: unknown, at: (string | number)[] = [], prefix = ''): StringLeaf[] {
  const s = unwrapSchema(schema);
  const def = s._zod.def;
  if (value === undefined || value === null) return [];
  if (takesString(s)) return typeof value === 'string' ? [{ at, path: prefix, isKey: false }] : [];
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape!).flatMap(([key, field]) => stringLeaves(field, (value as Record<string, unknown>)[key], [...at, key], `${prefix}.${key}`));
    case 'array':
      return (value as unknown[]).flatMap((item, i) => stringLeaves(def.element!, item, [...at, i], `${prefix}[]`));
    case 'record':
      return Object.entries(value as Record<string, unknown>).flatMap(([key, item]) => [
        { at: [...at, key], path: `${prefix}{key}`, isKey: true },
        ...stringLeaves(def.valueType!, item, [...at, key], `${prefix}{}`),
      ]);
    case 'union': {
      const option = def.options!.find((o) => o.safeParse(value).success);
      return option ? stringLeaves(option, value, at, prefix) : [];
    }
    default:
      return [];
  }
}

/** A copy of `input` with the string at `leaf` replaced by `text` (for a record key: the key renamed, its value kept). */
function withString(input: Json, leaf: StringLeaf, text: string): Json {
  const copy = structuredClone(input);
  let parent = copy as Record<string | number, Json>;
  for (const step of leaf.at.slice(0, -1)) parent = parent[step] as Record<string | number, Json>;
  const last = leaf.at.at(-1)!;
  if (leaf.isKey) {
    const kept = parent[last]!;
    delete parent[last];
    Object.defineProperty(parent, text, { value: kept, enumerable: true, writable: true, configurable: true });
  } else {
    parent[last] = text;
  }
  return copy;
}

/**
 * Whether garbage may be answered 200: a procedure without input ignores what is sent; one with
 * input must get an object its schema accepts (unknown keys are dropped, as zod objects do). A
 * string, number, array or null is never an input, whatever a schema would let through.
 */
function validInput(p: { _def: { inputs: unknown[] } }, input: Json): boolean {
  if (p._def.inputs.length === 0) return true;
  const isObject = typeof input === 'object' && input !== null && !Array.isArray(input);
  return isObject && p._def.inputs.every((schema) => (schema as Schema).safeParse(input).success);
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
    return (await call(path, type, input)).status;
  }

  /** One call over HTTP; for a subscription, the status of its first event. `data` is a query's or mutation's result. */
  async function call(path: string, type: string, input: unknown): Promise<{ status: number; data?: unknown; error?: string }> {
    const json = JSON.stringify(input);
    const answer = async (r: Response) => {
      const text = await r.text();
      try {
        const body = JSON.parse(text) as { result?: { data?: unknown }; error?: { message?: string } };
        return { status: r.status, data: body.result?.data, error: body.error?.message };
      } catch {
        return { status: r.status };
      }
    };
    if (type === 'mutation') {
      return answer(await fetch(`${served.url}/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mailroom-csrf': '1' }, body: json }));
    }
    const controller = new AbortController();
    const r = await fetch(`${served.url}/trpc/${path}?input=${encodeURIComponent(json)}`, {
      headers: type === 'subscription' ? { accept: 'text/event-stream' } : {},
      signal: controller.signal,
    });
    if (type !== 'subscription' || r.status !== 200) return answer(r);
    // An SSE stream answers 200, then `connected`, then the first event: data, or the error (input errors included).
    const reader = r.body!.getReader();
    const decoder = new TextDecoder();
    const idle = setTimeout(() => controller.abort(), 5_000);
    let text = '';
    try {
      for (;;) {
        const events = text.split('\n\n').slice(0, -1).filter((e) => !e.includes('event: connected') && /^(event|data): /m.test(e));
        if (events.length > 0) {
          const code = events[0]!.includes('event: serialized-error') ? /"httpStatus":(\d+)/.exec(events[0]!) : null;
          return { status: code ? Number(code[1]) : 200 };
        }
        const { value, done } = await reader.read();
        if (done) return { status: 200 };
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      // Open, and nothing to say within 5 s.
      return { status: 200 };
    } finally {
      clearTimeout(idle);
      controller.abort();
    }
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
    await memory.publish('fz-q', [{ key: 'k', value: utf8('v'), headers: {} }, { key: 'k2', value: utf8('v2'), headers: {} }]);
    await memory.publish('fz-q.dlq', [{ key: 'k', value: utf8('dead'), headers: { 'x-mailroom-origin': 'fz-q' } }]);
    await memory.resetOffsets('fz-g', 'fz-q', { kind: 'earliest' });
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
        if (!CLIENT_ERRORS.has(status) && !(status === 200 && validInput(p, input))) failures.push(`${path} → ${status} for ${JSON.stringify(input).slice(0, 120)}`);
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

  it('injection-style strings in every string field of an otherwise valid call: 4xx or a harmless answer, nothing published, moved or contacted', async () => {
    const trapHits: string[] = [];
    const trap: NetServer = createServer((socket) => {
      trapHits.push(`${socket.remoteAddress}:${socket.remotePort}`);
      socket.destroy();
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    const sentinel = path.join(tmpdir(), `mailroom-fuzz-pwned-${process.pid}-${Date.now()}`);
    const injections = injectionStrings(`127.0.0.1:${(trap.address() as AddressInfo).port}`, sentinel);
    try {
      const memory = served.app.services.connections.get('memory').requireAdapter();
      const redisAdapter = served.app.services.connections.get('redis').requireAdapter();
      // Where publishes and requests with injected content land (checked byte for byte below).
      const scratch = uniqueName('fz-content');
      const reply = uniqueName('fz-reply');
      for (const name of [scratch, reply]) await memory.createDestination(name, { partitions: 1 });
      const scratchMessages = async () => {
        const out = [];
        let cursor: string | null = null;
        do {
          const page = await memory.browse({ destination: scratch, start: { from: 'oldest' }, cursor, limit: 500 });
          out.push(...page.messages);
          cursor = page.nextCursor;
        } while (cursor !== null);
        return out;
      };
      const groups = async () => (await memory.listConsumerGroups()).map((g) => g.name).sort();
      const connections = () => served.app.services.connections.list().map(({ health: _health, ...c }) => JSON.stringify(c)).sort();
      const tasksBefore = new Set(served.app.services.redrive.list().map((t) => t.id));
      const before = await state();
      const groupsBefore = await groups();
      const connectionsBefore = connections();

      const place = async (adapter: BrokerAdapter, connectionId: string, destination: string, dlq: string, pendingId: string) => {
        const page = await adapter.browse({ destination, start: { from: 'oldest' }, limit: 1 });
        return { connectionId, destination, dlq, pendingId, position: page.messages[0]!.position!, cursor: page.nextCursor! };
      };
      const targets = [await place(memory, 'memory', 'fz-q', 'fz-q.dlq', '0:99'), await place(redisAdapter, 'redis', stream, `${stream}:dlq`, '0-1')];
      const dryRun = await served.app.caller.redrive.start({ connectionId: 'memory', source: 'fz-q.dlq', target: 'fz-q', dryRun: true });
      const taskId = await waitFor('dry run done', () => (served.app.services.redrive.get(dryRun.id).status === 'completed' ? dryRun.id : null));
      const since = new Date(Date.now() - 60_000).toISOString();
      const message: Json = { key: 'k', headers: { h: 'v' }, value: { encoding: 'text', data: 'x' } };
      type Base = { input: Json; status?: number[]; destructive?: boolean };

      /** Valid calls, one or more per procedure, together filling every string field of its input (checked below). */
      const basesFor = (procedure: string, t: (typeof targets)[number]): Base[] => {
        const c = t.connectionId;
        switch (procedure) {
          case 'connections.get':
          case 'deadLetters.list':
          case 'redrive.list':
          case 'metrics.live':
            return [{ input: { connectionId: c } }];
          case 'connections.health':
            return [{ input: { intervalMs: 1000, lastEventId: 'fz.1' } }];
          case 'destinations.list':
            return [{ input: { connectionId: c, search: 'fz', sort: 'depth', dir: 'desc', offset: 0, limit: 10, deadLettersOnly: false } }];
          case 'destinations.describe':
          case 'destinations.deadLetterName':
            return [{ input: { connectionId: c, name: t.destination } }];
          case 'destinations.create':
            // An existing name: the valid call is a CONFLICT, so an accepted injection cannot create anything.
            return [{ input: { connectionId: c, name: t.destination, partitions: 1, type: 'topic', deadLetter: { destination: t.dlq, maxDeliveries: 3 } }, status: [409] }];
          case 'destinations.delete':
          case 'destinations.purge':
            // Never sent as is: each case replaces one of its two strings, so the call must be refused.
            return [{ input: { connectionId: c, name: t.destination }, destructive: true }];
          case 'messages.browse':
            return [
              { input: { connectionId: c, destination: t.destination, start: { from: 'position', position: t.position }, partition: 0, limit: 5, filter: 'key == "k"', force: false } },
              { input: { connectionId: c, destination: t.destination, start: { from: 'timestamp', timestamp: since }, cursor: t.cursor, limit: 5 } },
            ];
          case 'messages.tail':
            return [{ input: { connectionId: c, destination: t.destination, filter: 'key == "k"', force: false, lastEventId: 'fz.1' } }];
          case 'messages.publish':
            return [
              { input: { connectionId: c, destination: scratch, messages: [message], copies: 1 } },
              { input: { connectionId: c, destination: scratch, messages: [{ key: 'k', headers: {}, value: { encoding: 'json', data: '{"a":1}' } }, { key: null, headers: {}, value: { encoding: 'base64', data: 'eA==' } }] } },
              { input: { connectionId: c, destination: scratch, messages: [{ ...(message as object), properties: { messageId: 'm-1', correlationId: 'c-1', replyTo: reply, contentType: 'text/plain' } }] } },
              // The broker drops a repeated deduplication id (counted below).
              { input: { connectionId: c, destination: scratch, messages: [{ ...(message as object), properties: { deduplicationId: 'd-1' } }] } },
              // Properties memory does not honour: refused (405) whatever the strings are.
              { input: { connectionId: c, destination: scratch, messages: [{ ...(message as object), properties: { groupId: 'g', routingKey: 'rk' } }] }, status: [405] },
            ];
          case 'messages.request':
            return [
              { input: { connectionId: c, destination: scratch, replyTo: reply, message, timeoutMs: 100 }, status: [408] },
              { input: { connectionId: c, destination: scratch, replyTo: reply, message: { ...(message as object), properties: { messageId: 'm-1', correlationId: 'c-1', replyTo: reply, contentType: 'text/plain', deduplicationId: 'd-1' } }, timeoutMs: 100 }, status: [408] },
              { input: { connectionId: c, destination: scratch, replyTo: reply, message: { ...(message as object), properties: { groupId: 'g', routingKey: 'rk' } }, timeoutMs: 100 }, status: [405] },
            ];
          case 'redrive.start':
            return [
              { input: { connectionId: c, source: t.dlq, target: t.destination, selection: { kind: 'filter', expression: 'key == "nothing has this key"' }, ratePerSecond: null, dryRun: false } },
              { input: { connectionId: c, source: t.dlq, target: t.destination, selection: { kind: 'ids', ids: [t.pendingId] }, dryRun: false } },
            ];
          case 'redrive.get':
          case 'redrive.cancel':
            return [{ input: { taskId } }];
          case 'redrive.progress':
            return [{ input: { taskId, minIntervalMs: 0, lastEventId: `${taskId}.1` } }];
          case 'groups.list':
            return [{ input: { connectionId: c, destination: t.destination } }];
          case 'groups.describe':
            return [{ input: { connectionId: c, name: 'fz-g', destination: t.destination } }];
          case 'groups.resetOffsets':
            return [
              { input: { connectionId: c, group: 'fz-g', destination: t.destination, target: { kind: 'timestamp', timestamp: since } } },
              { input: { connectionId: c, group: 'fz-g', destination: t.destination, target: { kind: 'offset', partition: 0, offset: '0' } } },
            ];
          case 'pending.list':
            return [{ input: { connectionId: c, destination: t.destination, group: 'fz-g', limit: 10 } }];
          case 'pending.ack':
            return [{ input: { connectionId: c, destination: t.destination, group: 'fz-g', ids: [t.pendingId] } }];
          case 'pending.claim':
            return [{ input: { connectionId: c, destination: t.destination, group: 'fz-g', consumer: 'fz-c', ids: [t.pendingId] } }];
          case 'metrics.snapshot':
            return [{ input: { connectionId: c, maxAgeMs: 60_000 } }];
          case 'filters.validate':
            return [{ input: { expression: 'key == "k"' } }];
          case 'fitness.scores':
            return [{ input: { connectionId: c, destinations: 'fz-*', refresh: false } }];
          case 'fitness.live':
            return [{ input: { connectionId: c, destinations: 'fz-*', refresh: false, intervalMs: 1000, lastEventId: 'fz.1' } }];
          case 'session.signIn':
            return [{ input: { username: 'fuzz', password: 'fuzz' }, status: [401, 429] }];
          case 'audit.list':
            return [{ input: { connectionId: c, action: 'messages.publish', user: 'fuzz', result: 'ok', since, until: new Date(Date.now() + 3_600_000).toISOString(), search: 'fz', offset: 0, limit: 10 } }];
          default:
            return [];
        }
      };

      // Every base is a valid call, and together they fill every string field of every procedure.
      const invalidBases: string[] = [];
      const uncovered: string[] = [];
      const cases: { path: string; kind: string; target: string; base: Json; leaf: StringLeaf }[] = [];
      for (const [procedure, p] of procedures()) {
        const schema = p._def.inputs[0] as Schema | undefined;
        if (!schema) continue;
        // Mutations run on the embedded broker only: on Redis most of these strings are legal stream names, and a publish there would be correct.
        // Procedures that name no connection run once.
        const connectionField = unwrapSchema(schema)._zod.def.shape?.connectionId;
        const onRedis = p._def.type !== 'mutation' && connectionField !== undefined && !connectionField.safeParse(undefined).success;
        for (const t of onRedis ? targets : targets.slice(0, 1)) {
          const bases = basesFor(procedure, t);
          const filled = new Set<string>();
          for (const base of bases) {
            if (!base.destructive) {
              const { status } = await call(procedure, p._def.type, base.input);
              if (!(base.status ?? [200]).includes(status)) invalidBases.push(`${t.connectionId} ${procedure} ${JSON.stringify(base.input)} → ${status}`);
            }
            for (const leaf of stringLeaves(schema, base.input)) {
              // Each string field once per procedure and broker (the first valid call that has it).
              if (!filled.has(leaf.path)) cases.push({ path: procedure, kind: p._def.type, target: t.connectionId, base: base.input, leaf });
              filled.add(leaf.path);
            }
          }
          for (const wanted of stringPaths(schema)) if (!filled.has(wanted)) uncovered.push(`${procedure}${wanted}`);
        }
      }
      expect(invalidBases).toEqual([]);
      expect(uncovered).toEqual([]);

      // Publishes and requests the valid calls above made: their content is the base's.
      let published = (await scratchMessages()).length - 1;
      const deduplicationIds = new Set(['d-1']);
      const sentToRedis = new Set<string>();
      const sentContent = new Set<string>(['k', 'h', 'v', 'x', '{"a":1}']);
      const allowedGroups = new Set(groupsBefore);
      const failures: string[] = [];
      const run = async (c: (typeof cases)[number], text: string) => {
        const input = withString(c.base, c.leaf, text);
        if (c.target === 'redis') sentToRedis.add(text);
        if (c.path === 'messages.publish' || c.path === 'messages.request') sentContent.add(text);
        const { status, data, error } = await call(c.path, c.kind, input);
        if (!CLIENT_ERRORS.has(status) && status !== 200) failures.push(`${c.target} ${c.path}${c.leaf.path} = ${JSON.stringify(text).slice(0, 80)} → ${status}`);
        if (c.path === 'messages.publish' && status === 200) {
          const deduplicationId = (input as { messages: { properties?: { deduplicationId?: string } }[] }).messages[0]!.properties?.deduplicationId;
          if (deduplicationId === undefined) published += (data as { published: number }).published;
          else deduplicationIds.add(deduplicationId);
        }
        // Timed out waiting for the reply: the request itself was published.
        if (c.path === 'messages.request' && status === 408 && error?.startsWith('No reply on ')) published += 1;
        if (c.path === 'groups.resetOffsets' && c.leaf.path === '.group' && status === 200) allowedGroups.add(text);
      };
      const all = cases.flatMap((c) => injections.map((text) => [c, text] as const));
      for (let i = 0; i < all.length; i += 16) await Promise.all(all.slice(i, i + 16).map(([c, text]) => run(c, text)));

      // The same strings inside otherwise valid values, generated.
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...cases), fc.constantFrom(...injections), fc.nat(), async (c, injection, at) => {
          const valid = c.leaf.isKey ? String(c.leaf.at.at(-1)) : String(c.leaf.at.reduce<Json>((v, step) => (v as Record<string | number, Json>)[step]!, c.base));
          const cut = at % (valid.length + 1);
          await run(c, `${valid.slice(0, cut)}${injection}${valid.slice(cut)}`);
          return true;
        }),
        { numRuns: 500, seed: 56 },
      );

      expect(failures).toEqual([]);
      expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
      // Nothing published or moved on the seeded destinations and streams, no destination created.
      for (const t of served.app.services.redrive.list()) {
        if (tasksBefore.has(t.id) || t.id === taskId) continue;
        const done = await waitFor(`task ${t.id}`, () => (served.app.services.redrive.get(t.id).status === 'running' ? null : served.app.services.redrive.get(t.id)));
        expect([t.id, done.progress.moved]).toEqual([t.id, 0]);
      }
      const seeded = (st: Awaited<ReturnType<typeof state>>) => ({ ...st, tasks: 0, names: st.names.filter((n) => !n.startsWith(`${scratch}:`) && !n.startsWith(`${reply}:`)) });
      expect(seeded(await state())).toEqual(seeded(before));
      expect((await groups()).filter((g) => !allowedGroups.has(g))).toEqual([]);
      const existing = await redis.pipeline([...sentToRedis].flatMap((k) => [['exists', k], ['exists', `${k}:dlq`]])).exec();
      expect(existing!.map(([, n]) => n).filter((n) => n !== 0)).toEqual([]);
      // No connection added or changed, no address contacted, no code run.
      expect(connections()).toEqual(connectionsBefore);
      expect(trapHits).toEqual([]);
      expect(existsSync(sentinel)).toBe(false);
      // What was published is the strings as sent (a text value is UTF-8, so a lone surrogate becomes U+FFFD).
      const landed = await scratchMessages();
      expect(landed).toHaveLength(published + deduplicationIds.size);
      const asSent = new Set([...sentContent].flatMap((t) => [t, fromUtf8(utf8(t))]));
      const altered = landed.flatMap((m) => [
        ...(m.key === null || asSent.has(m.key) ? [] : [`key ${JSON.stringify(m.key)}`]),
        ...Object.entries(m.headers)
          .filter(([name]) => name !== Headers.correlationId && name !== Headers.replyTo)
          .flatMap(([name, value]) => [...(asSent.has(name) ? [] : [`header name ${JSON.stringify(name)}`]), ...(asSent.has(value) ? [] : [`header ${JSON.stringify(value)}`])]),
        ...(asSent.has(fromUtf8(m.value)) ? [] : [`value ${JSON.stringify(fromUtf8(m.value))}`]),
      ]);
      expect(altered).toEqual([]);
      for (const name of [scratch, reply]) await memory.deleteDestination(name);
    } finally {
      trap.close();
      rmSync(sentinel, { force: true });
    }
  }, 300_000);

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
