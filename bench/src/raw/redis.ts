import { Redis } from 'ioredis';
import type { Endpoints } from '../config';

export function redisClient(endpoints: Endpoints): Redis {
  return new Redis(endpoints.redisUrl, { protocol: 2, maxRetriesPerRequest: 3, connectionName: 'mailroom-bench' });
}

/** The adapter's field layout (key, timestamp, value), so Mailroom reads the entries as its own. */
export function entryFields(n: number, value: string): string[] {
  return ['key', `k-${n % 64}`, 'timestamp', String(Date.now()), 'value', value];
}

/** XADDs `count` entries, `batch` per pipeline, `inFlight` pipelines at once. */
export async function fillStream(
  redis: Redis,
  stream: string,
  count: number,
  value: (n: number) => string,
  options: { batch?: number; inFlight?: number; extraFields?: (n: number) => string[] } = {},
): Promise<void> {
  const batch = options.batch ?? 1000;
  const inFlight = options.inFlight ?? 2;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const from = next;
      const to = Math.min(count, from + batch);
      next = to;
      const pipeline = redis.pipeline();
      for (let n = from; n < to; n++) pipeline.xadd(stream, '*', ...entryFields(n, value(n)), ...(options.extraFields?.(n) ?? []));
      const results = await pipeline.exec();
      const failed = results?.find(([error]) => error !== null);
      if (failed) throw failed[0];
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/** UNLINKs every key matching `pattern` (SCAN, never FLUSH). */
export async function deleteMatching(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) removed += await redis.unlink(...keys);
  } while (cursor !== '0');
  return removed;
}

/** Field array [f1, v1, f2, v2...] of an XRANGE reply as a lookup. */
export function fieldValue(fields: Buffer[], name: string): Buffer | null {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i]!.toString('latin1') === name) return fields[i + 1]!;
  return null;
}
