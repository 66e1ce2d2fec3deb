import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerUnavailableError } from '@mailroom/core';
import { adapterFor, bytes } from './helpers';

/**
 * Redis dying under a working adapter. The shared Redis must not be stopped, so this starts a
 * throwaway redis-server of its own on a free loopback port and kills only that process.
 */
const redisServerProbe = spawnSync('redis-server', ['--version']);
const hasRedisServer = redisServerProbe.status === 0;
if (!hasRedisServer) {
  const why = redisServerProbe.error ? redisServerProbe.error.message : `exit status ${redisServerProbe.status}: ${String(redisServerProbe.stderr).trim()}`;
  console.warn(`[redis failure.test] SKIPPED: no runnable redis-server on PATH (${why}); install redis-server to test a Redis dying under the adapter`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

let server: ChildProcess | null = null;
let dir = '';
let port = 0;

async function startServer(): Promise<void> {
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const adapter = adapterFor({ url: `redis://127.0.0.1:${port}` });
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      await adapter.ping();
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await adapter.close();
}

function killServer(): void {
  server?.kill('SIGKILL');
  server = null;
}

describe.skipIf(!hasRedisServer)('a Redis that dies under a working adapter (own redis-server)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mr-redis-failure-'));
    port = await freePort();
  });

  afterAll(() => {
    killServer();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails a blocked poll, a tail and admin calls with BrokerUnavailableError within seconds, and closes cleanly', async () => {
    await startServer();
    const adapter = adapterFor({ url: `redis://127.0.0.1:${port}` });
    const consumer = adapter.createConsumer({ group: 'g' });
    await consumer.subscribe(['jobs']);
    await adapter.publish('jobs', [{ key: null, value: bytes('x'), headers: {} }]);
    expect(await consumer.poll(2000)).toHaveLength(1);

    const controller = new AbortController();
    const tailing: Promise<void> = (async () => {
      for await (const _batch of adapter.tail({ destination: 'jobs', signal: controller.signal })) void _batch;
    })();
    const polling = consumer.poll(20_000);
    await new Promise((r) => setTimeout(r, 300));
    const killedAt = Date.now();
    killServer();

    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (error: unknown) => ({ error, ms: Date.now() - killedAt }),
      );
    const [pollFailure, tailFailure] = await Promise.all([outcome(polling), outcome(tailing)]);
    const pingFailure = await outcome(adapter.ping());
    const listFailure = await outcome(adapter.listDestinations());
    for (const failure of [pollFailure, tailFailure, pingFailure, listFailure]) {
      expect(failure?.error).toBeInstanceOf(BrokerUnavailableError);
      expect(failure!.ms).toBeLessThan(10_000);
    }
    console.info(`after the kill: poll failed in ${pollFailure!.ms} ms, tail ${tailFailure!.ms} ms, ping ${pingFailure!.ms} ms, list ${listFailure!.ms} ms`);

    const closing = Date.now();
    await consumer.close();
    await adapter.close();
    expect(Date.now() - closing).toBeLessThan(6_000);
    controller.abort();
  }, 30_000);
});
