import {
  BrokerUnavailableError,
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  MailroomError,
  NotFoundError,
  TooLargeError,
} from '@mailroom/core';

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/** AMQP reply codes amqplib puts on channel/connection errors. */
const AMQP = {
  CONNECTION_FORCED: 320,
  ACCESS_REFUSED: 403,
  NOT_FOUND: 404,
  RESOURCE_LOCKED: 405,
  PRECONDITION_FAILED: 406,
  FRAME_ERROR: 501,
  INTERNAL_ERROR: 541,
} as const;

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The broker's own explanation from a channel-close frame: `NOT_FOUND - no queue 'x' in vhost '/'`. */
function brokerText(message: string): string {
  const quoted = /with message "([^"]*)"/.exec(message);
  return quoted?.[1] ?? message;
}

/**
 * Turns whatever amqplib, the socket or fetch threw into a typed Mailroom error whose
 * message says what happened in operator terms. MailroomErrors pass through unchanged.
 */
export function mapAmqpError(error: unknown, what: string): MailroomError {
  if (error instanceof MailroomError) return error;
  const code = errorCode(error);
  const message = errorMessage(error);
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) {
    return new BrokerUnavailableError(`RabbitMQ is unreachable (${code}) while trying to ${what}`, {
      hint: 'Check that RabbitMQ is running and that the AMQP URL is right.',
      cause: error,
    });
  }
  if (error instanceof RangeError && /64 ?KiB|encoding buffer|table/i.test(message)) {
    return new TooLargeError(`Headers are too large to ${what}: AMQP header tables are limited to 64 KiB in this client`, { cause: error });
  }
  switch (code) {
    case AMQP.NOT_FOUND:
      return new NotFoundError(`Cannot ${what}: ${brokerText(message)}`, { cause: error });
    case AMQP.ACCESS_REFUSED:
      return new ForbiddenError(`Cannot ${what}: ${brokerText(message)}`, {
        hint: 'The RabbitMQ user lacks the permission, or the name is reserved (names starting with "amq." are).',
        cause: error,
      });
    case AMQP.RESOURCE_LOCKED:
      return new ConflictError(`Cannot ${what}: ${brokerText(message)}`, { hint: 'Another connection holds the queue exclusively.', cause: error });
    case AMQP.PRECONDITION_FAILED:
      return new ConflictError(`Cannot ${what}: ${brokerText(message)}`, {
        hint: 'It already exists with different settings, or the operation does not apply to this queue type.',
        cause: error,
      });
    case AMQP.CONNECTION_FORCED:
    case AMQP.INTERNAL_ERROR:
    case AMQP.FRAME_ERROR:
      return new BrokerUnavailableError(`RabbitMQ closed the connection while trying to ${what}: ${brokerText(message)}`, { cause: error });
    default:
      break;
  }
  if (/ACCESS.REFUSED|ACCESS_REFUSED/i.test(message)) {
    return new ForbiddenError(`RabbitMQ refused the login while trying to ${what}`, { hint: 'Check the user name and password in the AMQP URL.', cause: error });
  }
  if (
    (error instanceof Error && error.name === 'IllegalOperationError') ||
    /closed|ended|no reply will be forthcoming|socket|timeout|handshake|heartbeat|connect/i.test(message)
  ) {
    return new BrokerUnavailableError(`Lost the RabbitMQ connection while trying to ${what}: ${message}`, {
      hint: 'Check that RabbitMQ is running; the operation can be retried.',
      cause: error,
    });
  }
  if (error instanceof TypeError) return new InvalidInputError(`Cannot ${what}: ${message}`, { cause: error });
  return new MailroomError('UNAVAILABLE', `Cannot ${what}: ${message}`, { cause: error });
}
