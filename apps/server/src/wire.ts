import { toBase64, type DeadLetterInfo, type StoredMessage } from '@mailroom/core';
import type { MessageMask } from './masking/masker';

/** A message as the browser receives it: plain JSON, bytes as base64, dates as ISO strings. */
export interface WireMessage {
  id: string;
  destination: string;
  partition: number | null;
  position: string | null;
  key: string | null;
  valueBase64: string;
  /** Size of the whole value in bytes (the wire value may be cut, see `truncated`). */
  size: number;
  truncated: boolean;
  headers: Record<string, string>;
  timestamp: string;
  deliveryCount: number | null;
  redelivered: boolean | null;
  properties: Record<string, string>;
  deadLetter: WireDeadLetter | null;
  /** A masking rule of the server's config replaced parts of the key, headers or value (always set by the server; optional for older clients' fixtures). */
  masked?: boolean;
}

export interface WireDeadLetter {
  origin: string | null;
  reason: string | null;
  attempts: number | null;
  failedAt: string | null;
  history: { destination: string | null; reason: string | null; count: number; time: string | null }[];
}

function iso(date: Date | null): string | null {
  return date === null || Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function toWireDeadLetter(info: DeadLetterInfo): WireDeadLetter {
  return {
    origin: info.origin,
    reason: info.reason,
    attempts: info.attempts,
    failedAt: iso(info.failedAt),
    history: info.history.map((h) => ({ destination: h.destination, reason: h.reason, count: h.count, time: iso(h.time) })),
  };
}

/** Every message leaves the server through here, after the connection's masking rules (`mask`). */
export function toWireMessage(stored: StoredMessage, maxValueBytes: number, mask: MessageMask): WireMessage {
  const message = mask(stored);
  const size = message.value.byteLength;
  const truncated = size > maxValueBytes;
  return {
    id: message.id,
    destination: message.destination,
    partition: message.partition,
    position: message.position,
    key: message.key,
    valueBase64: toBase64(truncated ? message.value.subarray(0, maxValueBytes) : message.value),
    size,
    truncated,
    headers: message.headers,
    timestamp: iso(message.timestamp) ?? new Date(0).toISOString(),
    deliveryCount: message.deliveryCount,
    redelivered: message.redelivered,
    properties: message.properties,
    deadLetter: message.deadLetter ? toWireDeadLetter(message.deadLetter) : null,
    masked: message.masked,
  };
}

/** Browse returns whole values up to this size (the broker's own limits are usually lower). */
export const BROWSE_MAX_VALUE_BYTES = 4 * 1024 * 1024;
