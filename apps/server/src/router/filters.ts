import { z } from 'zod';
import { MAX_FILTER_LENGTH, validateFilter, type FilterValidation } from '@mailroom/core';
import { publicProcedure, router } from './trpc';

export const filtersRouter = router({
  /** Parses a filter expression without running it: { ok } or the error and its character position. */
  validate: publicProcedure.input(z.object({ expression: z.string().max(MAX_FILTER_LENGTH * 2) })).query(({ input }): FilterValidation => validateFilter(input.expression)),
});
