import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { TailStreamEvent } from '../src/router';
import { REDIS_URL, fromB64, serve, tempDir, testApp, uniqueName, waitFor, type Served } from './helpers';

type Tracked = { id: string; data: TailStreamEvent };

/** Subscribes to messages.tail through the real tRPC SSE link and records every event. */
function tail(served: Served, input: { connectionId: string; destination: string; filter?: string; lastEventId?: string }) {
  const events: Tracked[] = [];
  const errors: unknown[] = [];
  const sub = served.client.messages.tail.subscribe(input, {
    onData: (event) => events.push(event as Tracked),
    onError: (error) => errors.push(error),
  });
  const values = () => events.flatMap((e) => e.data.messages.map((m) => fromB64(m.valueBase64).toString('utf8')));
  return { events, errors, values, unsubscribe: () => sub.unsubscribe(), lastId: () => events.at(-1)?.id };
}

describe('live tail over SSE on a real Redis', () => {
  const data = tempDir();
  let served: Served;
  let redis: Redis;
  const streams: string[] = [];

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    const app = await testApp({
      dataDir: data.dir,
      connections: [{ id: 'redis', kind: 'redis', readOnly: false, demoTraffic: false, config: { url: REDIS_URL } }],
      tail: { resumeGraceMs: 5_000 },
    });
    served = await serve(app);
  });

  afterAll(async () => {
    await served?.app.close();
    if (streams.length) await redis.del(...streams);
    redis.disconnect();
    data.remove();
  });

  it('delivers messages that a plain Redis client adds, filtered on the server', async () => {
    const stream = uniqueName('mr-tail');
    streams.push(stream);
    await redis.xadd(stream, '*', 'value', 'before');
    const t = tail(served, { connectionId: 'redis', destination: stream, filter: 'value contains "keep"' });
    await waitFor('open event', () => t.events.some((e) => e.data.kind === 'open'));
    // The adapter positions its tail at the end asynchronously; publish until the first arrives.
    let n = 0;
    await waitFor('first tailed message', async () => {
      await redis.xadd(stream, '*', 'value', `keep-${n++}`);
      await redis.xadd(stream, '*', 'value', 'drop-me');
      return t.values().length > 0;
    }, 10_000, 200);
    const firstSeen = Number(t.values()[0]!.slice('keep-'.length));
    for (let i = 0; i < 20; i++) {
      await redis.xadd(stream, '*', 'value', `keep-${n++}`);
      await redis.xadd(stream, '*', 'value', 'drop-me');
    }
    await waitFor('all published', () => t.values().at(-1) === `keep-${n - 1}`);
    expect(t.values()).toEqual(Array.from({ length: n - firstSeen }, (_, i) => `keep-${firstSeen + i}`));
    expect(t.errors).toEqual([]);
    t.unsubscribe();
  });

  it('resumes from the last event id after a reconnect without losing or repeating a message', async () => {
    const stream = uniqueName('mr-resume');
    streams.push(stream);
    await redis.xadd(stream, '*', 'value', 'before');
    const first = tail(served, { connectionId: 'redis', destination: stream });
    await waitFor('open', () => first.events.length > 0);
    let warm = 0;
    await waitFor('tail positioned', async () => {
      await redis.xadd(stream, '*', 'value', `warm-${warm++}`);
      return first.values().length > 0;
    }, 10_000, 200);
    await waitFor('warm-up delivered', () => first.values().length === warm);
    const lastEventId = first.lastId()!;
    const seenBefore = first.values();
    first.unsubscribe();

    // While nobody listens, a real client keeps publishing.
    const gap = Array.from({ length: 250 }, (_, i) => `gap-${i}`);
    const pipeline = redis.pipeline();
    for (const v of gap) pipeline.xadd(stream, '*', 'value', v);
    await pipeline.exec();

    const second = tail(served, { connectionId: 'redis', destination: stream, lastEventId });
    await waitFor('gap replayed', () => second.values().length >= gap.length);
    await redis.xadd(stream, '*', 'value', 'after');
    await waitFor('live again', () => second.values().includes('after'));
    expect(second.events[0]!.data.kind).toBe('batch'); // no new 'open': same server-side tail
    expect(second.values()).toEqual([...gap, 'after']);
    expect(second.events.reduce((s, e) => s + e.data.skipped, 0)).toBe(0);
    expect(seenBefore).toEqual(Array.from({ length: warm }, (_, i) => `warm-${i}`));
    second.unsubscribe();
  });

  it('resumes automatically when the HTTP connection drops (link reconnects with lastEventId)', async () => {
    const stream = uniqueName('mr-drop');
    streams.push(stream);
    await redis.xadd(stream, '*', 'value', 'before');
    const t = tail(served, { connectionId: 'redis', destination: stream });
    await waitFor('open', () => t.events.length > 0);
    let warm = 0;
    await waitFor('tail positioned', async () => {
      await redis.xadd(stream, '*', 'value', `warm-${warm++}`);
      return t.values().length > 0;
    }, 10_000, 200);
    await waitFor('warm-up delivered', () => t.values().length === warm);
    // Cut every open socket (the server keeps listening): the EventSource reconnects by itself.
    served.server.closeAllConnections();
    for (let i = 0; i < 50; i++) await redis.xadd(stream, '*', 'value', `during-${i}`);
    await waitFor('reconnected and replayed', () => t.values().filter((v) => v.startsWith('during-')).length === 50, 15_000);
    expect(t.values()).toEqual([...Array.from({ length: warm }, (_, i) => `warm-${i}`), ...Array.from({ length: 50 }, (_, i) => `during-${i}`)]);
    expect(t.events.filter((e) => e.data.kind === 'open')).toHaveLength(1);
    t.unsubscribe();
  });

  it('closing the subscription ends the server tail after the grace period', async () => {
    const stream = uniqueName('mr-close');
    streams.push(stream);
    await redis.xadd(stream, '*', 'value', 'before');
    await waitFor('earlier tails released', () => served.app.services.tails.size === 0, 10_000);
    const t = tail(served, { connectionId: 'redis', destination: stream });
    await waitFor('open', () => t.events.length > 0);
    expect(served.app.services.tails.size).toBe(1);
    t.unsubscribe();
    const closedAt = Date.now();
    await waitFor('session released', () => served.app.services.tails.size === 0, 10_000);
    // Released after the 5 s resume grace this app was configured with, not before.
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(4_500);
  });
});

