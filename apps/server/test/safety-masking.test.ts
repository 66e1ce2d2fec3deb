import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveRequestsOnce, utf8, type BrokerAdapter } from '@mailroom/core';
import type { RedriveTask, TailStreamEvent, WireMessage } from '../src/router';
import { fromB64, serve, tempDir, testApp, trpcClient, waitFor, type Served } from './helpers';

const secretValue = {
  card: { number: '4111111111111111', holder: 'Ann' },
  user: { name: 'ann', password: 'hunter2', nested: { password: 'p2' } },
  items: [{ iban: 'DE89370400440532013000' }, { iban: 'GB29NWBK60161331926819' }],
  note: 'ssn 123-45-6789 on file',
};
const secretHeaders = { Authorization: 'Bearer abc.def', 'X-Card-Last4': '1111', trace: 't-1' };

const MASKED_VALUE = {
  card: { number: '***', holder: 'Ann' },
  user: { name: 'ann', password: '***', nested: { password: '***' } },
  items: [{ iban: '***' }, { iban: '***' }],
  note: 'ssn *** on file',
};
const MASKED_HEADERS = { Authorization: '***', 'X-Card-Last4': '***', trace: 't-1' };

function expectMasked(m: WireMessage, extraHeaders: Record<string, string> = {}): void {
  expect(JSON.parse(fromB64(m.valueBase64).toString('utf8'))).toEqual(MASKED_VALUE);
  expect(m.headers).toEqual({ ...MASKED_HEADERS, ...extraHeaders });
  expect(m.key).toBe('***');
  expect(m.masked).toBe(true);
  expect(m.size).toBe(fromB64(m.valueBase64).byteLength);
  const wire = JSON.stringify(m);
  for (const secret of ['4111111111111111', 'hunter2', 'DE89370400440532013000', '123-45-6789', 'Bearer abc.def', 'customer-42']) expect(wire).not.toContain(secret);
}

describe('masking on every path a message leaves the server', () => {
  const data = tempDir();
  let served: Served;
  let adapter: BrokerAdapter;
  const publishSecret = (destination: string, headers: Record<string, string> = {}) =>
    adapter.publish(destination, [{ key: 'customer-42', value: utf8(JSON.stringify(secretValue)), headers: { ...secretHeaders, ...headers } }]);

  beforeAll(async () => {
    served = await serve(
      await testApp({
        dataDir: data.dir,
        memory: { enabled: true, demoTraffic: false },
        security: {
          auth: { anonymous: { role: 'operator' } },
          masking: [
            {
              connection: 'memory',
              destination: 'payments',
              headers: ['authorization', 'x-card-*'],
              jsonPaths: ['$.card.number', '$..password', '$.items[*].iban'],
              patterns: [{ pattern: '\\b\\d{3}-\\d{2}-\\d{4}\\b' }],
              key: true,
            },
          ],
        },
      }),
    );
    adapter = served.app.services.connections.get('memory').requireAdapter();
    for (const name of ['payments', 'payments.dlq', 'orders', 'rpc']) await adapter.createDestination(name, { partitions: 1 });
  });
  afterAll(async () => {
    await served?.app.close();
    data.remove();
  });

  it('browse: header, JSON path and regex rules; unmatched destinations and binary values pass unchanged', async () => {
    await publishSecret('payments');
    await adapter.publish('orders', [{ key: 'customer-42', value: utf8(JSON.stringify(secretValue)), headers: secretHeaders }]);
    await adapter.publish('payments', [{ key: null, value: new Uint8Array([0xff, 0xfe, 0x31, 0x32, 0x33, 0x2d, 0x34, 0x35]), headers: {} }]);
    const client = trpcClient(served.url);
    const page = await client.messages.browse.query({ connectionId: 'memory', destination: 'payments', start: { from: 'oldest' } });
    expect(page.messages).toHaveLength(2);
    expectMasked(page.messages[0]!);
    expect([...fromB64(page.messages[1]!.valueBase64)]).toEqual([0xff, 0xfe, 0x31, 0x32, 0x33, 0x2d, 0x34, 0x35]);
    expect(page.messages[1]!.masked).toBe(false);

    const orders = await client.messages.browse.query({ connectionId: 'memory', destination: 'orders', start: { from: 'oldest' } });
    expect(JSON.parse(fromB64(orders.messages[0]!.valueBase64).toString('utf8'))).toEqual(secretValue);
    expect(orders.messages[0]!.masked).toBe(false);
  });

  it('a filter sees the masked message, so it cannot be used to guess a masked value', async () => {
    const client = trpcClient(served.url);
    const count = async (filter: string) => (await client.messages.browse.query({ connectionId: 'memory', destination: 'payments', start: { from: 'oldest' }, filter })).messages.length;
    expect(await count('json.card.number == "4111111111111111"')).toBe(0);
    expect(await count('json.card.number startsWith "4"')).toBe(0);
    expect(await count('headers.Authorization contains "Bearer"')).toBe(0);
    expect(await count('key == "customer-42"')).toBe(0);
    expect(await count('json.card.holder == "Ann"')).toBe(1);
    expect(await count('json.card.number == "***"')).toBe(1);
  });

  it('the dead-letter view: a rule for the origin covers messages dead-lettered from it', async () => {
    await publishSecret('payments.dlq', { 'x-mailroom-origin': 'payments' });
    const page = await trpcClient(served.url).messages.browse.query({ connectionId: 'memory', destination: 'payments.dlq', start: { from: 'oldest' } });
    expect(page.messages[0]!.deadLetter?.origin).toBe('payments');
    expectMasked(page.messages[0]!, { 'x-mailroom-origin': 'payments' });
  });

  it('live tail over SSE', async () => {
    const client = trpcClient(served.url);
    const events: TailStreamEvent[] = [];
    const sub = client.messages.tail.subscribe({ connectionId: 'memory', destination: 'payments' }, { onData: (e) => events.push(e.data) });
    try {
      await waitFor('open', () => events.some((e) => e.kind === 'open'));
      await publishSecret('payments');
      const batch = await waitFor('batch', () => events.find((e) => e.kind === 'batch' && e.messages.length > 0));
      expectMasked(batch.messages[0]!);
    } finally {
      sub.unsubscribe();
    }
  });

  it('a redrive filter sees the masked message too (a dry run is no oracle), and the redrive moves the original bytes', async () => {
    const client = trpcClient(served.url);
    const dlq = 'payments.rd-dlq';
    await adapter.createDestination(dlq, { partitions: 1 });
    const origin = { 'x-mailroom-origin': 'payments' };
    await publishSecret(dlq, origin);
    await publishSecret(dlq, origin);
    await adapter.publish(dlq, [{ key: 'other', value: utf8(JSON.stringify({ card: { holder: 'Bo' } })), headers: origin }]);
    const originals = (await adapter.browse({ destination: dlq, start: { from: 'oldest' }, cursor: null, partition: null, limit: 10, filter: null, force: false })).messages;
    expect(originals).toHaveLength(3);

    const run = async (expression: string, dryRun: boolean): Promise<RedriveTask> => {
      const task = await client.redrive.start.mutate({ connectionId: 'memory', source: dlq, target: 'payments', selection: { kind: 'filter', expression }, dryRun });
      return waitFor(`redrive ${expression}`, async () => {
        const t = await client.redrive.get.query({ taskId: task.id });
        return t.status === 'running' ? null : t;
      });
    };
    // Each of these matches two messages unmasked; masked, none.
    for (const probe of ['json.card.number == "4111111111111111"', 'json.card.number startsWith "4"', 'json.user.password == "hunter2"', 'key == "customer-42"', 'headers.Authorization contains "Bearer"', 'value contains "123-45-6789"']) {
      const task = await run(probe, true);
      expect([probe, task.status, task.progress.moved, task.progress.skipped]).toEqual([probe, 'completed', 0, 3]);
    }
    const dry = await run('json.card.number == "***"', true);
    expect([dry.progress.moved, dry.progress.skipped]).toEqual([2, 1]);

    const depth = async (name: string) => (await adapter.describeDestination(name)).depth ?? Number.NaN;
    const before = await depth('payments');
    const real = await run('json.card.number == "***"', false);
    expect([real.status, real.progress.moved, real.progress.skipped]).toEqual(['completed', 2, 1]);
    expect(await depth('payments')).toBe(before + 2);
    expect(await depth(dlq)).toBe(1);
    const landed = (await adapter.browse({ destination: 'payments', start: { from: 'newest' }, cursor: null, partition: null, limit: 2, filter: null, force: false })).messages.reverse();
    for (const [i, message] of landed.entries()) {
      const original = originals[i]!;
      expect(Buffer.from(message.value).equals(Buffer.from(original.value))).toBe(true);
      expect(message.key).toBe('customer-42');
      expect(message.headers).toMatchObject(secretHeaders);
    }
  });

  it('request-reply: the reply is masked by the rules of the destination it came back on', async () => {
    const responder = adapter.createConsumer({ group: 'masking-responder' });
    await responder.subscribe(['rpc']);
    const producer = adapter.createProducer();
    let serving = true;
    const loop = (async () => {
      while (serving) await serveRequestsOnce(responder, producer, async () => ({ key: 'customer-42', headers: secretHeaders, value: utf8(JSON.stringify(secretValue)) }), 100);
    })();
    try {
      const result = await trpcClient(served.url).messages.request.mutate({ connectionId: 'memory', destination: 'rpc', replyTo: 'payments', message: { key: null, headers: {}, value: { encoding: 'text', data: 'ping' } }, timeoutMs: 5_000 });
      const { 'correlation-id': correlation, ...rest } = result.reply.headers;
      expect(correlation).toBeTruthy();
      expectMasked({ ...result.reply, headers: rest });
    } finally {
      serving = false;
      await loop;
      await responder.close();
      await producer.close();
    }
  });
});
