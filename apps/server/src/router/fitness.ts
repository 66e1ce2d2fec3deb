import { z } from 'zod';
import { CRITERIA, type FitnessReport } from '@mailroom/core';
import { overallReport, type ConnectionFitness } from '../fitness/fitness-service';
import type { FiringAlert } from '../fitness/alert-rules';
import { visibleConnectionIds } from '../auth/visible';
import { connectionOf, pause } from './helpers';
import { connectionId, lastEventId } from './schemas';
import { publicProcedure, router, type Context } from './trpc';

export interface FitnessScores {
  at: string;
  /** The broker-independent settings the scores were measured with. */
  settings: { ackDeadlineMs: number; sampleSize: number };
  overall: FitnessReport;
  connections: Omit<ConnectionFitness, 'facts'>[];
  alerts: FiringAlert[];
}

const scoresInput = z.object({
  connectionId: connectionId.optional(),
  /** Limit the report to destinations matching this glob (`*` = any run of characters). */
  destinations: z.string().min(1).max(300).optional(),
  /** Measure now instead of reusing a report younger than the cache TTL. */
  refresh: z.boolean().default(false),
}).strict();

async function scores(ctx: Context, input: z.infer<typeof scoresInput>): Promise<FitnessScores> {
  const { connections, fitness, settings } = ctx.services;
  // Without a connectionId: the connections the caller has a role on (the guard checked the one named).
  const visible = visibleConnectionIds(ctx);
  const targets = input.connectionId === undefined ? connections.all().filter((c) => visible.has(c.id)) : [connectionOf(ctx, input.connectionId)];
  const all = await Promise.all(targets.map((c) => fitness.forConnection(c, { scope: input.destinations ?? null, ...(input.refresh ? { maxAgeMs: 0 } : {}) })));
  const byId = new Map(targets.map((c) => [c.id, c]));
  return {
    at: new Date().toISOString(),
    settings: { ackDeadlineMs: settings.fitness.ackDeadlineMs, sampleSize: settings.fitness.sampleSize },
    overall: overallReport(all, (id) => {
      const connection = byId.get(id);
      return connection ? fitness.hintsOf(connection) : {};
    }),
    connections: all.map(({ facts: _facts, ...rest }) => rest),
    alerts: all.flatMap((c) => c.alerts),
  };
}

export const fitnessRouter = router({
  /** The criteria of the pattern card with their thresholds, for a page to lay out before scores arrive. */
  criteria: publicProcedure.query(() => CRITERIA.map((c) => ({ ...c }))),

  /** The five criteria per connection and overall, each with its evidence and the fixes for what fails. */
  scores: publicProcedure.input(scoresInput).query(({ ctx, input }) => scores(ctx, input)),

  /** The same, every `intervalMs` (fitness is recomputed at most every cache TTL). */
  live: publicProcedure
    .input(scoresInput.extend({ intervalMs: z.number().int().min(1_000).max(300_000).default(10_000), lastEventId }).strict())
    .subscription(async function* ({ ctx, input, signal }) {
      const close = ctx.services.metrics.subscriberOpened('fitness.live');
      try {
        let first = true;
        while (!signal?.aborted) {
          ctx.services.metrics.eventSent('fitness.live');
          // Only the first event honours `refresh`; later ones reuse reports younger than the cache TTL.
          yield await scores(ctx, { ...input, refresh: first && input.refresh });
          first = false;
          await pause(input.intervalMs, signal);
        }
      } finally {
        close();
      }
    }),
});
