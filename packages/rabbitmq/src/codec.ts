import { createHash, randomUUID } from 'node:crypto';
import type { Message as AmqpMessage, MessageProperties, Options } from 'amqplib';
import {
  Headers,
  mailroomDeadLetterHeaders,
  plainBytes,
  type DeadLetterInfo,
  type Message,
  type PublishMessage,
  type StoredMessage,
} from '@mailroom/core';
import { assertRoutingKey } from './names';

/**
 * Headers Mailroom adds on the wire and removes again on read, so a message's own headers
 * round-trip exactly: the key (null and '' differ, and a routing key cannot say which) and
 * the millisecond timestamp (the AMQP timestamp property only has seconds).
 */
export const WireHeaders = {
  key: 'x-mailroom-key',
  timestampMs: 'x-mailroom-timestamp-ms',
} as const;

/** Headers the broker adds on delivery; they are reported as positions/counts instead. */
const BROKER_DELIVERY_HEADERS = new Set(['x-stream-offset', 'x-delivery-count', WireHeaders.key, WireHeaders.timestampMs]);

export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The AMQP publish options and routing key for a contract Message. */
export function encodeMessage(message: Message, routeByKey: boolean): { routingKey: string; options: Options.Publish } {
  const key = message.key;
  if (routeByKey && key !== null) assertRoutingKey(key);
  const headers: Record<string, string> = { ...message.headers };
  if (key !== null) headers[WireHeaders.key] = key;
  const ms = message.timestamp instanceof Date && !Number.isNaN(message.timestamp.getTime()) ? message.timestamp.getTime() : Date.now();
  headers[WireHeaders.timestampMs] = String(ms);
  const options: Options.Publish = {
    persistent: true,
    headers,
    messageId: message.headers[Headers.messageId] ?? randomUUID(),
    timestamp: Math.floor(ms / 1000),
    mandatory: true,
  };
  const correlationId = message.headers[Headers.correlationId];
  if (correlationId !== undefined) options.correlationId = correlationId;
  const replyTo = message.headers[Headers.replyTo];
  if (replyTo !== undefined) options.replyTo = replyTo;
  return { routingKey: routeByKey && key !== null ? key : '', options };
}

/** Publish options for an operator's message from the dashboard (properties honoured as given). */
export function encodePublishMessage(message: PublishMessage, routeByKey: boolean): { routingKey: string; options: Options.Publish } {
  const props = message.properties ?? {};
  const { routingKey, options } = encodeMessage(
    { key: message.key, value: message.value, headers: message.headers, timestamp: new Date() },
    routeByKey && props.routingKey === undefined,
  );
  if (props.routingKey !== undefined) assertRoutingKey(props.routingKey);
  if (props.messageId !== undefined) options.messageId = props.messageId;
  if (props.correlationId !== undefined) options.correlationId = props.correlationId;
  if (props.replyTo !== undefined) options.replyTo = props.replyTo;
  if (props.contentType !== undefined) options.contentType = props.contentType;
  if (props.expirationMs !== undefined) options.expiration = String(Math.max(0, Math.floor(props.expirationMs)));
  if (props.persistent !== undefined) options.persistent = props.persistent;
  return { routingKey: props.routingKey ?? routingKey, options };
}

function isTimestamp(value: unknown): value is { '!': 'timestamp'; value: number } {
  return typeof value === 'object' && value !== null && (value as { '!'?: unknown })['!'] === 'timestamp';
}

/** JSON for header values that are not strings (x-death tables, arrays, Buffers). */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (isTimestamp(value)) return new Date(value.value * 1000).toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}

export function headerText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  const converted = plain(value);
  return typeof converted === 'string' ? converted : JSON.stringify(converted);
}

/** Every header as text, without the ones the wire format or the broker added. */
export function decodeHeaders(raw: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const [name, value] of Object.entries(raw)) {
    if (BROKER_DELIVERY_HEADERS.has(name)) continue;
    const text = headerText(value);
    if (text !== null) out[name] = text;
  }
  return out;
}

export function decodeKey(message: AmqpMessage): string | null {
  const raw = message.properties.headers?.[WireHeaders.key];
  if (raw !== undefined) return headerText(raw);
  // Published by another tool: its routing key is the closest thing to a key, unless it was
  // only the queue name on the default exchange.
  if (message.fields.exchange !== '' && message.fields.routingKey !== '') return message.fields.routingKey;
  return null;
}

export function decodeTimestamp(message: AmqpMessage): Date | null {
  const ms = message.properties.headers?.[WireHeaders.timestampMs];
  if (ms !== undefined) {
    const parsed = Number(headerText(ms));
    if (Number.isFinite(parsed)) return new Date(parsed);
  }
  const ts: unknown = message.properties.timestamp;
  if (typeof ts === 'number' && Number.isFinite(ts) && ts > 0) {
    // The AMQP timestamp is seconds; some clients put milliseconds in it.
    return new Date(ts > 1e11 ? ts : ts * 1000);
  }
  return null;
}

/** How often the broker has delivered this message, this delivery included, where it knows. */
export function decodeDeliveryCount(message: AmqpMessage): number | null {
  const count = message.properties.headers?.['x-delivery-count'];
  if (typeof count === 'number') return count + 1;
  return message.fields.redelivered ? null : 1;
}

export function streamOffset(message: AmqpMessage): number | null {
  const offset = message.properties.headers?.['x-stream-offset'];
  return typeof offset === 'number' ? offset : null;
}

const PROPERTY_NAMES: (keyof MessageProperties)[] = [
  'messageId',
  'correlationId',
  'replyTo',
  'contentType',
  'contentEncoding',
  'expiration',
  'deliveryMode',
  'priority',
  'type',
  'appId',
  'userId',
  'timestamp',
];

export function decodeProperties(message: AmqpMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of PROPERTY_NAMES) {
    const text = headerText(message.properties[name]);
    if (text !== null) out[name] = text;
  }
  out['exchange'] = message.fields.exchange;
  out['routingKey'] = message.fields.routingKey;
  return out;
}

export interface XDeathEntry {
  queue: string | null;
  reason: string | null;
  count: number;
  time: Date | null;
  exchange: string | null;
  routingKeys: string[];
}

/** RabbitMQ's `x-death` header, most recent death first (as the broker orders it). */
export function parseXDeath(headers: Record<string, unknown> | undefined): XDeathEntry[] {
  const raw = headers?.['x-death'];
  if (!Array.isArray(raw)) return [];
  const out: XDeathEntry[] = [];
  for (const entry of raw) {
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as Record<string, unknown>;
    const time = e['time'];
    const keys = e['routing-keys'];
    out.push({
      queue: headerText(e['queue']),
      reason: headerText(e['reason']),
      count: typeof e['count'] === 'number' ? e['count'] : 1,
      time: isTimestamp(time) ? new Date(time.value * 1000) : null,
      exchange: headerText(e['exchange']),
      routingKeys: Array.isArray(keys) ? keys.map((k) => headerText(k) ?? '') : [],
    });
  }
  return out;
}

/**
 * Dead-letter facts from the broker's x-death and from Mailroom's own headers (written by
 * core's handleWithRetry). Null when the message carries neither.
 */
export function decodeDeadLetter(raw: Record<string, unknown> | undefined, headers: Record<string, string>): DeadLetterInfo | null {
  const deaths = parseXDeath(raw);
  const h = mailroomDeadLetterHeaders(headers);
  if (deaths.length === 0 && h.origin === null) return null;
  const latest = deaths[0];
  const history: DeadLetterInfo['history'] = deaths
    .slice()
    .reverse()
    .map((d) => ({ destination: d.queue, reason: d.reason, count: d.count, time: d.time }));
  if (h.origin !== null) history.push({ destination: h.origin, reason: h.reason, count: h.attempts ?? 1, time: h.failedAt });
  const deliveryLimitDeaths = deaths.filter((d) => d.reason === 'delivery_limit' || d.reason === 'rejected');
  return {
    origin: latest?.queue ?? h.origin,
    reason: latest?.reason ?? h.reason,
    attempts: h.attempts ?? (deliveryLimitDeaths.length > 0 ? deliveryLimitDeaths.reduce((sum, d) => sum + d.count, 0) : (latest?.count ?? null)),
    failedAt: latest?.time ?? h.failedAt,
    history,
  };
}

/**
 * A stable id for a stored message: its AMQP message id, else its stream offset, else a
 * digest of what it carries (so the same message gets the same id on every peek).
 */
export function storedMessageId(message: AmqpMessage): string {
  const messageId = headerText(message.properties.messageId);
  if (messageId !== null && messageId !== '') return messageId;
  const offset = streamOffset(message);
  if (offset !== null) return `offset:${offset}`;
  const digest = createHash('sha256');
  digest.update(message.fields.exchange);
  digest.update('\0');
  digest.update(message.fields.routingKey);
  digest.update('\0');
  const stableHeaders: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(message.properties.headers ?? {})) {
    if (name !== 'x-delivery-count' && name !== 'x-stream-offset') stableHeaders[name] = value;
  }
  digest.update(JSON.stringify(plain({ ...message.properties, headers: stableHeaders })));
  digest.update('\0');
  digest.update(message.content);
  return `sha256:${digest.digest('hex').slice(0, 32)}`;
}

export function toStoredMessage(message: AmqpMessage, destination: string): StoredMessage {
  const headers = decodeHeaders(message.properties.headers);
  const offset = streamOffset(message);
  return {
    id: storedMessageId(message),
    destination,
    partition: null,
    position: offset === null ? null : String(offset),
    key: decodeKey(message),
    value: plainBytes(message.content),
    headers,
    timestamp: decodeTimestamp(message) ?? new Date(),
    deliveryCount: offset === null ? decodeDeliveryCount(message) : null,
    redelivered: offset === null ? message.fields.redelivered : null,
    deadLetter: decodeDeadLetter(message.properties.headers, headers),
    properties: decodeProperties(message),
  };
}
