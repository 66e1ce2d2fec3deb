import { z } from 'zod';
import { tracked } from '@trpc/server';
import type { RedriveTask } from '../redrive/types';
import { toTRPCError } from '../errors';
import { pause, waitForWake } from './helpers';
import { connectionId, destinationName, lastEventId, redriveSelectionSchema } from './schemas';
import { publicProcedure, router } from './trpc';

const taskId = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/);

export const redriveRouter = router({
  /**
   * Starts moving messages from a DLQ back to `target` (null: each message's origin). Runs in the
   * background, survives a server restart, and reports progress through `redrive.progress`.
   */
  start: publicProcedure
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
    .mutation(({ ctx, input }): Promise<RedriveTask> => ctx.services.redrive.start(input)),

  list: publicProcedure.input(z.object({ connectionId: connectionId.optional() }).default({})).query(({ ctx, input }): RedriveTask[] => ctx.services.redrive.list(input.connectionId)),

  get: publicProcedure.input(z.object({ taskId })).query(({ ctx, input }): RedriveTask => ctx.services.redrive.get(input.taskId)),

  cancel: publicProcedure.input(z.object({ taskId })).mutation(({ ctx, input }): Promise<RedriveTask> => ctx.services.redrive.cancel(input.taskId)),

  /** The task now, then on every change (throttled to one event per `minIntervalMs`), until it ends. */
  progress: publicProcedure
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
