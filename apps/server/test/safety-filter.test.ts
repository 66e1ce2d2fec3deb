import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { utf8 } from '@mailroom/core';
import { Masker } from '../src/masking/masker';
import { maskingRuleSchema } from '../src/security/config';
import { serve, tempDir, testApp, trpcClient, type Served } from './helpers';
import { outcome, procedures } from './safety-helpers';

const CODE_ATTEMPTS = [
  'constructor.constructor("return process")()',
  'this.constructor.constructor("process.exit(1)")()',
  'process.exit(1)',
  'require("fs").readFileSync("/etc/passwd")',
  'import("node:child_process")',
  'globalThis.fetch("http://127.0.0.1:1/")',
  '`${process.exit(1)}`',
  'key == "a"; process.exit(1)',
  'key == (function(){ return 1 })()',
  'eval("1")',
  'new Function("return 1")',
  'json.a.constructor.constructor("return this")()',
  'key == "a" || process',
  '((((((((((((((((((((((((((((((((((key == "a"))))))))))))))))))))))))))))))))))',
  'key in [' + Array.from({ length: 1001 }, (_, i) => i).join(',') + ']',
  'text matches "(a+)+$"',
  'text matches "(a|b)\\\\1"',
  'text matches "(?=a)"',
];

describe('the filter language cannot run code, reach files or the network, or stall the server', () => {
  const data = tempDir();
  let served: Served;

  beforeAll(async () => {
    served = await serve(await testApp({ dataDir: data.dir, memory: { enabled: true, demoTraffic: false } }));
    const adapter = served.app.services.connections.get('memory').requireAdapter();
    await adapter.createDestination('filter-q', { partitions: 1 });
    await adapter.publish('filter-q', [
      { key: 'big', value: utf8('a'.repeat(1024 * 1024)), headers: {} },
      { key: 'proto', value: utf8('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"a":{"b":1}}'), headers: { __proto__: 'x' } as Record<string, string> },
    ]);
  });
  afterAll(async () => {
    await served?.app.close();
    data.remove();
  });

  it('expressions that try to execute code are syntax errors, by validate and by browse (400)', async () => {
    const client = trpcClient(served.url);
    for (const expression of CODE_ATTEMPTS) {
      const validation = await client.filters.validate.query({ expression });
      expect([expression, validation.ok]).toEqual([expression, false]);
      expect([expression, await outcome(client.messages.browse.query({ connectionId: 'memory', destination: 'filter-q', filter: expression }))]).toEqual([expression, 'BAD_REQUEST']);
    }
    // The server is still up and nothing left the process.
    expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
  });

  it('prototype paths read nothing and pollute nothing', async () => {
    const client = trpcClient(served.url);
    const count = async (filter: string) => (await client.messages.browse.query({ connectionId: 'memory', destination: 'filter-q', start: { from: 'oldest' }, filter })).messages.length;
    // Own JSON keys named __proto__/constructor are data; inherited members are never reachable.
    expect(await count('json.__proto__.polluted == true')).toBe(1);
    expect(await count('json.a.constructor exists')).toBe(0);
    expect(await count('json.a.__proto__ exists')).toBe(0);
    expect(await count('json.a.b.toString exists')).toBe(0);
    expect(await count('headers.constructor exists')).toBe(0);
    expect(await count('headers.hasOwnProperty exists')).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('catastrophic regular expressions run in linear time (RE2): a 1 MiB value is scanned in well under a second', async () => {
    const client = trpcClient(served.url);
    for (const pattern of ['(a|a)*!', '.*.*.*!', '(a|aa)*!', '(a|b|ab)*!', '^(a?){25}a{25}$']) {
      const started = performance.now();
      const page = await client.messages.browse.query({ connectionId: 'memory', destination: 'filter-q', start: { from: 'oldest' }, filter: `text matches ${JSON.stringify(pattern)}` });
      expect([pattern, page.messages.length]).toEqual([pattern, 0]);
      expect(performance.now() - started).toBeLessThan(2_000);
    }
  });

  it('masking JSON paths touch own properties only', () => {
    const masker = new Masker([maskingRuleSchema.parse({ jsonPaths: ['$.__proto__.polluted', '$..constructor', '$.a.toString'] })]);
    const m = masker.mask('memory', {
      id: '1', destination: 'd', partition: 0, position: '0', key: null, headers: {}, properties: {}, timestamp: new Date(0), deliveryCount: null, redelivered: null, deadLetter: null,
      value: utf8('{"__proto__":{"polluted":true},"a":{"b":1}}'),
    });
    expect(JSON.parse(Buffer.from(m.value).toString('utf8'))).toEqual(JSON.parse('{"__proto__":{"polluted":"***"},"a":{"b":1}}'));
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('no procedure takes a broker endpoint, credentials or client properties: connections come from the config only', () => {
    const keys = new Map<string, string[]>();
    const walk = (schema: unknown, path: string, into: string[]) => {
      const def = (schema as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
      if (!def) return;
      switch (def.type) {
        case 'object':
          for (const [k, v] of Object.entries(def.shape as Record<string, z.ZodType>)) {
            into.push(`${path}${k}`);
            walk(v, `${path}${k}.`, into);
          }
          return;
        case 'array':
          return walk(def.element, `${path}[].`, into);
        case 'union':
          return (def.options as unknown[]).forEach((o) => walk(o, path, into));
        case 'record':
          into.push(`${path}<record>`);
          return walk(def.valueType, `${path}*.`, into);
        case 'pipe':
          walk(def.in, path, into);
          return walk(def.out, path, into);
        default:
          if (def.innerType) walk(def.innerType, path, into);
      }
    };
    for (const [path, p] of procedures()) {
      const found: string[] = [];
      for (const input of p._def.inputs) walk(input, '', found);
      keys.set(path, found);
    }
    const suspicious = /url|uri|host|endpoint|broker|bootstrap|sasl|ssl|tls|credential|secret|region|config|client|factory|options/i;
    const offending = [...keys].flatMap(([path, found]) => found.filter((k) => suspicious.test(k)).map((k) => `${path}: ${k}`));
    expect(offending).toEqual([]);
    // Every record-typed input is message headers (bytes that go to the broker as message data).
    const records = [...keys].flatMap(([path, found]) => found.filter((k) => k.includes('<record>')).map((k) => `${path}: ${k}`));
    expect(records).toEqual(['messages.publish: messages.[].headers.<record>', 'messages.request: message.headers.<record>']);
    expect(keys.get('session.signIn')).toEqual(['username', 'password']);
  });

  it('a connection id that the config does not declare is NOT_FOUND, whatever it looks like', async () => {
    const client = trpcClient(served.url);
    for (const connectionId of ['kafka://evil:9092', 'http://169.254.169.254/', 'redis://127.0.0.1:6379', '../memory']) {
      expect([connectionId, await outcome(client.destinations.list.query({ connectionId }))]).toEqual([connectionId, 'NOT_FOUND']);
    }
  });
});
