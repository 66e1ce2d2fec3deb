import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { REDIS_URL, binaryPayload, uniqueName } from './endpoints';

describe('Redis smoke (ioredis)', () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 5_000 });
  const stream = uniqueName('redis');

  afterAll(async () => {
    await redis.del(stream);
    redis.disconnect();
  });

  it('runs Redis 7 or newer (Streams commands the adapter relies on)', async () => {
    const info = await redis.info('server');
    const version = /redis_version:(\d+)\./.exec(info)?.[1];
    expect(Number(version)).toBeGreaterThanOrEqual(7);
  });

  it('XADDs one entry and XRANGE returns the same bytes', async () => {
    const id = await redis.xaddBuffer(stream, '*', 'key', 'order-1', 'value', binaryPayload());
    const entries = await redis.xrangeBuffer(stream, '-', '+');
    expect(entries).toHaveLength(1);
    const [entryId, fields] = entries[0]!;
    expect(entryId.toString()).toBe(id?.toString());
    expect(fields.map((f) => f.toString('hex'))).toEqual([
      Buffer.from('key').toString('hex'),
      Buffer.from('order-1').toString('hex'),
      Buffer.from('value').toString('hex'),
      binaryPayload().toString('hex'),
    ]);
  });
});
