import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Endpoints } from '../config';

export function rabbitConnect(endpoints: Endpoints, name = 'mailroom-bench'): Promise<ChannelModel> {
  return amqp.connect(endpoints.rabbitmqUrl, { clientProperties: { connection_name: name } });
}

function managementAuth(endpoints: Endpoints): string {
  const url = new URL(endpoints.rabbitmqUrl);
  const user = url.username ? decodeURIComponent(url.username) : 'guest';
  const password = url.password ? decodeURIComponent(url.password) : 'guest';
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export function vhostOf(endpoints: Endpoints): string {
  const path = new URL(endpoints.rabbitmqUrl).pathname.replace(/^\//, '');
  return path === '' ? '/' : decodeURIComponent(path);
}

/** One management API request; throws with the body on a non-2xx answer. */
export async function management(endpoints: Endpoints, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${endpoints.rabbitmqManagementUrl}/api${path}`, {
    method,
    headers: { authorization: managementAuth(endpoints), 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`RabbitMQ management ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return text === '' ? null : (JSON.parse(text) as unknown);
}

/**
 * Publishes `count` persistent messages to `queue` (default exchange) over a confirm channel,
 * `batch` at a time, waiting for the confirms of each batch.
 */
export async function fillQueue(channel: ConfirmChannel, queue: string, count: number, value: (n: number) => string, batch = 1000, headers?: (n: number) => Record<string, unknown>): Promise<void> {
  for (let from = 0; from < count; from += batch) {
    const to = Math.min(count, from + batch);
    for (let n = from; n < to; n++) {
      channel.publish('', queue, Buffer.from(value(n)), { persistent: true, messageId: `m-${n}`, ...(headers ? { headers: headers(n) } : {}) });
    }
    await channel.waitForConfirms();
  }
}

/** Ready messages in a queue, now (a passive declare; management statistics lag by seconds). */
export async function queueDepth(model: ChannelModel, queue: string): Promise<number> {
  const channel = await model.createChannel();
  try {
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await channel.close().catch(() => undefined);
  }
}
