/**
 * Typed errors every layer understands. The server maps `code` to a tRPC code; the
 * message is written for an operator (what happened, and what to do), never a stack trace.
 */
export type MailroomErrorCode =
  | 'NOT_FOUND'
  | 'INVALID_INPUT'
  | 'UNSUPPORTED'
  | 'CLOSED'
  | 'UNAVAILABLE'
  | 'CONFLICT'
  | 'TIMEOUT'
  | 'FORBIDDEN'
  | 'TOO_LARGE';

export class MailroomError extends Error {
  readonly code: MailroomErrorCode;
  /** What the operator can do about it, when there is something to do. */
  readonly hint: string | undefined;

  constructor(code: MailroomErrorCode, message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options?.hint;
  }
}

export class NotFoundError extends MailroomError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super('NOT_FOUND', message, options);
  }
}

export class InvalidInputError extends MailroomError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super('INVALID_INPUT', message, options);
  }
}

export class UnsupportedError extends MailroomError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super('UNSUPPORTED', message, options);
  }
}

/** A producer, consumer or adapter was used after close(). */
export class ClientClosedError extends MailroomError {
  constructor(what: string) {
    super('CLOSED', `${what} is closed`, { hint: 'Create a new client; a closed one cannot be reused.' });
  }
}

export class BrokerUnavailableError extends MailroomError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super('UNAVAILABLE', message, options);
  }
}

/** The broker's state forbids the action right now (e.g. resetting a group that has members). */
export class ConflictError extends MailroomError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super('CONFLICT', message, options);
  }
}

export class RequestTimeoutError extends MailroomError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super('TIMEOUT', message, options);
  }
}

export class ForbiddenError extends MailroomError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super('FORBIDDEN', message, options);
  }
}

export class TooLargeError extends MailroomError {
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super('TOO_LARGE', message, options);
  }
}

export function isMailroomError(e: unknown): e is MailroomError {
  return e instanceof MailroomError;
}

/** Rejects with BrokerUnavailableError when `promise` does not settle within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BrokerUnavailableError(`${what} did not answer within ${ms} ms`, { hint: 'Check that the broker is running and reachable from the server.' })),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
