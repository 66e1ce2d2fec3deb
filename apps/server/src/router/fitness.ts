import { z } from 'zod';
import { overallReport, type ConnectionFitness } from '../fitness/fitness-service';
import type { FiringAlert } from '../fitness/alert-rules';
import type { FitnessReport } from '@mailroom/core';
import { connectionOf, pause } from './helpers';
import { connectionId } from './schemas';
import { publicProcedure, router, type Context } from './trpc';

export interface FitnessScores {
  at: string;
  overall: FitnessReport;
  connections: Omit<ConnectionFitness, 'facts'>[];
  alerts: FiringAlert[];
}

const scoresInput = z.object({ connectionId: connectionId.optional(), refresh: z.boolean().default(false) });

async function scores(ctx: Context, input: z.infer<typeof scoresInput>): Promise<FitnessScores> {
  const { connections, fitness } = ctx.services;
  const targets = input.connectionId === undefined ? connections.all() : [connectionOf(ctx, input.connectionId)];
  const all = await Promise.all(targets.map((c) => fitness.forConnection(c, input.refresh ? 0 : undefined)));
  return {
    at: new Date().toISOString(),
    overall: overallReport(all),
    connections: all.map(({ facts: _facts, ...rest }) => rest),
    alerts: all.flatMap((c) => c.alerts),
  };
}

export const fitnessRouter = router({
  /** The five criteria per connection and overall, each with its evidence and the fixes for what fails. */
  scores: publicProcedure.input(scoresInput).query(({ ctx, input }) => scores(ctx, input)),

  /** The same, every `intervalMs` (fitness is recomputed at most every cache TTL). */
  live: publicProcedure
    .input(scoresInput.extend({ intervalMs: z.number().int().min(1_000).max(300_000).default(10_000) }))
    .subscription(async function* ({ ctx, input, signal }) {
      const close = ctx.services.metrics.subscriberOpened('fitness.live');
      try {
        while (!signal?.aborted) {
          ctx.services.metrics.eventSent('fitness.live');
          yield await scores(ctx, input);
          await pause(input.intervalMs, signal);
        }
      } finally {
        close();
      }
    }),
});
