import { z } from 'zod';
import type { ConnectionInfo } from '../connections/connection';
import { knownKinds } from '../connections/adapter-registry';
import { connectionOf, waitForWake } from './helpers';
import { connectionId } from './schemas';
import { publicProcedure, router } from './trpc';

export const connectionsRouter = router({
  /** Every configured connection with its capabilities and health. Never includes credentials or broker config. */
  list: publicProcedure.query(({ ctx }): ConnectionInfo[] => ctx.services.connections.list()),

  get: publicProcedure.input(z.object({ connectionId })).query(({ ctx, input }): ConnectionInfo => connectionOf(ctx, input.connectionId).info()),

  /** Adapter kinds this server can connect to. */
  kinds: publicProcedure.query((): string[] => knownKinds()),

  /** The list again every `intervalMs` (default 2 s) and at once whenever a connection goes up or down. */
  health: publicProcedure
    .input(z.object({ intervalMs: z.number().int().min(500).max(60_000).default(2_000) }).default({ intervalMs: 2_000 }))
    .subscription(async function* ({ ctx, input, signal }) {
      const { connections, metrics } = ctx.services;
      const close = metrics.subscriberOpened('connections.health');
      let changed: () => void = () => undefined;
      const off = connections.onChange(() => changed());
      try {
        while (!signal?.aborted) {
          metrics.eventSent('connections.health');
          yield connections.list();
          await waitForWake((wake) => (changed = wake), signal, input.intervalMs);
        }
      } finally {
        off();
        close();
      }
    }),
});
