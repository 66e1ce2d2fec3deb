import { z } from 'zod';
import type { WireMetricsSnapshot } from '../metrics/metrics-service';
import { connectionOf, waitForWake } from './helpers';
import { connectionId } from './schemas';
import { publicProcedure, router } from './trpc';

export const metricsRouter = router({
  /** The last snapshot the background collector took, or a fresh one when it is older than `maxAgeMs`. */
  snapshot: publicProcedure
    .input(z.object({ connectionId, maxAgeMs: z.number().int().min(0).max(600_000).default(5_000) }))
    .query(async ({ ctx, input }): Promise<WireMetricsSnapshot> => {
      const connection = connectionOf(ctx, input.connectionId);
      const latest = ctx.services.metrics.latest(connection.id);
      if (latest && Date.now() - Date.parse(latest.at) <= input.maxAgeMs) return latest;
      const snapshot = await connection.call('metrics', (adapter) => adapter.metrics());
      return { connectionId: connection.id, at: snapshot.at.toISOString(), destinations: snapshot.destinations, groups: snapshot.groups };
    }),

  /** A snapshot whenever the background collector takes one (every few seconds). */
  live: publicProcedure.input(z.object({ connectionId })).subscription(async function* ({ ctx, input, signal }) {
    const connection = connectionOf(ctx, input.connectionId);
    const { metrics } = ctx.services;
    const queue: WireMetricsSnapshot[] = [];
    let wake: () => void = () => undefined;
    const off = metrics.onSnapshot(connection.id, (snapshot) => {
      queue.splice(0, queue.length, snapshot); // only the newest matters
      wake();
    });
    const close = metrics.subscriberOpened('metrics.live');
    try {
      const first = metrics.latest(connection.id) ?? (await metrics.collect(connection));
      if (first) {
        metrics.eventSent('metrics.live');
        yield first;
      }
      while (!signal?.aborted) {
        if (queue.length === 0) {
          await waitForWake((w) => (wake = w), signal);
          continue;
        }
        metrics.eventSent('metrics.live');
        yield queue.shift()!;
      }
    } finally {
      off();
      close();
    }
  }),
});
