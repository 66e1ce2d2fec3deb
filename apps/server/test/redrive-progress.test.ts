import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MailroomApp } from '../src/app';
import type { RedriveTask } from '../src/redrive/types';
import { tempDir, testApp } from './helpers';

/** createCaller yields tRPC's tracked envelopes ([id, data, marker]); unwrap to the task. */
function taskOf(value: unknown): RedriveTask {
  return (Array.isArray(value) ? value[1] : (value as { data: unknown }).data) as RedriveTask;
}

function task(over: Partial<RedriveTask>): RedriveTask {
  return {
    id: 'rd-race', connectionId: 'memory', source: 'orders.dlq', target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false,
    status: 'running', progress: { moved: 0, failed: 0, skipped: 0, remaining: 100, possiblyDuplicated: 0 }, report: null, error: null,
    startedAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', finishedAt: null, resumes: 0, ...over,
  };
}

describe('redrive.progress', () => {
  const data = tempDir();
  let app: MailroomApp;

  beforeAll(async () => {
    app = await testApp({ dataDir: data.dir, memory: { enabled: true, demoTraffic: false } });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await app?.close();
    data.remove();
  });

  it('delivers the final event when the task ends while the previous event is still being sent', async () => {
    // The task manager notifies synchronously; the subscription is a generator paused at `yield`
    // while the SSE response writes the event. A task that ends in that window must still be reported.
    let listener: ((t: RedriveTask) => void) | null = null;
    let current = task({});
    vi.spyOn(app.services.redrive, 'get').mockImplementation(() => current);
    vi.spyOn(app.services.redrive, 'subscribe').mockImplementation((_id, l) => {
      listener = l;
      return () => (listener = null);
    });

    const events = await app.caller.redrive.progress({ taskId: 'rd-race', minIntervalMs: 0 });
    const it = events[Symbol.asyncIterator]();
    const first = await it.next();
    expect(taskOf(first.value).status).toBe('running');
    expect(listener).not.toBeNull();

    // While the first event is "on the wire": the last batch, then the end of the task (as RedriveManager does it).
    current = task({ progress: { moved: 100, failed: 0, skipped: 0, remaining: 0, possiblyDuplicated: 0 } });
    listener!(current);
    current = task({ status: 'completed', progress: current.progress, finishedAt: '2026-01-01T00:00:01.000Z' });
    listener!(current);

    const next = await it.next();
    expect(next.done).toBe(false);
    expect(taskOf(next.value)).toMatchObject({ status: 'completed', progress: { moved: 100, remaining: 0 } });
    expect((await it.next()).done).toBe(true);
    expect(listener).toBeNull();
  });

  it('reports a task that ended before the subscription started, once, and ends', async () => {
    const done = task({ status: 'failed', error: 'broken', finishedAt: '2026-01-01T00:00:01.000Z' });
    vi.spyOn(app.services.redrive, 'get').mockImplementation(() => done);
    vi.spyOn(app.services.redrive, 'subscribe').mockImplementation(() => () => undefined);
    const seen: RedriveTask[] = [];
    for await (const event of await app.caller.redrive.progress({ taskId: 'rd-race', minIntervalMs: 0 })) seen.push(taskOf(event));
    expect(seen.map((t) => t.status)).toEqual(['failed']);
  });
});
