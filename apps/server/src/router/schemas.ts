import { z } from 'zod';
import { MAX_FILTER_LENGTH, MAX_PAGE_SIZE } from '@mailroom/core';

export const connectionId = z.string().min(1).max(100);
/** Broker rules are checked by the adapter (validateDestinationName); this only bounds the size. */
export const destinationName = z.string().min(1).max(1024);
export const filterExpression = z.string().max(MAX_FILTER_LENGTH);
export const isoDate = z.iso.datetime({ offset: true });

export const headersSchema = z.record(z.string().min(1).max(1024), z.string().max(64 * 1024));

export const valueSchema = z.discriminatedUnion('encoding', [
  z.object({ encoding: z.literal('text'), data: z.string() }),
  /** `data` is JSON text; it is checked to parse and sent as written. */
  z.object({ encoding: z.literal('json'), data: z.string() }),
  z.object({ encoding: z.literal('base64'), data: z.string() }),
]);

export const publishPropertiesSchema = z
  .object({
    partition: z.number().int().min(0).optional(),
    messageId: z.string().max(1024).optional(),
    correlationId: z.string().max(1024).optional(),
    replyTo: z.string().max(1024).optional(),
    contentType: z.string().max(255).optional(),
    expirationMs: z.number().int().min(0).optional(),
    delaySeconds: z.number().int().min(0).max(900).optional(),
    groupId: z.string().max(128).optional(),
    deduplicationId: z.string().max(128).optional(),
    routingKey: z.string().max(255).optional(),
    persistent: z.boolean().optional(),
  })
  .strict();

export const publishMessageSchema = z.object({
  key: z.string().max(64 * 1024).nullable().default(null),
  headers: headersSchema.default({}),
  value: valueSchema,
  properties: publishPropertiesSchema.optional(),
});

export const browseStartSchema = z.discriminatedUnion('from', [
  z.object({ from: z.literal('newest') }),
  z.object({ from: z.literal('oldest') }),
  z.object({ from: z.literal('position'), position: z.string().min(1).max(200) }),
  z.object({ from: z.literal('timestamp'), timestamp: isoDate }),
]);

export const pageLimit = z.number().int().min(1).max(MAX_PAGE_SIZE);

export const redriveSelectionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('all') }),
  z.object({ kind: z.literal('ids'), ids: z.array(z.string().min(1).max(1024)).min(1).max(10_000) }),
  z.object({ kind: z.literal('filter'), expression: filterExpression.min(1) }),
]);

export const offsetResetTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('earliest') }),
  z.object({ kind: z.literal('latest') }),
  z.object({ kind: z.literal('timestamp'), timestamp: isoDate }),
  // An offset, or a stream entry id (`<ms>-<seq>`, Redis): each adapter checks the form it uses.
  z.object({ kind: z.literal('offset'), partition: z.number().int().min(0), offset: z.string().max(60).regex(/^\d+(-\d+)?$/) }),
]);

/** Added by tRPC's SSE link on reconnect. */
export const lastEventId = z.string().max(200).nullish();
