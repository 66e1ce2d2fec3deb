import { Headers, retryHistoryOf, type DeadLetterInfo, type StoredMessage } from '@mailroom/core';
import { recordId, type MemoryRecord } from './record';

const DEAD_LETTER_HEADERS = [
  Headers.deadLetterOrigin,
  Headers.deadLetterReason,
  Headers.deadLetterAttempts,
  Headers.deadLetterFailedAt,
  Headers.retryHistory,
];

function parseDate(text: string | undefined): Date | null {
  if (text === undefined) return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * Dead-letter facts from Mailroom's headers (written by core's handleWithRetry and by this
 * broker's maxDeliveries). `linkedOrigin` is the origin a declared DLQ link gives, used when
 * the message does not name one.
 */
export function deadLetterInfoOf(headers: Record<string, string>, linkedOrigin: string | null): DeadLetterInfo | null {
  const origin = headers[Headers.deadLetterOrigin] ?? linkedOrigin;
  const reason = headers[Headers.deadLetterReason] ?? null;
  const attemptsText = headers[Headers.deadLetterAttempts];
  const attempts = attemptsText !== undefined && /^\d+$/.test(attemptsText) ? Number(attemptsText) : null;
  if (origin === null && reason === null && attempts === null) return null;
  const history = retryHistoryOf(headers).map((attempt) => ({
    destination: origin,
    reason: attempt.error,
    count: 1,
    time: parseDate(attempt.at),
  }));
  return { origin, reason, attempts, failedAt: parseDate(headers[Headers.deadLetterFailedAt]), history };
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
