import {
  BrokerUnavailableError,
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  isMailroomError,
} from '@mailroom/core';

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Turns an ioredis failure into one of core's typed errors, worded for an operator. */
export function toMailroomError(error: unknown, what: string): Error {
  if (isMailroomError(error)) return error;
  const message = errorMessage(error);
  if (errorName(error) === 'ReplyError') {
    if (message.startsWith('WRONGTYPE')) {
      return new InvalidInputError(`${what}: the key holds a value that is not a stream`, { cause: error });
    }
    if (message.startsWith('NOGROUP')) {
      return new NotFoundError(`${what}: no such stream or consumer group`, { cause: error });
    }
    if (message.startsWith('BUSYGROUP')) return new ConflictError(`${what}: the consumer group already exists`, { cause: error });
    if (/^(NOAUTH|WRONGPASS|NOPERM)/.test(message)) {
      return new ForbiddenError(`${what}: Redis refused: ${message}`, { hint: 'Check the credentials and ACL of the Redis user.', cause: error });
    }
    if (/^(LOADING|MASTERDOWN|BUSY |OOM|READONLY|TRYAGAIN|CLUSTERDOWN)/.test(message)) {
      return new BrokerUnavailableError(`${what}: Redis cannot serve the request now: ${message}`, { cause: error });
    }
    return new InvalidInputError(`${what}: Redis rejected the command: ${message}`, { cause: error });
  }
  return new BrokerUnavailableError(`${what}: Redis is unreachable (${message})`, {
    hint: 'Check that Redis is running and that REDIS_URL points at it.',
    cause: error,
  });
}

export function isReplyError(error: unknown, prefix: string): boolean {
  return errorName(error) === 'ReplyError' && errorMessage(error).startsWith(prefix);
}
