import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { RedriveTask } from '../src/router';
import { REDIS_URL, serve, tempDir, testApp, uniqueName, waitFor } from './helpers';

const connections = [{ id: 'redis', kind: 'redis', readOnly: false, demoTraffic: false, config: { url: REDIS_URL } }];

async function fill(redis: Redis, dlq: string, origin: string, count: number): Promise<void> {
  const pipeline = redis.pipeline();
  for (let i = 0; i < count; i++) pipeline.xadd(dlq, '*', 'h:x-mailroom-origin', origin, 'value', `m-${i}`);
  await pipeline.exec();
}

async function values(redis: Redis, stream: string): Promise<{ value: string; fields: Record<string, string> }[]> {
  const entries = await redis.xrange(stream, '-', '+');
  return entries.map(([, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return { value: fields['value']!, fields };
  });
}

describe('redrive tasks on a real Redis', () => {
  let redis: Redis;
  const streams: string[] = [];

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    if (streams.length) await redis.del(...streams);
    redis.disconnect();
  });

  it('a rate-limited redrive interrupted by a server restart resumes and moves every message exactly once', async () => {
    const data = tempDir();
    const origin = uniqueName('mr-rd');
    const dlq = `${origin}:dlq`;
    streams.push(origin, dlq);
    const total = 60;
    await fill(redis, dlq, origin, total);

    const first = await testApp({ dataDir: data.dir, connections });
    const started = await first.caller.redrive.start({ connectionId: 'redis', source: dlq, target: null, ratePerSecond: 40 });
    expect(started.status).toBe('running');
    await waitFor('some moved', async () => (await first.caller.redrive.get({ taskId: started.id })).progress.moved >= 10, 10_000, 20);
    await first.close();

    const file = path.join(data.dir, 'redrive', `${started.id}.json`);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { task: RedriveTask; checkpoint: unknown };
    expect(stored.task.status).toBe('running');
    expect(stored.checkpoint).not.toBeNull();
    const movedBeforeRestart = (await redis.xlen(origin));
    expect(movedBeforeRestart).toBeGreaterThan(0);
    expect(movedBeforeRestart).toBeLessThan(total);
    expect(movedBeforeRestart + (await redis.xlen(dlq))).toBe(total);

    // A new server on the same data dir picks the task up by itself.
    const second = await testApp({ dataDir: data.dir, connections });
    try {
      const done = await waitFor('resumed task completed', async () => {
        const task = await second.caller.redrive.get({ taskId: started.id });
        return task.status === 'completed' ? task : null;
      }, 20_000, 50);
      expect(done.resumes).toBe(1);
      expect(done.progress.moved).toBe(total);
      expect(done.progress.failed).toBe(0);
      expect(done.report?.outcome).toBe('completed');
      expect(await redis.xlen(dlq)).toBe(0);
      const moved = await values(redis, origin);
      expect(moved.map((m) => m.value).sort()).toEqual(Array.from({ length: total }, (_, i) => `m-${i}`).sort());
      expect(moved.every((m) => m.fields['h:x-mailroom-redrive-task'] === started.id)).toBe(true);
      const metrics = await second.services.metrics.render();
      expect(metrics.body).toMatch(/mailroom_redrive_tasks_total\{connection="redis",outcome="completed"\} 1/);
      expect(existsSync(file)).toBe(true);
    } finally {
      await second.close();
      data.remove();
    }
  });

  it('a redrive whose server is killed (SIGKILL) mid-task resumes on a new server and moves every message exactly once', async () => {
    const data = tempDir();
    const origin = uniqueName('mr-rdk');
    const dlq = `${origin}:dlq`;
    streams.push(origin, dlq);
    const total = 100;
    const rate = 40;
    await fill(redis, dlq, origin, total);

    // The first server runs in its own process, so the kill leaves no close(), no final checkpoint, no flush.
    const here = path.dirname(fileURLToPath(import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'redrive-restart-child.ts'), data.dir, REDIS_URL, dlq, String(rate)], {
      cwd: path.join(here, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    let second: Awaited<ReturnType<typeof testApp>> | null = null;
    try {
      const taskId = await waitFor('the child server started the task', () => {
        if (child.exitCode !== null) throw new Error(`child exited ${child.exitCode}: ${stderr}`);
        const line = stdout.split('\n').find((l) => l.startsWith('{'));
        return line ? (JSON.parse(line) as { taskId: string }).taskId : null;
      }, 30_000);
      await waitFor('some moved', async () => (await redis.xlen(origin)) >= 10, 15_000, 10);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');

      const file = path.join(data.dir, 'redrive', `${taskId}.json`);
      const stored = JSON.parse(readFileSync(file, 'utf8')) as { task: RedriveTask; checkpoint: unknown };
      expect(stored.task.status).toBe('running');
      const movedBeforeKill = await redis.xlen(origin);
      expect(movedBeforeKill).toBeLessThan(total);
      expect(movedBeforeKill + (await redis.xlen(dlq))).toBe(total);

      second = await testApp({ dataDir: data.dir, connections });
      const done = await waitFor('resumed task completed', async () => {
        const task = await second!.caller.redrive.get({ taskId });
        return task.status !== 'running' ? task : null;
      }, 30_000, 50);
      expect(done.status).toBe('completed');
      expect(done.resumes).toBe(1);
      expect(done.progress.failed).toBe(0);
      expect(done.progress.possiblyDuplicated).toBe(0);
      // A batch (rate / 5 = 8 entries) moved after the last checkpoint is done but not counted (see the Redis adapter's runRedrive).
      expect(done.progress.moved).toBeGreaterThanOrEqual(total - rate / 5);
      expect(done.progress.moved).toBeLessThanOrEqual(total);
      expect(await redis.xlen(dlq)).toBe(0);
      const moved = await values(redis, origin);
      expect(moved.map((m) => m.value).sort()).toEqual(Array.from({ length: total }, (_, i) => `m-${i}`).sort());
      expect(moved.every((m) => m.fields['h:x-mailroom-redrive-task'] === taskId)).toBe(true);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await second?.close();
      data.remove();
    }
  });

  it('dry-run counts without moving; cancel stops a task for good; progress streams over SSE', async () => {
    const data = tempDir();
    const origin = uniqueName('mr-rd2');
    const dlq = `${origin}:dlq`;
    streams.push(origin, dlq);
    await fill(redis, dlq, origin, 30);
    const served = await serve(await testApp({ dataDir: data.dir, connections }));
    try {
      const dry = await served.client.redrive.start.mutate({ connectionId: 'redis', source: dlq, dryRun: true, selection: { kind: 'filter', expression: 'value endsWith "5"' } });
      const dryDone = await waitFor('dry run done', async () => {
        const t = await served.client.redrive.get.query({ taskId: dry.id });
        return t.status === 'completed' ? t : null;
      });
      expect(dryDone.progress.moved).toBe(3); // m-5, m-15, m-25
      expect(await redis.xlen(dlq)).toBe(30);
      expect(await redis.exists(origin)).toBe(0);

      const task = await served.client.redrive.start.mutate({ connectionId: 'redis', source: dlq, ratePerSecond: 10 });
      const events: RedriveTask[] = [];
      const sub = served.client.redrive.progress.subscribe({ taskId: task.id }, { onData: (e) => events.push(e.data) });
      await waitFor('progress events', () => events.some((e) => e.progress.moved > 0), 10_000);
      const cancelled = await served.client.redrive.cancel.mutate({ taskId: task.id });
      expect(cancelled.status).toBe('cancelled');
      await waitFor('final event', () => events.at(-1)?.status === 'cancelled');
      sub.unsubscribe();
      const movedAtCancel = await redis.xlen(origin);
      expect(movedAtCancel).toBeGreaterThan(0);
      expect(movedAtCancel).toBeLessThan(30);
      expect(movedAtCancel + (await redis.xlen(dlq))).toBe(30);
      const list = await served.client.redrive.list.query({ connectionId: 'redis' });
      expect(list.map((t) => t.id)).toEqual([task.id, dry.id]);
      await served.app.close();

      // A cancelled task is not resumed by the next start.
      const again = await testApp({ dataDir: data.dir, connections });
      try {
        expect((await again.caller.redrive.get({ taskId: task.id })).status).toBe('cancelled');
        await new Promise((r) => setTimeout(r, 300));
        expect(await redis.xlen(origin)).toBe(movedAtCancel);
      } finally {
        await again.close();
      }
    } finally {
      await served.app.close();
      data.remove();
    }
  });
});
