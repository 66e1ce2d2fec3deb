import { z } from 'zod';
import type { ConnectionInfo } from '../connections/connection';
import { knownKinds } from '../connections/adapter-registry';
import { connectionOf, waitForWake } from './helpers';
import { connectionId, lastEventId } from './schemas';
import { viewOf, visibleConnections } from '../auth/visible';
import { procedure, router } from './trpc';

export const connectionsRouter = router({
  /** Every configured connection with its capabilities and health. Never includes credentials or broker config. */
  list: procedure({ role: null }).query(({ ctx }): ConnectionInfo[] => visibleConnections(ctx, ctx.services.connections.list())),

  get: procedure({ role: 'viewer' }).input(z.object({ connectionId })).query(({ ctx, input }): ConnectionInfo => viewOf(ctx, connectionOf(ctx, input.connectionId).info())!),

  /** Adapter kinds this server can connect to. */
  kinds: procedure({ role: null }).query((): string[] => knownKinds()),

  /** The list again every `intervalMs` (default 2 s) and at once whenever a connection goes up or down. */
  health: procedure({ role: null })
    .input(z.object({ intervalMs: z.number().int().min(500).max(60_000).default(2_000), lastEventId }).strict().default({ intervalMs: 2_000 }))
    .subscription(async function* ({ ctx, input, signal }) {
      const { connections, metrics } = ctx.services;
      const close = metrics.subscriberOpened('connections.health');
      let changed: () => void = () => undefined;
      const off = connections.onChange(() => changed());
      try {
        while (!signal?.aborted) {
          metrics.eventSent('connections.health');
          yield visibleConnections(ctx, connections.list());
          await waitForWake((wake) => (changed = wake), signal, input.intervalMs);
        }
      } finally {
        off();
        close();
      }
    }),
});
