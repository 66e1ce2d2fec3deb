import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { runDir, volatileRedisPort } from './env';

/**
 * A redis-server of the suite's own, on a spare port, so the availability journey can stop and
 * restart a broker without touching the shared ones other tests use.
 */
function pidFile(): string {
  return path.join(runDir(), 'volatile-redis.pid');
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

export async function startVolatileRedis(): Promise<number> {
  const port = volatileRedisPort();
  if (await answers(port)) throw new Error(`Port ${port} already has a Redis: refusing to use it as the throwaway broker`);
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
    stdio: 'ignore',
    detached: true,
  });
  child.unref();
  if (child.pid === undefined) throw new Error('redis-server did not start (is it installed?)');
  writeFileSync(pidFile(), String(child.pid));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await answers(port)) return child.pid;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`The throwaway redis-server on port ${port} did not answer PING within 10 s`);
}

/** Kills the throwaway redis-server (SIGKILL: a crash, not a polite shutdown) and waits until the port is dead. */
export async function stopVolatileRedis(): Promise<void> {
  if (!existsSync(pidFile())) return;
  const pid = Number(readFileSync(pidFile(), 'utf8'));
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline && (await answers(volatileRedisPort()))) await new Promise((r) => setTimeout(r, 50));
}
