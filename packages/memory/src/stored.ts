import { Headers, mailroomDeadLetterHeaders, retryHistoryEntries, type DeadLetterInfo, type StoredMessage } from '@mailroom/core';
import { recordId, type MemoryRecord } from './record';

const DEAD_LETTER_HEADERS = [
  Headers.deadLetterOrigin,
  Headers.deadLetterReason,
  Headers.deadLetterAttempts,
  Headers.deadLetterFailedAt,
  Headers.deadLetterOriginalId,
  Headers.retryHistory,
];

/**
 * Dead-letter facts from Mailroom's headers (written by core's handleWithRetry and by this
 * broker's maxDeliveries). `linkedOrigin` is the origin a declared DLQ link gives, used when
 * the message does not name one.
 */
export function deadLetterInfoOf(headers: Record<string, string>, linkedOrigin: string | null): DeadLetterInfo | null {
  const h = mailroomDeadLetterHeaders(headers);
  const origin = h.origin ?? linkedOrigin;
  if (origin === null && h.reason === null && h.attempts === null) return null;
  return { origin, reason: h.reason, attempts: h.attempts, failedAt: h.failedAt, history: retryHistoryEntries(h.retries, origin) };
}

/** Headers of a dead letter once it is redriven: the failure bookkeeping goes, the redrive is recorded. */
export function redrivenHeaders(headers: Record<string, string>, from: string, taskId: string): Record<string, string> {
  const out = { ...headers };
  for (const name of DEAD_LETTER_HEADERS) delete out[name];
  out[Headers.redrivenFrom] = from;
  out[Headers.redriveTask] = taskId;
  return out;
}

export function toStoredMessage(record: MemoryRecord, destination: string, isDeadLetterQueue: boolean, linkedOrigin: string | null): StoredMessage {
  return {
    id: recordId(record.partition, record.offset),
    destination,
    partition: record.partition,
    position: String(record.offset),
    key: record.key,
    value: new Uint8Array(record.value),
    headers: { ...record.headers },
    timestamp: new Date(record.timestamp.getTime()),
    deliveryCount: null,
    redelivered: null,
    deadLetter: deadLetterInfoOf(record.headers, isDeadLetterQueue ? linkedOrigin : null),
    properties: { ...record.properties },
  };
}
