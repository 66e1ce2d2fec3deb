import type { DeadLetterInfo } from './admin';
import { Headers } from './headers';
import { retryHistoryOf, type RetryAttempt } from './patterns/retry';

/** What Mailroom's own dead-letter headers say (written by core's handleWithRetry and the brokers' redrive bookkeeping). */
export interface MailroomDeadLetterHeaders {
  origin: string | null;
  reason: string | null;
  attempts: number | null;
  failedAt: Date | null;
  retries: RetryAttempt[];
}

/** A header time: ISO 8601, or epoch milliseconds as digits. */
export function headerDate(text: string | undefined): Date | null {
  if (text === undefined || text === '') return null;
  const date = /^\d+$/.test(text) ? new Date(Number(text)) : new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A header count: digits only, else null. */
export function headerCount(text: string | undefined): number | null {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : null;
}

export function mailroomDeadLetterHeaders(headers: Record<string, string>): MailroomDeadLetterHeaders {
  return {
    origin: headers[Headers.deadLetterOrigin] ?? null,
    reason: headers[Headers.deadLetterReason] ?? null,
    attempts: headerCount(headers[Headers.deadLetterAttempts]),
    failedAt: headerDate(headers[Headers.deadLetterFailedAt]),
    retries: retryHistoryOf(headers),
  };
}

/** Each recorded retry attempt as a history entry on `destination`, oldest first. */
export function retryHistoryEntries(retries: RetryAttempt[], destination: string | null): DeadLetterInfo['history'] {
  return retries.map((a) => ({ destination, reason: a.error, count: 1, time: headerDate(a.at) }));
}
