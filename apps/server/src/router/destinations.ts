import { z } from 'zod';
import type { DestinationDetail, DestinationSummary } from '@mailroom/core';
import { connectionOf, writable } from './helpers';
import { connectionId, destinationName } from './schemas';
import { inputString } from '../security/guard';
import { procedure, publicProcedure, router } from './trpc';

export const destinationsRouter = router({
  /**
   * One page of the connection's destinations. The broker's list is cached per connection for a
   * few seconds (`fetchedAt` says when it was read), so search, sort and paging are in memory.
   */
  list: publicProcedure
    .input(
      z.object({
        connectionId,
        search: z.string().max(200).optional(),
        sort: z.enum(['name', 'depth', 'lag', 'publishRate']).default('name'),
        dir: z.enum(['asc', 'desc']).default('asc'),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(500).default(100),
        deadLettersOnly: z.boolean().optional(),
        /** Skip the cache and ask the broker now. */
        refresh: z.boolean().optional(),
      }),
    )
    .query(async ({ ctx, input }): Promise<{ items: DestinationSummary[]; total: number; fetchedAt: string }> => {
      const connection = connectionOf(ctx, input.connectionId);
      if (input.refresh) ctx.services.destinations.invalidate(connection.id);
      return ctx.services.destinations.query(connection, input);
    }),

  describe: publicProcedure.input(z.object({ connectionId, name: destinationName })).query(async ({ ctx, input }): Promise<DestinationDetail> => {
    const connection = connectionOf(ctx, input.connectionId);
    return connection.call(`describe ${input.name}`, async (adapter) => {
      adapter.validateDestinationName(input.name);
      return adapter.describeDestination(input.name);
    });
  }),

  /** The DLQ name the broker's convention gives a destination. */
  deadLetterName: publicProcedure.input(z.object({ connectionId, name: destinationName })).query(({ ctx, input }): { name: string } => {
    const adapter = connectionOf(ctx, input.connectionId).requireAdapter();
    adapter.validateDestinationName(input.name);
    return { name: adapter.deadLetterNameFor(input.name) };
  }),

  create: procedure({ role: 'admin', action: 'destinations.create', destination: inputString('name') })
    .input(
      z.object({
        connectionId,
        name: destinationName,
        partitions: z.number().int().min(1).max(10_000).optional(),
        type: z.string().max(50).optional(),
        deadLetter: z.object({ destination: destinationName, maxDeliveries: z.number().int().min(1).max(1000) }).optional(),
      }),
    )
    .mutation(async ({ ctx, input }): Promise<{ created: string }> => {
      const connection = writable(ctx, input.connectionId, 'creating destinations');
      await connection.call(`create ${input.name}`, async (adapter) => {
        adapter.validateDestinationName(input.name);
        await adapter.createDestination(input.name, {
          ...(input.partitions !== undefined ? { partitions: input.partitions } : {}),
          ...(input.type !== undefined ? { type: input.type } : {}),
          ...(input.deadLetter !== undefined ? { deadLetter: input.deadLetter } : {}),
        });
      });
      ctx.services.destinations.invalidate(connection.id);
      return { created: input.name };
    }),

  delete: procedure({ role: 'admin', action: 'destinations.delete', destination: inputString('name') }).input(z.object({ connectionId, name: destinationName })).mutation(async ({ ctx, input }): Promise<{ deleted: string }> => {
    const connection = writable(ctx, input.connectionId, 'deleting destinations');
    await connection.call(`delete ${input.name}`, async (adapter) => {
      adapter.validateDestinationName(input.name);
      await adapter.deleteDestination(input.name);
    });
    ctx.services.destinations.invalidate(connection.id);
    return { deleted: input.name };
  }),

  purge: procedure({ role: 'operator', action: 'destinations.purge', destination: inputString('name'), count: (r) => (r as { removed: number | null }).removed }).input(z.object({ connectionId, name: destinationName })).mutation(async ({ ctx, input }): Promise<{ removed: number | null }> => {
    const connection = writable(ctx, input.connectionId, 'purging destinations');
    const removed = await connection.call(`purge ${input.name}`, async (adapter) => {
      adapter.validateDestinationName(input.name);
      return adapter.purge(input.name);
    });
    ctx.services.destinations.invalidate(connection.id);
    return { removed };
  }),
});
