/** Header names Mailroom reads and writes. Lower-case, so every broker keeps them as they are. */
export const Headers = {
  messageId: 'message-id',
  idempotencyKey: 'idempotency-key',
  correlationId: 'correlation-id',
  replyTo: 'reply-to',
  /** Set on a dead letter: the destination it failed on. */
  deadLetterOrigin: 'x-mailroom-origin',
  deadLetterReason: 'x-mailroom-error',
  deadLetterAttempts: 'x-mailroom-attempts',
  deadLetterFailedAt: 'x-mailroom-failed-at',
  /** The broker's id of the message that failed (offset, entry id, message id), as it was on its origin. */
  deadLetterOriginalId: 'x-mailroom-original-id',
  /** JSON array of RetryAttempt: every failed attempt with its delay before the next. */
  retryHistory: 'x-mailroom-retry-history',
  /** Set on a redriven message: the DLQ it came from and the task that moved it. */
  redrivenFrom: 'x-mailroom-redriven-from',
  redriveTask: 'x-mailroom-redrive-task',
} as const;

/** Headers other tools use for the same identity, in the order they are trusted. */
export const IDENTITY_HEADERS = [Headers.messageId, Headers.idempotencyKey, 'x-idempotency-key', 'x-message-id', 'messageid'];

/** The message's stable identity, when it carries one. */
export function messageIdentity(headers: Record<string, string>, properties?: Record<string, string>): string | null {
  for (const name of IDENTITY_HEADERS) {
    const value = headers[name];
    if (value !== undefined && value !== '') return value;
  }
  const fromProperties = properties?.['messageId'];
  return fromProperties !== undefined && fromProperties !== '' ? fromProperties : null;
}
