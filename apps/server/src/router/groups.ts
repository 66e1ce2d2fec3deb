import { z } from 'zod';
import type { ConsumerGroupDetail, ConsumerGroupSummary } from '@mailroom/core';
import { connectionOf, writable } from './helpers';
import { connectionId, destinationName, offsetResetTargetSchema } from './schemas';
import { inputString } from '../security/guard';
import { procedure, publicProcedure, router } from './trpc';

const groupName = z.string().min(1).max(1024);

export const groupsRouter = router({
  list: publicProcedure.input(z.object({ connectionId, destination: destinationName.optional() })).query(async ({ ctx, input }): Promise<ConsumerGroupSummary[]> => {
    const connection = connectionOf(ctx, input.connectionId);
    return connection.call('list consumer groups', (adapter) => adapter.listConsumerGroups(input.destination));
  }),

  describe: publicProcedure
    .input(z.object({ connectionId, name: groupName, destination: destinationName.optional() }))
    .query(async ({ ctx, input }): Promise<ConsumerGroupDetail> => {
      const connection = connectionOf(ctx, input.connectionId);
      return connection.call(`describe group ${input.name}`, (adapter) => adapter.describeConsumerGroup(input.name, input.destination));
    }),

  /** Moves an inactive group's position; refused (CONFLICT) while the group has members. */
  resetOffsets: procedure({
    role: 'admin',
    action: 'groups.resetOffsets',
    destination: inputString('destination'),
    detail: (i) => `group ${String(i.group)} to ${JSON.stringify(i.target)}`,
  })
    .input(z.object({ connectionId, group: groupName, destination: destinationName, target: offsetResetTargetSchema }))
    .mutation(async ({ ctx, input }): Promise<{ ok: true }> => {
      const connection = writable(ctx, input.connectionId, 'resetting offsets');
      const target = input.target.kind === 'timestamp' ? { kind: 'timestamp' as const, timestamp: new Date(input.target.timestamp) } : input.target;
      await connection.call(`reset offsets of ${input.group}`, (adapter) => adapter.resetOffsets(input.group, input.destination, target));
      return { ok: true };
    }),
});
