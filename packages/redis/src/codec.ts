import {
  Headers,
  InvalidInputError,
  UnsupportedError,
  headerCount,
  headerDate,
  mailroomDeadLetterHeaders,
  retryHistoryEntries,
  type DeadLetterInfo,
  type PublishMessage,
  type ReceivedMessage,
  type StoredMessage,
} from '@mailroom/core';
import type { Arg } from './connection';

/**
 * How a Mailroom message is laid out as stream fields. Every field is binary-safe, so the
 * value's bytes, the key and unicode headers round-trip exactly:
 *   key        the key (absent when the key is null)
 *   timestamp  milliseconds since the epoch
 *   h:<name>   one field per header
 *   value      the value's bytes
 * Entries written by other tools (no `value` field) are shown with their fields as a JSON
 * object for a value; redrive copies every field as it is, whatever the layout.
 */
export const Field = {
  key: 'key',
  timestamp: 'timestamp',
  value: 'value',
  headerPrefix: 'h:',
  /** Written when a consumer moves an entry to the DLQ after too many deliveries. */
  dlqOrigin: 'dlq:origin',
  dlqId: 'dlq:id',
  dlqGroup: 'dlq:group',
  dlqDeliveries: 'dlq:deliveries',
  dlqReason: 'dlq:reason',
  dlqAt: 'dlq:at',
} as const;

export interface EnvelopeInput {
  key: string | null;
  value: Uint8Array;
  headers: Record<string, string>;
  timestamp?: Date;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeFields(message: EnvelopeInput): Arg[] {
  if (!(message.value instanceof Uint8Array)) throw new InvalidInputError('A message value must be bytes (Uint8Array)');
  const fields: Arg[] = [];
  if (message.key !== null) {
    if (typeof message.key !== 'string') throw new InvalidInputError('A message key must be a string or null');
    fields.push(Field.key, message.key);
  }
  const ts = message.timestamp ?? new Date();
  const ms = ts.getTime();
  fields.push(Field.timestamp, String(Number.isFinite(ms) ? ms : Date.now()));
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (typeof value !== 'string') throw new InvalidInputError(`Header ${JSON.stringify(name)} must have a string value`);
    fields.push(Field.headerPrefix + name, value);
  }
  fields.push(Field.value, toBuffer(message.value));
  return fields;
}

/** Publish properties Redis has no native slot for are carried as the matching headers. */
export function headersWithProperties(message: PublishMessage): Record<string, string> {
  const headers = { ...message.headers };
  const p = message.properties;
  if (!p) return headers;
  for (const [name, value] of Object.entries(p)) {
    if (value === undefined) continue;
    switch (name) {
      case 'messageId':
        headers[Headers.messageId] = String(value);
        break;
      case 'correlationId':
        headers[Headers.correlationId] = String(value);
        break;
      case 'replyTo':
        headers[Headers.replyTo] = String(value);
        break;
      case 'contentType':
        headers['content-type'] = String(value);
        break;
      default:
        throw new UnsupportedError(`Redis Streams has no ${name} property; put it in a header instead`);
    }
  }
  return headers;
}

// ---- reply parsing -------------------------------------------------------------------

export interface RawEntry {
  id: string;
  /** Alternating field, value. */
  fields: Buffer[];
}

function asBuffer(x: unknown): Buffer {
  if (Buffer.isBuffer(x)) return x;
  if (typeof x === 'string') return Buffer.from(x);
  if (typeof x === 'number') return Buffer.from(String(x));
  throw new TypeError(`unexpected Redis reply element ${typeof x}`);
}

export function asString(x: unknown): string {
  if (typeof x === 'string') return x;
  if (Buffer.isBuffer(x)) return x.toString('utf8');
  if (typeof x === 'number') return String(x);
  throw new TypeError(`unexpected Redis reply element ${typeof x}`);
}

export function asArray(x: unknown): unknown[] {
  if (x === null || x === undefined) return [];
  if (!Array.isArray(x)) throw new TypeError('expected an array reply from Redis');
  return x;
}

/** `[[id, [f, v, ...]], ...]` as XRANGE/XREVRANGE/XCLAIM return it. Entries without fields (deleted) are skipped. */
export function parseEntries(reply: unknown): RawEntry[] {
  const out: RawEntry[] = [];
  for (const item of asArray(reply)) {
    const pair = asArray(item);
    if (pair.length < 2 || pair[1] === null) continue;
    out.push({ id: asString(pair[0]), fields: asArray(pair[1]).map(asBuffer) });
  }
  return out;
}

/** XREAD/XREADGROUP: `[[stream, entries], ...]` or null. */
export function parseStreamsReply(reply: unknown): { stream: string; entries: RawEntry[] }[] {
  return asArray(reply).map((item) => {
    const pair = asArray(item);
    return { stream: asString(pair[0]), entries: parseEntries(pair[1]) };
  });
}

/** A flat `[k, v, k, v]` reply (XINFO) as a record. */
export function flatRecord(reply: unknown): Record<string, unknown> {
  const items = asArray(reply);
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < items.length; i += 2) out[asString(items[i])] = items[i + 1];
  return out;
}

export function numberOrNull(x: unknown): number | null {
  if (x === null || x === undefined) return null;
  const n = typeof x === 'number' ? x : Number(asString(x));
  return Number.isFinite(n) ? n : null;
}

export function idTime(id: string): number {
  const ms = Number(id.split('-')[0]);
  return Number.isFinite(ms) ? ms : 0;
}

// ---- entry decoding -----------------------------------------------------------------

interface DecodedEntry {
  key: string | null;
  value: Uint8Array;
  headers: Record<string, string>;
  timestamp: Date;
  properties: Record<string, string>;
  dlq: Record<string, string>;
  foreign: boolean;
}

export function fieldMap(fields: Buffer[]): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!.toString('utf8'), fields[i + 1]!);
  return map;
}

export function decodeEntry(entry: RawEntry): DecodedEntry {
  const headers: Record<string, string> = {};
  const properties: Record<string, string> = {};
  const dlq: Record<string, string> = {};
  let key: string | null = null;
  let value: Buffer | undefined;
  let timestamp: Date | null = null;
  const foreignFields: Record<string, string> = {};
  for (let i = 0; i + 1 < entry.fields.length; i += 2) {
    const name = entry.fields[i]!.toString('utf8');
    const raw = entry.fields[i + 1]!;
    if (name === Field.value) value = raw;
    else if (name === Field.key) key = raw.toString('utf8');
    else if (name === Field.timestamp) {
      const ms = Number(raw.toString('utf8'));
      if (Number.isFinite(ms)) timestamp = new Date(ms);
    } else if (name.startsWith(Field.headerPrefix)) headers[name.slice(Field.headerPrefix.length)] = raw.toString('utf8');
    else if (name.startsWith('dlq:')) dlq[name] = raw.toString('utf8');
    else properties[`field:${name}`] = raw.toString('utf8');
    foreignFields[name] = raw.toString('utf8');
  }
  if (value === undefined) {
    // Not written by Mailroom: show the whole entry, as fields, for a value.
    return {
      key: null,
      value: new TextEncoder().encode(JSON.stringify(foreignFields)),
      headers: {},
      timestamp: new Date(idTime(entry.id)),
      properties: { layout: 'fields' },
      dlq: {},
      foreign: true,
    };
  }
  return {
    key,
    value: new Uint8Array(value),
    headers,
    timestamp: timestamp ?? new Date(idTime(entry.id)),
    properties,
    dlq,
    foreign: false,
  };
}

/** Dead-letter facts from this adapter's dlq:* fields, else from core's retry headers. */
export function deadLetterInfoOf(headers: Record<string, string>, dlq: Record<string, string>): DeadLetterInfo | null {
  const h = mailroomDeadLetterHeaders(headers);
  const fieldOrigin = dlq[Field.dlqOrigin];
  if (fieldOrigin === undefined && h.origin === null) return null;
  if (fieldOrigin !== undefined) {
    const count = headerCount(dlq[Field.dlqDeliveries]);
    const reason = dlq[Field.dlqReason] ?? null;
    const time = headerDate(dlq[Field.dlqAt]);
    const history = retryHistoryEntries(h.retries, h.origin ?? fieldOrigin);
    history.push({ destination: fieldOrigin, reason, count: count ?? 1, time });
    return { origin: fieldOrigin, reason, attempts: count, failedAt: time, history };
  }
  return { origin: h.origin, reason: h.reason, attempts: h.attempts, failedAt: h.failedAt, history: retryHistoryEntries(h.retries, h.origin) };
}

export function toStoredMessage(destination: string, entry: RawEntry): StoredMessage {
  const d = decodeEntry(entry);
  const properties = { ...d.properties };
  for (const [name, value] of Object.entries(d.dlq)) properties[name] = value;
  return {
    id: entry.id,
    destination,
    partition: null,
    position: entry.id,
    key: d.key,
    value: d.value,
    headers: d.headers,
    timestamp: d.timestamp,
    deliveryCount: null,
    redelivered: null,
    deadLetter: deadLetterInfoOf(d.headers, d.dlq),
    properties,
  };
}

export function toReceivedMessage(topic: string, entry: RawEntry, deliveryCount: number | null): ReceivedMessage {
  const d = decodeEntry(entry);
  return { key: d.key, value: d.value, headers: d.headers, timestamp: d.timestamp, topic, id: entry.id, partition: null, deliveryCount };
}

/** The destination a dead letter came from, per dlq:* fields then core's origin header. */
export function originOf(entry: RawEntry): string | null {
  const map = fieldMap(entry.fields);
  const field = map.get(Field.dlqOrigin);
  if (field) return field.toString('utf8');
  const header = map.get(Field.headerPrefix + Headers.deadLetterOrigin);
  return header ? header.toString('utf8') : null;
}
