import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, scryptSync } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CONNECTIONS,
  KAFKA_BROKERS,
  RABBITMQ_MANAGEMENT_URL,
  RABBITMQ_URL,
  REDIS_URL,
  SQS_CREDENTIALS,
  SQS_ENDPOINT,
  SQS_REGION,
  runDir,
  serverPort,
  serverUrl,
  signInAccount,
  volatileRedisPort,
} from './env';
import { startVolatileRedis, stopVolatileRedis } from './volatile-redis';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `auth.users[].passwordHash` as the server's hash-password command writes it (scrypt N=2^15, r=8, p=1). */
function passwordHash(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password.normalize('NFC'), salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 128 * 2 ** 15 * 8 * 2 });
  return `scrypt$${2 ** 15}$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** The server's config file: the four shared brokers, the throwaway Redis and the embedded default. */
function serverConfig(): unknown {
  const account = signInAccount();
  return {
    // No demo traffic: the journeys count messages exactly, and the demo's 20 msg/s would only cost CPU.
    memory: { enabled: true, demoTraffic: false, name: CONNECTIONS.memory.name },
    // The server listens on loopback and so does the browser: anonymous access (allowed on loopback
    // only) with the admin role, since the journeys create and delete destinations. One local
    // account, so that the sign-in view has its form (the a11y spec signs in with it).
    auth: { anonymous: { role: 'admin' }, users: [{ username: account.username, passwordHash: passwordHash(account.password), role: 'viewer' }] },
    health: { intervalMs: 1000, timeoutMs: 1500, maxBackoffMs: 2000 },
    destinationsCacheTtlMs: 1000,
    metricsIntervalMs: 2000,
    connections: [
      { id: CONNECTIONS.kafka.id, name: CONNECTIONS.kafka.name, kind: 'kafka', config: { brokers: KAFKA_BROKERS, clientId: 'mailroom-e2e' } },
      { id: CONNECTIONS.rabbitmq.id, name: CONNECTIONS.rabbitmq.name, kind: 'rabbitmq', config: { url: RABBITMQ_URL, managementUrl: RABBITMQ_MANAGEMENT_URL, connectionName: 'mailroom-e2e' } },
      { id: CONNECTIONS.sqs.id, name: CONNECTIONS.sqs.name, kind: 'sqs', config: { endpoint: SQS_ENDPOINT, region: SQS_REGION, credentials: SQS_CREDENTIALS } },
      { id: CONNECTIONS.redis.id, name: CONNECTIONS.redis.name, kind: 'redis', config: { url: REDIS_URL, connectionName: 'mailroom-e2e' } },
      {
        id: CONNECTIONS.volatile.id,
        name: CONNECTIONS.volatile.name,
        kind: 'redis',
        config: { url: `redis://127.0.0.1:${volatileRedisPort()}`, connectTimeoutMs: 1000, commandTimeoutMs: 1500, connectionName: 'mailroom-e2e-volatile' },
      },
    ],
  };
}

function ensureWebBuild(): void {
  if (existsSync(path.join(root, 'apps/web/dist/index.html'))) return;
  // scripts/test.sh builds it first; this covers running the e2e package on its own.
  console.log('[e2e] apps/web/dist is missing: building the web app');
  const result = spawnSync(path.join(root, 'apps/web/node_modules/.bin/vite'), ['build'], { cwd: path.join(root, 'apps/web'), stdio: 'inherit' });
  if (result.status !== 0) throw new Error('Building apps/web failed');
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>, exited: () => string | null): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const died = exited();
    if (died !== null) throw new Error(`${what}: ${died}`);
    try {
      const value = await probe();
      if (value !== null) return value;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} timed out after ${timeoutMs} ms (${last})`);
}

interface ConnectionHealth {
  id: string;
  health: { status: string; reason: string | null };
}

function assertFree(port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', () => reject(new Error(`Port ${port} (${what}) is taken: set MAILROOM_E2E_PORT / MAILROOM_E2E_VOLATILE_REDIS_PORT or run again`)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  await assertFree(serverPort(), 'Mailroom server');
  await assertFree(volatileRedisPort(), 'throwaway redis-server');
  const dir = runDir();
  mkdirSync(dir, { recursive: true });
  ensureWebBuild();
  await startVolatileRedis();

  const configPath = path.join(dir, 'mailroom.json');
  writeFileSync(configPath, JSON.stringify(serverConfig(), null, 2));
  const logPath = path.join(dir, 'server.log');
  const log = createWriteStream(logPath);
  const env: NodeJS.ProcessEnv = { ...process.env, MAILROOM_CONFIG: configPath, MAILROOM_DATA_DIR: path.join(dir, 'data'), PORT: String(serverPort()), HOST: '127.0.0.1' };
  // The environment's broker variables would add connections of their own next to the config file's.
  for (const name of ['KAFKA_BROKERS', 'RABBITMQ_URL', 'SQS_ENDPOINT', 'AWS_ENDPOINT_URL_SQS', 'REDIS_URL']) {
    delete env[name];
    delete env[`MAILROOM_${name}`];
  }
  const server = spawn(process.execPath, ['--enable-source-maps', '--import', 'tsx', 'src/main.ts'], { cwd: path.join(root, 'apps/server'), env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.pipe(log);
  server.stderr.pipe(log);
  let exitCode: number | null = null;
  server.on('exit', (code) => {
    exitCode = code ?? -1;
  });
  const exited = () => (exitCode === null ? null : `the server exited with code ${exitCode}; see ${logPath}`);

  const teardown = async () => {
    if (exitCode === null) {
      const gone = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    }
    await stopVolatileRedis();
    console.log(`[e2e] server log and config: ${dir}`);
  };

  try {
    await waitFor('Mailroom /readyz', 90_000, async () => ((await fetch(`${serverUrl()}/readyz`)).ok ? true : null), exited);
    // Every declared broker must be up before a journey starts, or the failure would be blamed on the UI.
    await waitFor(
      'every connection up',
      60_000,
      async () => {
        const response = await fetch(`${serverUrl()}/trpc/connections.list`);
        const body = (await response.json()) as { result?: { data?: ConnectionHealth[] } };
        const list = body.result?.data ?? [];
        const notUp = list.filter((c) => c.health.status !== 'up');
        if (list.length === 6 && notUp.length === 0) return true;
        throw new Error(`not up: ${notUp.map((c) => `${c.id} (${c.health.status}${c.health.reason ? `: ${c.health.reason}` : ''})`).join(', ') || `${list.length} connections`}`);
      },
      exited,
    );
  } catch (error) {
    await teardown();
    throw error;
  }
  console.log(`[e2e] Mailroom at ${serverUrl()} (run ${process.env.MAILROOM_E2E_RUN}, files in ${dir})`);
  return teardown;
}
