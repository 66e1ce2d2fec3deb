import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConnectionInfo } from '../src/router';
import { tempDir, testApp, waitFor } from './helpers';

/** A TCP proxy to the real Redis that the test can take down and bring back on the same port. */
class Proxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      this.sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

describe('connection health', () => {
  const data = tempDir();
  const proxy = new Proxy({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
  afterAll(async () => {
    await proxy.stop();
    data.remove();
  });

  it('a broker that goes away shows as down within 5 s with the reason, and comes back by itself', async () => {
    await proxy.start();
    const app = await testApp({
      dataDir: data.dir,
      // The production defaults: probe every 2 s with a 2 s timeout, back off up to 8 s.
      health: { intervalMs: 2_000, timeoutMs: 2_000, maxBackoffMs: 8_000 },
      connections: [{ id: 'proxied', kind: 'redis', readOnly: false, demoTraffic: false, config: { url: `redis://127.0.0.1:${proxy.port}`, connectTimeoutMs: 1000, commandTimeoutMs: 1500 } }],
    });
    const changes: ConnectionInfo[][] = [];
    app.services.connections.onChange((list) => changes.push(list));
    const health = async () => (await app.caller.connections.get({ connectionId: 'proxied' })).health;
    try {
      await waitFor('up', async () => (await health()).status === 'up');
      expect(await app.caller.destinations.list({ connectionId: 'proxied', limit: 1 })).toHaveProperty('total');

      await proxy.stop();
      const stoppedAt = Date.now();
      const down = await waitFor('down', async () => {
        const h = await health();
        return h.status === 'down' ? h : null;
      }, 6_000, 50);
      expect(Date.now() - stoppedAt).toBeLessThan(5_000);
      expect(down.reason).toBeTruthy();
      const failFast = Date.now();
      const error = await app.caller.destinations.list({ connectionId: 'proxied', refresh: true }).catch((e: { code: string; message: string }) => e);
      expect(Date.now() - failFast).toBeLessThan(100);
      expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect((error as { message: string }).message).toContain(down.reason!);

      await proxy.start(); // same port
      const restartedAt = Date.now();
      await waitFor('up again', async () => (await health()).status === 'up', 15_000, 100);
      expect(Date.now() - restartedAt).toBeLessThan(10_000);
      expect(await app.caller.destinations.list({ connectionId: 'proxied', limit: 1, refresh: true })).toHaveProperty('total');
      expect(changes.map((list) => list[0]!.health.status)).toEqual(['up', 'down', 'up']);
    } finally {
      await app.close();
    }
  });
});
