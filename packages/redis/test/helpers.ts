import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { MessageConsumer, ReceivedMessage } from '@mailroom/core';
import { createRedisAdapter, fromRedisEnv, type RedisAdapter, type RedisAdapterConfig } from '../src/index';

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Every key a test touches starts with this, so cleanup never touches anyone else's keys. */
export function uniquePrefix(label: string): string {
  return `mr-test-redis-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** A plain ioredis client for checking what the adapter did, straight from Redis. */
export function rawClient(): Redis {
  return new Redis(REDIS_URL, { protocol: 2, maxRetriesPerRequest: 1 });
}

export function adapterFor(config: RedisAdapterConfig = {}): RedisAdapter {
  return createRedisAdapter({ ...fromRedisEnv(), ...config });
}

/** Deletes every key under `prefix` with SCAN + UNLINK (never FLUSH*: Redis is shared). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(value: Uint8Array): string {
  return new TextDecoder().decode(value);
}

/** Polls until `count` messages came or `ms` passed. */
export async function pollUntil(consumer: MessageConsumer, count: number, ms: number): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  const end = Date.now() + ms;
  while (out.length < count && Date.now() < end) out.push(...(await consumer.poll(Math.min(200, Math.max(1, end - Date.now())))));
  return out;
}

/** XINFO GROUPS as records, straight from Redis. */
export async function xinfoGroups(redis: Redis, stream: string): Promise<Record<string, string | number | null>[]> {
  const reply = (await redis.call('XINFO', 'GROUPS', stream)) as unknown[][];
  return reply.map((flat) => {
    const r: Record<string, string | number | null> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) r[String(flat[i])] = flat[i + 1] as string | number | null;
    return r;
  });
}
