import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  Headers,
  InvalidInputError,
  RequestReplyClient,
  RequestTimeoutError,
  TooLargeError,
  UnsupportedError,
  compileFilter,
  fromBase64,
  utf8,
  withTimeout,
  type BrokerAdapter,
  type PublishMessage,
  type PublishPropertyName,
  type ReceivedMessage,
  type StoredMessage,
} from '@mailroom/core';
import type { MessageMask } from '../masking/masker';
import { tailForReply } from '../streams/reply-tail';
import { inputString } from '../security/guard';
import { BROWSE_MAX_VALUE_BYTES, toWireMessage, type WireMessage } from '../wire';
import { connectionOf, writable } from './helpers';
import { browseStartSchema, connectionId, destinationName, filterExpression, lastEventId, pageLimit, publishMessageSchema } from './schemas';
import { procedure, router, type Context } from './trpc';

type PublishInput = z.infer<typeof publishMessageSchema>;

const MAX_PUBLISH_TOTAL = 100_000;

function decodeValue(value: PublishInput['value'], index: number): Uint8Array {
  if (value.encoding === 'text') return utf8(value.data);
  if (value.encoding === 'json') {
    try {
      JSON.parse(value.data);
    } catch (error) {
      throw new InvalidInputError(`messages[${index}].value is not valid JSON: ${(error as Error).message}`);
    }
    return utf8(value.data);
  }
  try {
    return fromBase64(value.data);
  } catch {
    throw new InvalidInputError(`messages[${index}].value is not valid base64`);
  }
}

function toPublishMessages(ctx: Context, adapter: BrokerAdapter, messages: PublishInput[]): PublishMessage[] {
  const honoured = new Set<PublishPropertyName>(adapter.capabilities.publishProperties);
  const limit = adapter.capabilities.maxMessageBytes;
  const limits = ctx.services.settings.security.limits;
  return messages.map((m, index) => {
    const headerCount = Object.keys(m.headers).length;
    if (headerCount > limits.maxHeaders) throw new InvalidInputError(`messages[${index}] has ${headerCount} headers; at most ${limits.maxHeaders} are allowed`);
    const value = decodeValue(m.value, index);
    if (value.byteLength > limits.maxMessageBytes) {
      throw new TooLargeError(`messages[${index}] is ${value.byteLength} bytes; Mailroom accepts at most ${limits.maxMessageBytes} (limits.maxMessageBytes)`);
    }
    if (limit !== null && value.byteLength > limit) {
      throw new TooLargeError(`messages[${index}] is ${value.byteLength} bytes; this ${adapter.kind} connection accepts at most ${limit}`);
    }
    const properties = m.properties ?? {};
    for (const name of Object.keys(properties) as PublishPropertyName[]) {
      if (properties[name] !== undefined && !honoured.has(name)) {
        throw new UnsupportedError(`messages[${index}].properties.${name} is not supported by this ${adapter.kind} connection`, {
          hint: `Supported properties: ${[...honoured].join(', ') || 'none'}`,
        });
      }
    }
    return { key: m.key, value, headers: m.headers, ...(m.properties ? { properties: m.properties } : {}) };
  });
}

function receivedToWire(message: ReceivedMessage, mask: MessageMask): WireMessage {
  return toWireMessage(
    {
      id: message.id,
      destination: message.topic,
      partition: message.partition,
      position: null,
      key: message.key,
      value: message.value,
      headers: message.headers,
      timestamp: message.timestamp,
      deliveryCount: message.deliveryCount,
      redelivered: null,
      deadLetter: null,
      properties: {},
    },
    BROWSE_MAX_VALUE_BYTES,
    mask,
  );
}

export interface BrowseResult {
  messages: WireMessage[];
  nextCursor: string | null;
  scanned: number;
  destructive: boolean;
  warnings: string[];
}

export const messagesRouter = router({
  /** A page of stored messages (newest first from 'newest'). On brokers where reading has side effects it needs `force`. */
  browse: procedure({ role: 'viewer', sideEffects: (i) => i.force === true })
    .input(
      z.object({
        connectionId,
        destination: destinationName,
        start: browseStartSchema.default({ from: 'newest' }),
        cursor: z.string().max(4096).nullish(),
        partition: z.number().int().min(0).nullish(),
        limit: pageLimit.default(50),
        filter: filterExpression.nullish(),
        force: z.boolean().default(false),
      }),
    )
    .query(async ({ ctx, input, signal }): Promise<BrowseResult> => {
      const connection = connectionOf(ctx, input.connectionId);
      const { maxPageSize } = ctx.services.settings.security.limits;
      if (input.limit > maxPageSize) throw new InvalidInputError(`limit is ${input.limit}; at most ${maxPageSize} messages per page (limits.maxPageSize)`);
      const mask = ctx.services.masker.forConnection(connection.id);
      const predicate = input.filter && input.filter.trim() !== '' ? compileFilter(input.filter) : null;
      // Filters see the masked message: a filter must not be an oracle for masked values.
      const filter = predicate === null ? null : (m: Parameters<typeof predicate>[0]) => predicate(mask(m));
      const start = input.start.from === 'timestamp' ? { from: 'timestamp' as const, timestamp: new Date(input.start.timestamp) } : input.start;
      const page = await connection.call(
        `browse ${input.destination}`,
        async (adapter) => {
          adapter.validateDestinationName(input.destination);
          return adapter.browse({
            destination: input.destination,
            start,
            cursor: input.cursor ?? null,
            partition: input.partition ?? null,
            limit: input.limit,
            filter,
            force: input.force,
            ...(signal ? { signal } : {}),
          });
        },
        Math.max(ctx.services.settings.callTimeoutMs, 15_000),
      );
      return {
        messages: page.messages.map((m) => toWireMessage(m, BROWSE_MAX_VALUE_BYTES, mask)),
        nextCursor: page.nextCursor,
        scanned: page.scanned,
        destructive: page.destructive,
        warnings: page.warnings,
      };
    }),

  /**
   * Live tail over SSE. Events are batches (flushed every ~100 ms or 300 messages) with a
   * `skipped` count when the reader falls behind. Reconnecting with the last event id (the
   * httpSubscriptionLink does it) resumes from the server's ring of recent batches.
   */
  tail: procedure({ role: 'viewer' })
    .input(
      z.object({
        connectionId,
        destination: destinationName,
        partition: z.number().int().min(0).nullish(),
        filter: filterExpression.nullish(),
        force: z.boolean().default(false),
        lastEventId,
      }),
    )
    .subscription(async function* ({ ctx, input, signal }) {
      const connection = connectionOf(ctx, input.connectionId);
      yield* ctx.services.tails.stream(
        connection,
        { destination: input.destination, partition: input.partition ?? null, filter: input.filter ?? null, force: input.force, lastEventId: input.lastEventId ?? null, mask: ctx.services.masker.forConnection(connection.id) },
        signal ?? new AbortController().signal,
      );
    }),

  /** Publishes one or more messages (each repeated `copies` times) in one batch. */
  publish: procedure({
    role: 'operator',
    action: 'messages.publish',
    destination: inputString('destination'),
    detail: (i) => (Array.isArray(i.messages) ? `${i.messages.length} message(s) × ${typeof i.copies === 'number' ? i.copies : 1}` : null),
    count: (r) => (r as { published: number }).published,
  })
    .input(
      z.object({
        connectionId,
        destination: destinationName,
        messages: z.array(publishMessageSchema).min(1).max(MAX_PUBLISH_TOTAL),
        copies: z.number().int().min(1).max(MAX_PUBLISH_TOTAL).default(1),
      }),
    )
    .mutation(async ({ ctx, input }): Promise<{ published: number; ids: (string | null)[] }> => {
      const connection = writable(ctx, input.connectionId, 'publishing');
      const maxBatch = ctx.services.settings.security.limits.maxBatchMessages;
      if (input.messages.length * input.copies > maxBatch) {
        throw new InvalidInputError(`At most ${maxBatch} messages per publish (messages × copies); got ${input.messages.length * input.copies}`);
      }
      const result = await connection.call(
        `publish to ${input.destination}`,
        async (adapter) => {
          adapter.validateDestinationName(input.destination);
          const once = toPublishMessages(ctx, adapter, input.messages);
          const all = input.copies === 1 ? once : Array.from({ length: input.copies }, () => once).flat();
          return adapter.publish(input.destination, all);
        },
        Math.max(ctx.services.settings.callTimeoutMs, 30_000),
      );
      return { published: result.published, ids: result.ids };
    }),

  /**
   * Request-reply: sends the message with a correlation id and reply-to, and waits up to
   * `timeoutMs` for the reply. Without `replyTo`, a temporary reply destination is created and
   * deleted afterwards (brokers that cannot create destinations need `replyTo`).
   */
  request: procedure({ role: 'operator', action: 'messages.request', destination: inputString('destination'), count: () => 1 })
    .input(
      z.object({
        connectionId,
        destination: destinationName,
        replyTo: destinationName.nullish(),
        message: publishMessageSchema,
        timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
      }),
    )
    .mutation(async ({ ctx, input }): Promise<{ reply: WireMessage; elapsedMs: number; correlationId: string | null }> => {
      const connection = writable(ctx, input.connectionId, 'sending requests');
      const adapter = await connection.reachableAdapter();
      adapter.validateDestinationName(input.destination);
      const [message] = toPublishMessages(ctx, adapter, [input.message]);
      const temporary = input.replyTo ? null : `mailroom-reply-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
      const replyTopic = input.replyTo ?? temporary!;
      adapter.validateDestinationName(replyTopic);
      const setupMs = ctx.services.settings.callTimeoutMs;
      const started = performance.now();
      if (temporary) {
        if (!adapter.capabilities.createDestination) {
          throw new UnsupportedError(`This ${adapter.kind} connection cannot create a temporary reply destination`, { hint: 'Give replyTo: an existing destination the responder answers on.' });
        }
        await connection.call('create reply destination', (a) => a.createDestination(temporary, { partitions: 1 }), setupMs);
      }
      const mask = ctx.services.masker.forConnection(connection.id);
      try {
        // A reply consumer would leave its group on the broker: where groups persist, await the reply with a tail instead.
        const tailed = adapter.capabilities.consumerGroups ? await requestByTail(adapter, input.destination, replyTopic, message!, input.timeoutMs, setupMs, connection) : null;
        if (tailed) return { reply: toWireMessage(tailed, BROWSE_MAX_VALUE_BYTES, mask), elapsedMs: Math.round(performance.now() - started), correlationId: tailed.headers[Headers.correlationId] ?? null };
        const reply = await requestByConsumer(adapter, input.destination, replyTopic, message!, input.timeoutMs, setupMs, connection);
        return { reply: receivedToWire(reply, mask), elapsedMs: Math.round(performance.now() - started), correlationId: reply.headers[Headers.correlationId] ?? null };
      } finally {
        if (temporary) await connection.call('delete reply destination', (a) => a.deleteDestination(temporary), setupMs).catch(() => undefined);
      }
    }),
});

type RequestConnection = ReturnType<typeof writable>;

/**
 * Request-reply without a consumer group: tails `replyTo` for the correlation id (positioned
 * before the request goes out), so nothing is left on the broker. Null when this destination
 * cannot be tailed (UnsupportedError, e.g. a RabbitMQ queue fed only by the default exchange):
 * the caller then falls back to a reply consumer.
 */
async function requestByTail(
  adapter: BrokerAdapter,
  destination: string,
  replyTo: string,
  message: PublishMessage,
  timeoutMs: number,
  setupMs: number,
  connection: RequestConnection,
): Promise<StoredMessage | null> {
  const correlationId = randomUUID();
  const tail = tailForReply(adapter, replyTo, correlationId);
  const producer = adapter.createProducer();
  try {
    try {
      await withTimeout(tail.ready, setupMs, `${connection.label}: tail ${replyTo} for the reply`);
    } catch (error) {
      if (error instanceof UnsupportedError) return null;
      throw connection.mapError(error);
    }
    await connection.call(
      `request to ${destination}`,
      () => producer.send(destination, { key: message.key, value: message.value, headers: { ...message.headers, [Headers.correlationId]: correlationId, [Headers.replyTo]: replyTo }, timestamp: new Date() }),
      setupMs,
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RequestTimeoutError(`No reply on ${replyTo} within ${timeoutMs} ms for request ${correlationId} to ${destination}`)), timeoutMs);
    });
    try {
      const reply = await Promise.race([tail.reply, timeout]).catch((error: unknown) => {
        throw connection.mapError(error);
      });
      if (reply === null) throw connection.mapError(new RequestTimeoutError(`The tail of ${replyTo} ended before a reply to request ${correlationId} arrived`));
      return reply;
    } finally {
      clearTimeout(timer);
    }
  } finally {
    tail.stop();
    await Promise.allSettled([tail.reply, producer.close()]);
  }
}

/** Request-reply with a reply consumer in a throwaway group (brokers without persistent groups, or a destination that cannot be tailed). */
async function requestByConsumer(
  adapter: BrokerAdapter,
  destination: string,
  replyTo: string,
  message: PublishMessage,
  timeoutMs: number,
  setupMs: number,
  connection: RequestConnection,
): Promise<ReceivedMessage> {
  const consumer = adapter.createConsumer({ group: `mailroom-request-${randomBytes(4).toString('hex')}` });
  const producer = adapter.createProducer();
  let client: RequestReplyClient | null = null;
  try {
    await connection.call('subscribe to replies', () => consumer.subscribe([replyTo]), setupMs);
    client = new RequestReplyClient({ producer, replyConsumer: consumer, replyTopic: replyTo });
    return await withTimeout(
      client.request(destination, { key: message.key, value: message.value, headers: message.headers, timestamp: new Date() }, timeoutMs),
      timeoutMs + setupMs,
      `${connection.label}: request to ${destination}`,
    ).catch((error) => {
      throw connection.mapError(error);
    });
  } finally {
    await Promise.allSettled([client ? client.close() : consumer.close(), producer.close()]);
  }
}
