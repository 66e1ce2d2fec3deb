import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, tempDir, testApp, type Served } from './helpers';

/** What Chromium sends when the operator opens or reloads a link. */
const NAVIGATION = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe('SPA fallback', () => {
  const data = tempDir();
  const web = tempDir();
  let served: Served;

  beforeAll(async () => {
    mkdirSync(path.join(web.dir, 'assets'));
    writeFileSync(path.join(web.dir, 'index.html'), '<!doctype html><title>Mailroom SPA</title>');
    writeFileSync(path.join(web.dir, 'assets', 'app.js'), 'console.log("app")');
    served = await serve(await testApp({ dataDir: data.dir, webDist: web.dir, production: true }));
  });
  afterAll(async () => {
    await served?.app.close();
    data.remove();
    web.remove();
  });

  const get = (p: string, accept?: string, method = 'GET') => fetch(`${served.url}${p}`, { method, headers: accept === undefined ? {} : { accept } });

  it('serves the shell for deep links whose names contain dots', async () => {
    for (const p of ['/c/memory/d/orders.dlq', '/c/memory/d/orders.dlq/consumers', '/c/memory/dead-letters/orders.DLT', '/c/memory/d/orders.dlq/m/0%3A42?partition=0&position=42', '/c/my.conn/d/a.b.c.json']) {
      const res = await get(p, NAVIGATION);
      expect(res.status, p).toBe(200);
      expect(res.headers.get('content-type'), p).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control'), p).toBe('no-cache');
      expect(await res.text(), p).toContain('Mailroom SPA');
    }
    const head = await get('/c/memory/d/orders.dlq', NAVIGATION, 'HEAD');
    expect(head.status).toBe(200);
  });

  it('still serves extensionless client routes to clients that accept anything', async () => {
    const res = await get('/c/memory/destinations', '*/*');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Mailroom SPA');
  });

  it('keeps real 404s for missing assets, the API, endpoints and file-like paths nobody navigated to', async () => {
    expect(await (await get('/assets/app.js')).text()).toBe('console.log("app")');
    for (const [p, accept] of [
      ['/assets/missing.js', NAVIGATION],
      ['/assets/orders.dlq', NAVIGATION],
      ['/trpc/nope.nothing', NAVIGATION],
      ['/api/v1/things.json', NAVIGATION],
      ['/auth/whatever.x', NAVIGATION],
      ['/favicon.ico', 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8'],
      ['/c/memory/d/orders.dlq', 'application/json'],
      ['/robots.txt', '*/*'],
    ] as const) {
      const res = await get(p, accept);
      expect(res.status, p).toBe(404);
      expect(await res.text(), p).not.toContain('Mailroom SPA');
    }
    const health = await get('/healthz', NAVIGATION);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const post = await fetch(`${served.url}/c/memory/d/orders.dlq`, { method: 'POST', headers: { accept: NAVIGATION } });
    expect(post.status).toBe(404);
  });
});
