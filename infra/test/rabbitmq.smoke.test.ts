import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { RABBITMQ_MANAGEMENT_URL, RABBITMQ_URL, binaryPayload, uniqueName } from './endpoints';

function managementAuth(): { base: URL; authorization: string } {
  const base = new URL(RABBITMQ_MANAGEMENT_URL);
  const amqpUrl = new URL(RABBITMQ_URL);
  const user = decodeURIComponent(base.username || amqpUrl.username || 'guest');
  const pass = decodeURIComponent(base.password || amqpUrl.password || 'guest');
  base.username = '';
  base.password = '';
  return { base, authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
}

async function management(path: string): Promise<{ status: number; body: unknown }> {
  const { base, authorization } = managementAuth();
  const res = await fetch(new URL(path, base), { headers: { authorization }, signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: res.status === 200 ? await res.json() : null };
}

describe('RabbitMQ smoke (amqplib + management API)', () => {
  const queue = uniqueName('rabbit');
  let connection: ChannelModel;
  let channel: ConfirmChannel;

  beforeAll(async () => {
    connection = await amqp.connect(RABBITMQ_URL);
    channel = await connection.createConfirmChannel();
    await channel.assertQueue(queue, { durable: false, autoDelete: false });
  });

  afterAll(async () => {
    await channel.deleteQueue(queue);
    await connection.close();
  });

  it('publishes one confirmed message and gets back the same bytes and headers', async () => {
    await new Promise<void>((resolve, reject) => {
      channel.sendToQueue(queue, binaryPayload(), { headers: { 'x-order': 'order-1' }, messageId: 'm-1' }, (err) =>
        err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
      );
    });
    const got = await channel.get(queue, { noAck: false });
    expect(got).not.toBe(false);
    if (got === false) return;
    channel.ack(got);
    expect(Buffer.compare(got.content, binaryPayload())).toBe(0);
    expect(got.properties.headers?.['x-order']).toBe('order-1');
    expect(got.properties.messageId).toBe('m-1');
    expect(got.fields.redelivered).toBe(false);
    expect(await channel.get(queue, { noAck: false })).toBe(false);
  });

  it('management API answers /api/overview and knows the queue', async () => {
    const overview = await management('/api/overview');
    expect(overview.status).toBe(200);
    expect((overview.body as { rabbitmq_version?: string }).rabbitmq_version).toMatch(/^\d+\.\d+\.\d+/);
    const q = await management(`/api/queues/%2F/${encodeURIComponent(queue)}`);
    expect(q.status).toBe(200);
    expect((q.body as { name?: string }).name).toBe(queue);
    expect((await management(`/api/queues/%2F/${encodeURIComponent(queue)}-absent`)).status).toBe(404);
  });
});
