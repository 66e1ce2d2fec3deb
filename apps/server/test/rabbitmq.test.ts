import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import type { TailStreamEvent } from '../src/router';
import { RABBITMQ_URL, fromB64, serve, tempDir, testApp, uniqueName, waitFor, type Served } from './helpers';

const MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';

async function management<T>(path: string): Promise<T> {
  const url = new URL(RABBITMQ_URL);
  const auth = Buffer.from(`${decodeURIComponent(url.username || 'guest')}:${decodeURIComponent(url.password || 'guest')}`).toString('base64');
  const r = await fetch(`${MANAGEMENT_URL}/api${path}`, { headers: { authorization: `Basic ${auth}` } });
  if (!r.ok) throw new Error(`management ${path}: ${r.status}`);
  return (await r.json()) as T;
}

describe('RabbitMQ through the server (real broker)', () => {
  const data = tempDir();
  let served: Served;
  let connection: amqp.ChannelModel;
  let channel: amqp.Channel;
  const exchange = uniqueName('mr-srv-x');
  const queue = uniqueName('mr-srv-q');

  beforeAll(async () => {
    connection = await amqp.connect(RABBITMQ_URL);
    channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'fanout', { durable: false, autoDelete: false });
    await channel.assertQueue(queue, { durable: false });
    await channel.bindQueue(queue, exchange, '');
    served = await serve(
      await testApp({
        dataDir: data.dir,
        tail: { resumeGraceMs: 0 },
        connections: [
          { id: 'rabbit', kind: 'rabbitmq', readOnly: false, demoTraffic: false, config: { url: RABBITMQ_URL, managementUrl: MANAGEMENT_URL } },
          { id: 'rabbit-dead', kind: 'rabbitmq', readOnly: false, demoTraffic: false, config: { url: 'amqp://guest:s3cret@127.0.0.1:1', managementUrl: 'http://127.0.0.1:1', connectTimeoutMs: 1000, requestTimeoutMs: 1000 } },
        ],
      }),
    );
  });

  afterAll(async () => {
    await served?.app.close();
    await channel?.deleteQueue(queue).catch(() => undefined);
    await channel?.deleteExchange(exchange).catch(() => undefined);
    await connection?.close();
    data.remove();
  });

  it('tails a queue: messages an amqplib client publishes arrive over SSE; closing releases the temporary queue', async () => {
    const bindingsBefore = await management<unknown[]>(`/exchanges/%2F/${encodeURIComponent(exchange)}/bindings/source`);
    expect(bindingsBefore).toHaveLength(1);
    const events: { id: string; data: TailStreamEvent }[] = [];
    const errors: unknown[] = [];
    const sub = served.client.messages.tail.subscribe(
      { connectionId: 'rabbit', destination: queue },
      { onData: (e) => events.push(e as { id: string; data: TailStreamEvent }), onError: (e) => errors.push(e) },
    );
    const values = () => events.flatMap((e) => e.data.messages.map((m) => fromB64(m.valueBase64).toString('utf8')));
    await waitFor('open', () => events.length > 0 || errors.length > 0);
    expect(errors).toEqual([]);
    let n = 0;
    await waitFor('tailed', () => {
      channel.publish(exchange, '', Buffer.from(`amqp-${n++}`), { headers: { 'x-test': 'yes' } });
      return values().length > 0;
    }, 10_000, 200);
    // Once the tail is positioned, every message published afterwards arrives, in order.
    const firstSeen = Number(values()[0]!.slice('amqp-'.length));
    for (let i = 0; i < 20; i++) channel.publish(exchange, '', Buffer.from(`amqp-${n++}`), { headers: { 'x-test': 'yes' } });
    await waitFor('all', () => values().at(-1) === `amqp-${n - 1}`);
    const first = events.find((e) => e.data.messages.length > 0)!.data.messages[0]!;
    expect(first.headers['x-test']).toBe('yes');
    expect(values()).toEqual(Array.from({ length: n - firstSeen }, (_, i) => `amqp-${firstSeen + i}`));
    const during = await management<unknown[]>(`/exchanges/%2F/${encodeURIComponent(exchange)}/bindings/source`);
    expect(during).toHaveLength(2);
    sub.unsubscribe();
    await waitFor('temporary queue gone', async () => (await management<unknown[]>(`/exchanges/%2F/${encodeURIComponent(exchange)}/bindings/source`)).length === 1, 10_000, 200);
    expect(served.app.services.tails.size).toBe(0);
  });

  it('publishes through the server and browse (a peek) says it is destructive', async () => {
    await channel.purgeQueue(queue);
    await served.client.messages.publish.mutate({
      connectionId: 'rabbit',
      destination: queue,
      messages: [{ key: null, headers: { h: 'v' }, value: { encoding: 'base64', data: Buffer.from([1, 2, 3, 250]).toString('base64') } }],
    });
    const info = (await served.client.connections.get.query({ connectionId: 'rabbit' })).capabilities!;
    expect(info.peekIsDestructive).toBe(true);
    const page = await served.client.messages.browse.query({ connectionId: 'rabbit', destination: queue, limit: 10, force: true });
    expect(page.destructive).toBe(true);
    expect(page.messages.map((m) => [...fromB64(m.valueBase64)])).toEqual([[1, 2, 3, 250]]);
  });

  it('a dead RabbitMQ is SERVICE_UNAVAILABLE within 5 s and its password never shows', async () => {
    const started = Date.now();
    const error = await served.client.destinations.list.query({ connectionId: 'rabbit-dead' }).catch((e: { data?: { code: string }; message: string }) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toMatchObject({ data: { code: 'SERVICE_UNAVAILABLE' } });
    const list = JSON.stringify(await served.client.connections.list.query());
    expect(list).not.toContain('s3cret');
    expect((error as { message: string }).message).not.toContain('s3cret');
  });
});
