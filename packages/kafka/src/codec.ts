import { Headers, fromUtf8, mailroomDeadLetterHeaders, plainBytes, retryHistoryEntries, type DeadLetterInfo, type Message, type ReceivedMessage, type StoredMessage } from '@mailroom/core';
import type { IHeaders } from 'kafkajs';
import type { RawRecord } from './raw';

/** Spring Kafka's DeadLetterPublishingRecoverer headers. */
export const SpringDlt = {
  originalTopic: 'kafka_dlt-original-topic',
  originalPartition: 'kafka_dlt-original-partition',
  originalOffset: 'kafka_dlt-original-offset',
  originalTimestamp: 'kafka_dlt-original-timestamp',
  exceptionMessage: 'kafka_dlt-exception-message',
  exceptionClass: 'kafka_dlt-exception-fqcn',
  exceptionCauseClass: 'kafka_dlt-exception-cause-fqcn',
} as const;

/** Spring writes these as big-endian binary numbers, not text. */
const BINARY_NUMBER_HEADERS = new Set<string>([SpringDlt.originalPartition, SpringDlt.originalOffset, SpringDlt.originalTimestamp]);

type RawHeaderValue = Buffer | string | (Buffer | string)[] | undefined;

function lastValue(value: RawHeaderValue): Buffer | string | undefined {
  return Array.isArray(value) ? value[value.length - 1] : value;
}

function binaryNumber(bytes: Buffer): string | null {
  if (bytes.length === 4) return String(bytes.readInt32BE(0));
  if (bytes.length === 8) return bytes.readBigInt64BE(0).toString();
  return null;
}

/** Kafka header values are bytes; the contract's are strings (UTF-8). A repeated header keeps its last value. */
export function decodeHeaders(raw: Record<string, RawHeaderValue> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const [name, value] of Object.entries(raw)) {
    const last = lastValue(value);
    if (last === undefined) continue;
    if (typeof last === 'string') {
      out[name] = last;
      continue;
    }
    const asNumber = BINARY_NUMBER_HEADERS.has(name) ? binaryNumber(last) : null;
    out[name] = asNumber ?? fromUtf8(last);
  }
  return out;
}

export function encodeHeaders(headers: Record<string, string>): IHeaders {
  const out: IHeaders = {};
  for (const [name, value] of Object.entries(headers)) out[name] = Buffer.from(value, 'utf8');
  return out;
}

/** Values are bytes: a Uint8Array view without copying, or an empty Buffer (never null: null is a tombstone). */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function toKafkaMessage(message: Pick<Message, 'key' | 'value' | 'headers'> & { timestamp?: Date }) {
  return {
    key: message.key === null ? null : Buffer.from(message.key, 'utf8'),
    value: toBuffer(message.value),
    headers: encodeHeaders(message.headers),
    timestamp: String((message.timestamp ?? new Date()).getTime()),
  };
}

/**
 * What a dead letter says about its failure, from Mailroom's headers (written by core's
 * handleWithRetry) or Spring's DLT headers. `nameOrigin` is the origin the DLQ's name implies.
 * Null when the record is not a dead letter.
 */
export function deadLetterInfoOf(headers: Record<string, string>, nameOrigin: string | null, timestamp: Date, isDeadLetterTopic: boolean): DeadLetterInfo | null {
  const h = mailroomDeadLetterHeaders(headers);
  const springOrigin = headers[SpringDlt.originalTopic] ?? null;
  const headerOrigin = h.origin ?? springOrigin;
  if (headerOrigin === null && !isDeadLetterTopic) return null;
  const origin = headerOrigin ?? nameOrigin;
  const reason = h.reason ?? headers[SpringDlt.exceptionMessage] ?? headers[SpringDlt.exceptionClass] ?? null;
  const failedAt = h.failedAt ?? (springOrigin !== null ? timestamp : null);
  const history =
    h.retries.length > 0
      ? retryHistoryEntries(h.retries, origin)
      : reason !== null || failedAt !== null
        ? [{ destination: origin, reason, count: h.attempts ?? 1, time: failedAt }]
        : [];
  return { origin, reason, attempts: h.attempts, failedAt, history };
}

export interface DeadLetterContext {
  /** The origin the topic's name implies when it is a DLQ by naming convention. */
  nameOrigin: string | null;
  isDeadLetterTopic: boolean;
}

export function recordId(partition: number, offset: string | number): string {
  return `${partition}:${offset}`;
}

export function toStoredMessage(topic: string, partition: number, record: RawRecord, context: DeadLetterContext): StoredMessage {
  const headers = decodeHeaders(record.headers);
  const timestamp = new Date(Number(record.timestamp));
  const properties: Record<string, string> = {};
  const messageId = headers[Headers.messageId];
  if (messageId !== undefined) properties['messageId'] = messageId;
  const correlationId = headers[Headers.correlationId];
  if (correlationId !== undefined) properties['correlationId'] = correlationId;
  const contentType = headers['content-type'];
  if (contentType !== undefined) properties['contentType'] = contentType;
  if (record.value === null) properties['tombstone'] = 'true';
  for (const [name, property] of [
    [SpringDlt.originalPartition, 'dltOriginalPartition'],
    [SpringDlt.originalOffset, 'dltOriginalOffset'],
    [SpringDlt.originalTimestamp, 'dltOriginalTimestamp'],
    [SpringDlt.exceptionClass, 'dltExceptionClass'],
  ] as const) {
    const value = headers[name];
    if (value !== undefined) properties[property] = value;
  }
  return {
    id: recordId(partition, record.offset),
    destination: topic,
    partition,
    position: record.offset,
    key: record.key === null ? null : fromUtf8(record.key),
    value: record.value === null ? new Uint8Array(0) : plainBytes(record.value),
    headers,
    timestamp,
    deliveryCount: null,
    redelivered: null,
    deadLetter: deadLetterInfoOf(headers, context.nameOrigin, timestamp, context.isDeadLetterTopic),
    properties,
  };
}

export function toReceivedMessage(topic: string, partition: number, message: { offset: string; timestamp: string; key: Buffer | null; value: Buffer | null; headers?: Record<string, RawHeaderValue> }): ReceivedMessage {
  return {
    topic,
    id: recordId(partition, message.offset),
    partition,
    deliveryCount: null,
    key: message.key === null ? null : fromUtf8(message.key),
    value: message.value === null ? new Uint8Array(0) : plainBytes(message.value),
    headers: decodeHeaders(message.headers),
    timestamp: new Date(Number(message.timestamp)),
  };
}
