import { z } from 'zod';
import type { PendingEntry } from '@mailroom/core';
import { connectionOf, writable } from './helpers';
import { connectionId, destinationName } from './schemas';
import { inputString } from '../security/guard';
import { procedure, publicProcedure, router } from './trpc';

const group = z.string().min(1).max(1024);
const ids = z.array(z.string().min(1).max(200)).min(1).max(1000);

export const pendingRouter = router({
  /** Delivered but unacknowledged entries of a group (brokers with capabilities.pendingEntries). */
  list: publicProcedure
    .input(z.object({ connectionId, destination: destinationName, group, limit: z.number().int().min(1).max(1000).default(100) }))
    .query(async ({ ctx, input }): Promise<PendingEntry[]> => {
      const connection = connectionOf(ctx, input.connectionId);
      return connection.call('list pending entries', (adapter) => adapter.listPending(input.destination, input.group, input.limit));
    }),

  ack: procedure({ role: 'operator', action: 'pending.ack', destination: inputString('destination'), detail: (i) => `group ${String(i.group)}`, count: (r) => (r as { acked: number }).acked }).input(z.object({ connectionId, destination: destinationName, group, ids })).mutation(async ({ ctx, input }): Promise<{ acked: number }> => {
    const connection = writable(ctx, input.connectionId, 'acknowledging pending entries');
    return { acked: await connection.call('ack pending entries', (adapter) => adapter.ackPending(input.destination, input.group, input.ids)) };
  }),

  claim: procedure({ role: 'operator', action: 'pending.claim', destination: inputString('destination'), detail: (i) => `group ${String(i.group)} to ${String(i.consumer)}`, count: (r) => (r as { claimed: number }).claimed })
    .input(z.object({ connectionId, destination: destinationName, group, consumer: z.string().min(1).max(200), ids }))
    .mutation(async ({ ctx, input }): Promise<{ claimed: number }> => {
      const connection = writable(ctx, input.connectionId, 'claiming pending entries');
      return { claimed: await connection.call('claim pending entries', (adapter) => adapter.claimPending(input.destination, input.group, input.consumer, input.ids)) };
    }),
});
