import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRPCClientError } from '@trpc/client';
import type { AppRouter, ConnectionInfo } from '../src/router';
import { serve, tempDir, testApp, waitFor, type Served } from './helpers';

describe('HTTP surface', () => {
  const data = tempDir();
  const web = tempDir();
  let served: Served;

  beforeAll(async () => {
    mkdirSync(path.join(web.dir, 'assets'));
    writeFileSync(path.join(web.dir, 'index.html'), '<!doctype html><title>Mailroom SPA</title>');
    writeFileSync(path.join(web.dir, 'assets', 'app.js'), 'console.log("app")');
    served = await serve(
      await testApp({
        dataDir: data.dir,
        webDist: web.dir,
        production: true,
        memory: { enabled: true, demoTraffic: false },
        connections: [{ id: 'dead', name: 'Dead Redis', kind: 'redis', readOnly: false, demoTraffic: false, config: { url: 'redis://127.0.0.1:1', connectTimeoutMs: 1000 } }],
      }),
    );
  });
  afterAll(async () => {
    await served?.app.close();
    data.remove();
    web.remove();
  });

  it('/healthz and /readyz', async () => {
    const health = await fetch(`${served.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const ready = await waitFor('ready', async () => {
      const r = await fetch(`${served.url}/readyz`);
      return r.status === 200 ? ((await r.json()) as { ready: boolean; connections: { id: string; status: string }[] }) : null;
    });
    expect(ready.ready).toBe(true);
    expect(ready.connections.find((c) => c.id === 'memory')?.status).toBe('up');
  });

  it('/readyz is 503 while the memory connection is down', async () => {
    const other = tempDir();
    const down = await serve(
      await testApp({ dataDir: other.dir, connections: [{ id: 'memory', kind: 'memory', readOnly: false, demoTraffic: false, config: { unreachable: true } }] }),
    );
    try {
      await waitFor('probed', async () => (await down.client.connections.get.query({ connectionId: 'memory' })).health.status === 'down');
      const r = await fetch(`${down.url}/readyz`);
      expect(r.status).toBe(503);
      expect(await r.json()).toMatchObject({ ready: false });
    } finally {
      await down.app.close();
      other.remove();
    }
  });

  it('serves the SPA with a fallback for client routes, and real 404s for files and the API', async () => {
    const route = await fetch(`${served.url}/connections/memory/destinations/orders`, { headers: { accept: 'text/html' } });
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('Mailroom SPA');
    const asset = await fetch(`${served.url}/assets/app.js`);
    expect(asset.status).toBe(200);
    expect(await asset.text()).toBe('console.log("app")');
    expect((await fetch(`${served.url}/assets/missing.js`)).status).toBe(404);
    const api = await fetch(`${served.url}/trpc/nope.nothing`, { headers: { accept: 'text/html' } });
    expect(api.status).toBe(404);
    expect(await api.text()).not.toContain('Mailroom SPA');
  });

  it('errors carry mailroomCode, hint and issues, never a stack in production', async () => {
    const notFound = await fetch(`${served.url}/trpc/connections.get?input=${encodeURIComponent(JSON.stringify({ connectionId: 'nope' }))}`);
    expect(notFound.status).toBe(404);
    const body = (await notFound.json()) as { error: { message: string; data: Record<string, unknown> } };
    expect(body.error.data).toMatchObject({ code: 'NOT_FOUND', mailroomCode: 'NOT_FOUND', httpStatus: 404 });
    expect(body.error.data['hint']).toContain('memory');
    expect(body.error.data).not.toHaveProperty('stack');
    expect(JSON.stringify(body)).not.toMatch(/\.ts:\d+/);

    const invalid = await fetch(`${served.url}/trpc/destinations.list?input=${encodeURIComponent(JSON.stringify({ connectionId: 'memory', limit: 100000 }))}`);
    expect(invalid.status).toBe(400);
    const invalidBody = (await invalid.json()) as { error: { message: string; data: { issues: { path: string }[]; mailroomCode: null } } };
    expect(invalidBody.error.data.issues.map((i) => i.path)).toEqual(['limit']);
    expect(invalidBody.error.data.mailroomCode).toBeNull();
    expect(invalidBody.error.message).toMatch(/^Invalid input: limit:/);
  });

  it('never sends a stack trace outside production either (the start command sets no NODE_ENV)', async () => {
    const other = tempDir();
    const dev = await serve(await testApp({ dataDir: other.dir, production: false, memory: { enabled: true, demoTraffic: false } }));
    try {
      expect(dev.app.settings.production).toBe(false);
      const bodies: string[] = [];
      const notFound = await fetch(`${dev.url}/trpc/connections.get?input=${encodeURIComponent(JSON.stringify({ connectionId: 'nope' }))}`);
      expect(notFound.status).toBe(404);
      bodies.push(await notFound.text());
      const invalid = await fetch(`${dev.url}/trpc/destinations.list?input=${encodeURIComponent(JSON.stringify({ connectionId: 'memory', limit: 100000 }))}`);
      expect(invalid.status).toBe(400);
      bodies.push(await invalid.text());
      const batch = await fetch(`${dev.url}/trpc/connections.get,nope.nothing?batch=1&input=${encodeURIComponent(JSON.stringify({ 0: { connectionId: 'nope' }, 1: {} }))}`);
      bodies.push(await batch.text());
      const noCsrf = await fetch(`${dev.url}/trpc/destinations.create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ connectionId: 'memory', name: 'x' }) });
      expect(noCsrf.status).toBe(403);
      bodies.push(await noCsrf.text());
      // A subscription error travels in an SSE event instead of a JSON body.
      const sse = await fetch(`${dev.url}/trpc/messages.tail?input=${encodeURIComponent(JSON.stringify({ connectionId: 'nope', destination: 'orders' }))}`, { headers: { accept: 'text/event-stream' }, signal: AbortSignal.timeout(5_000) });
      const sseText = await sse.text();
      expect(sseText).toMatch(/NOT_FOUND/);
      bodies.push(sseText);
      for (const body of bodies) {
        expect(body).not.toMatch(/"stack"/);
        expect(body).not.toMatch(/\.ts:\d+/);
        expect(body).not.toMatch(/\n\s+at /);
        expect(body).not.toMatch(/\\n\s+at /);
      }
      // The real error message is still there for the developer.
      expect(JSON.parse(bodies[0]!)).toMatchObject({ error: { data: { code: 'NOT_FOUND', mailroomCode: 'NOT_FOUND' } } });
    } finally {
      await dev.app.close();
      other.remove();
    }
  });

  it('a dead broker is a typed SERVICE_UNAVAILABLE error within 5 s, for queries and for SSE tails', async () => {
    const started = Date.now();
    const error = await served.client.destinations.list.query({ connectionId: 'dead' }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(TRPCClientError);
    const e = error as TRPCClientError<AppRouter>;
    expect(e.data?.code).toBe('SERVICE_UNAVAILABLE');
    expect(e.data?.mailroomCode).toBe('UNAVAILABLE');
    expect(e.message).toMatch(/^broker Dead Redis \(dead\) is unreachable: /);

    // On a subscription the SSE link treats SERVICE_UNAVAILABLE as retryable: it reports the typed
    // error through the connection state and keeps reconnecting (resuming when the broker is back).
    const tailStarted = Date.now();
    const tailError = await new Promise<TRPCClientError<AppRouter>>((resolve) => {
      const sub = served.client.messages.tail.subscribe(
        { connectionId: 'dead', destination: 'orders' },
        {
          onConnectionStateChange: (state) => {
            if (state.state === 'connecting' && state.error) {
              sub.unsubscribe();
              resolve(state.error as TRPCClientError<AppRouter>);
            }
          },
          onError: (err) => {
            sub.unsubscribe();
            resolve(err as TRPCClientError<AppRouter>);
          },
        },
      );
    });
    expect(Date.now() - tailStarted).toBeLessThan(5_000);
    expect(tailError.data?.code).toBe('SERVICE_UNAVAILABLE');
    expect(tailError.message).toMatch(/^broker Dead Redis \(dead\) is unreachable/);

    // A subscription error that is not retryable ends the subscription through onError.
    const notFound = await new Promise<TRPCClientError<AppRouter>>((resolve) => {
      served.client.messages.tail.subscribe({ connectionId: 'nope', destination: 'orders' }, { onError: (err) => resolve(err as TRPCClientError<AppRouter>) });
    });
    expect(notFound.data?.code).toBe('NOT_FOUND');
  });

  it('connections.health streams the list over SSE', async () => {
    const lists: ConnectionInfo[][] = [];
    const sub = served.client.connections.health.subscribe({ intervalMs: 500 }, { onData: (list) => lists.push(list) });
    await waitFor('two health events', () => lists.length >= 2, 5_000);
    sub.unsubscribe();
    const last = lists.at(-1)!;
    expect(last.map((c) => [c.id, c.health.status])).toEqual([
      ['memory', 'up'],
      ['dead', 'down'],
    ]);
  });

  it('/metrics exposes request, SSE and broker metrics in Prometheus text', async () => {
    const r = await fetch(`${served.url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    const text = await r.text();
    expect(text).toMatch(/^mailroom_trpc_request_duration_seconds_bucket\{/m);
    expect(text).toMatch(/mailroom_trpc_requests_total\{path="connections.get",type="query",code="NOT_FOUND"\} 1/);
    expect(text).toMatch(/mailroom_sse_events_total\{procedure="connections.health"\} \d+/);
    expect(text).toMatch(/mailroom_connection_up\{connection="dead",kind="redis"\} 0/);
    expect(text).toMatch(/^mailroom_process_resident_memory_bytes /m);
  });
});
