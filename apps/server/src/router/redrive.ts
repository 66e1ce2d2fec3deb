import { z } from 'zod';
import { tracked } from '@trpc/server';
import type { RedriveTask } from '../redrive/types';
import { toTRPCError } from '../errors';
import { pause, waitForWake } from './helpers';
import { connectionId, destinationName, lastEventId, redriveSelectionSchema } from './schemas';
import { visibleConnectionIds } from '../auth/visible';
import { inputString, taskConnection, taskSource } from '../security/guard';
import { procedure, router, type Context } from './trpc';

const taskId = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/);

export const redriveRouter = router({
  /**
   * Starts moving messages from a DLQ back to `target` (null: each message's origin). Runs in the
   * background, survives a server restart, and reports progress through `redrive.progress`.
   */
  start: procedure({
    role: 'operator',
    action: 'redrive.start',
    destination: inputString('source'),
    harmless: (i) => i.dryRun === true,
    detail: (i) => `${i.dryRun === true ? 'dry run, ' : ''}to ${typeof i.target === 'string' ? i.target : 'each origin'}, selection ${JSON.stringify(i.selection ?? { kind: 'all' }).slice(0, 300)}`,
  })
    .input(
      z.object({
        connectionId,
        source: destinationName,
        target: destinationName.nullable().default(null),
        selection: redriveSelectionSchema.default({ kind: 'all' }),
        ratePerSecond: z.number().positive().max(1_000_000).nullable().default(null),
        dryRun: z.boolean().default(false),
      }),
    )
    .mutation(async ({ ctx, input }): Promise<RedriveTask> => {
      const task = await ctx.services.redrive.start(input);
      auditWhenFinished(ctx, task);
      return task;
    }),

  list: procedure({ role: 'viewer' })
    .input(z.object({ connectionId: connectionId.optional() }).strict().default({}))
    .query(({ ctx, input }): RedriveTask[] => {
      const visible = visibleConnectionIds(ctx);
      return ctx.services.redrive.list(input.connectionId).filter((t) => visible.has(t.connectionId));
    }),

  get: procedure({ role: 'viewer', connection: taskConnection }).input(z.object({ taskId })).query(({ ctx, input }): RedriveTask => ctx.services.redrive.get(input.taskId)),

  cancel: procedure({ role: 'operator', action: 'redrive.cancel', connection: taskConnection, destination: taskSource, harmless: (i, ctx) => isDryRunTask(ctx, i.taskId) }).input(z.object({ taskId })).mutation(({ ctx, input }): Promise<RedriveTask> => ctx.services.redrive.cancel(input.taskId)),

  /** The task now, then on every change (throttled to one event per `minIntervalMs`), until it ends. */
  progress: procedure({ role: 'viewer', connection: taskConnection })
    .input(z.object({ taskId, minIntervalMs: z.number().int().min(0).max(10_000).default(250), lastEventId }))
    .subscription(async function* ({ ctx, input, signal }) {
      const { redrive, metrics } = ctx.services;
      let latest: RedriveTask | null = null;
      let changed = false;
      let wake: () => void = () => undefined;
      let off: () => void;
      try {
        // Listen first, then read: a change in between is never lost.
        off = redrive.subscribe(input.taskId, (t) => {
          latest = t;
          changed = true;
          wake();
        });
        latest = redrive.get(input.taskId);
      } catch (error) {
        throw toTRPCError(error);
      }
      const close = metrics.subscriberOpened('redrive.progress');
      let version = 0;
      try {
        for (;;) {
          version += 1;
          metrics.eventSent('redrive.progress');
          // The generator stays paused at `yield` while the event is written; the task may end
          // meanwhile and update `latest`. Decide on what was sent, so that final state is sent too.
          const sent: RedriveTask = latest;
          changed = false;
          yield tracked(`${sent.id}.${version}`, sent);
          if (sent.status !== 'running' || signal?.aborted) return;
          await pause(input.minIntervalMs, signal);
          if (!changed) await waitForWake((w) => (wake = w), signal);
          if (signal?.aborted) return;
        }
      } finally {
        off();
        close();
      }
    }),
});

function isDryRunTask(ctx: Pick<Context, 'services'>, id: unknown): boolean {
  try {
    return typeof id === 'string' && ctx.services.redrive.get(id).dryRun;
  } catch {
    return false;
  }
}

/** A redrive runs on after start answered: its outcome and moved count get their own audit entry. */
function auditWhenFinished(ctx: Context, started: RedriveTask): void {
  const { redrive, audit } = ctx.services;
  const p = ctx.principal;
  let done = false;
  const record = (task: RedriveTask) => {
    if (done || task.status === 'running') return;
    done = true;
    off();
    audit.record({
      user: p?.user ?? 'system',
      via: p?.via ?? 'system',
      sessionId: p?.sessionId ?? null,
      ip: ctx.http?.ip ?? null,
      action: 'redrive.finished',
      connectionId: task.connectionId,
      destination: task.source,
      detail: `${task.dryRun ? 'dry run, ' : ''}task ${task.id} ${task.status}: moved ${task.progress.moved}, failed ${task.progress.failed}, skipped ${task.progress.skipped}, possibly duplicated ${task.progress.possiblyDuplicated}`,
      count: task.progress.moved,
      result: task.status === 'completed' ? 'ok' : task.status === 'cancelled' ? 'refused' : 'failed',
      error: task.error,
    });
  };
  const off = redrive.subscribe(started.id, record);
  record(redrive.get(started.id));
}
