import { z } from 'zod';
import type { DeadLetterLink } from '@mailroom/core';
import { connectionOf } from './helpers';
import { connectionId } from './schemas';
import { publicProcedure, router } from './trpc';

export const deadLettersRouter = router({
  /** Every DLQ of the connection with the destinations that feed it and how the link was found. */
  list: publicProcedure.input(z.object({ connectionId })).query(async ({ ctx, input }): Promise<DeadLetterLink[]> => {
    const connection = connectionOf(ctx, input.connectionId);
    return connection.call('list dead-letter queues', (adapter) => adapter.listDeadLetterQueues());
  }),
});
