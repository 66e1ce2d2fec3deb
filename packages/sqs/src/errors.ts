import {
  BrokerUnavailableError,
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  MailroomError,
  NotFoundError,
  TooLargeError,
  UnsupportedError,
  type MailroomErrorCode,
} from '@mailroom/core';

/** One entry of an SQS batch call that the broker refused. */
export interface BatchEntryFailure {
  /** Position of the message in the caller's list. */
  index: number;
  /** The message's SQS id, for commits and visibility changes; null for sends. */
  messageId: string | null;
  code: string;
  message: string;
  /** True when the request was wrong (retrying will not help); false for a broker-side failure. */
  senderFault: boolean;
}

/** Some entries of a batch failed; the others went through. */
export class PartialBatchError extends MailroomError {
  constructor(
    readonly operation: string,
    readonly failures: BatchEntryFailure[],
    readonly succeeded: number,
  ) {
    const code: MailroomErrorCode = failures.some((f) => f.senderFault) ? 'INVALID_INPUT' : 'UNAVAILABLE';
    const first = failures
      .slice(0, 3)
      .map((f) => `#${f.index}${f.messageId ? ` (${f.messageId})` : ''}: ${f.code} ${f.message}`)
      .join('; ');
    super(code, `${operation}: ${failures.length} of ${failures.length + succeeded} entries failed (${first}${failures.length > 3 ? '; …' : ''})`, {
      hint: code === 'UNAVAILABLE' ? 'SQS failed on its side; the failed entries can be retried.' : 'Fix the failed entries; the others were processed.',
    });
  }
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

const NOT_FOUND = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'NonExistentQueue', 'ResourceNotFoundException']);
const CONFLICT = new Set(['QueueNameExists', 'QueueAlreadyExists', 'QueueDeletedRecently', 'AWS.SimpleQueueService.QueueDeletedRecently', 'PurgeQueueInProgress', 'AWS.SimpleQueueService.PurgeQueueInProgress']);
const TOO_LARGE = new Set(['BatchRequestTooLong', 'AWS.SimpleQueueService.BatchRequestTooLong', 'MessageTooLong']);
const FORBIDDEN = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'InvalidSecurity',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'MissingAuthenticationToken',
  'CredentialsProviderError',
]);
const UNSUPPORTED = new Set(['UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation', 'InvalidAction']);
const THROTTLED = new Set(['OverLimit', 'RequestThrottled', 'ThrottlingException', 'KmsThrottled', 'ServiceUnavailable', 'InternalError', 'InternalFailure']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);

/** Turns an SDK/network error into the typed error an operator can act on. */
export function mapSqsError(error: unknown, what: string, endpoint: string): MailroomError {
  if (error instanceof MailroomError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const name = e.name ?? '';
  const text = e.message ?? String(error);
  const status = e.$metadata?.httpStatusCode;
  const options = { cause: error };
  if (NOT_FOUND.has(name)) return new NotFoundError(`${what}: ${text}`, options);
  if (CONFLICT.has(name)) return new ConflictError(`${what}: ${text}`, options);
  if (TOO_LARGE.has(name)) return new TooLargeError(`${what}: ${text}`, options);
  if (FORBIDDEN.has(name)) {
    return new ForbiddenError(`${what}: SQS refused the credentials or permissions (${name}: ${text})`, {
      ...options,
      hint: 'Check the AWS credentials and IAM permissions the server runs with.',
    });
  }
  if (UNSUPPORTED.has(name)) return new UnsupportedError(`${what}: the SQS endpoint does not support this (${name}: ${text})`, options);
  const networkCode = e.code !== undefined && NETWORK_CODES.has(e.code);
  if (networkCode || name === 'TimeoutError' || name === 'RequestTimeout' || (status === undefined && e.$fault === undefined)) {
    return new BrokerUnavailableError(`SQS endpoint ${endpoint} is unreachable (${what}: ${e.code ?? name} ${text})`, {
      ...options,
      hint: 'Check that the SQS endpoint is running and reachable from the server.',
    });
  }
  if (THROTTLED.has(name) || (status !== undefined && status >= 500)) {
    return new BrokerUnavailableError(`${what}: SQS failed (${name || status}: ${text})`, { ...options, hint: 'Retry shortly.' });
  }
  return new InvalidInputError(`${what}: SQS rejected the request (${name}: ${text})`, options);
}
