import {
  BrokerUnavailableError,
  ConflictError,
  ForbiddenError,
  InvalidInputError,
  MailroomError,
  NotFoundError,
  TooLargeError,
  isMailroomError,
} from '@mailroom/core';

interface KafkaJsErrorShape {
  name?: string;
  message?: string;
  type?: string;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown[];
  groups?: { groupId: string; error?: unknown; errorCode?: number }[];
}

const UNAVAILABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
]);

/** A group's coordinator is loading or moved (kafkajs's names for codes 14-16): asking again shortly succeeds. */
const COORDINATOR_MOVING = new Set(['GROUP_LOAD_IN_PROGRESS', 'GROUP_COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR_FOR_GROUP']);

const UNAVAILABLE_TYPES = new Set([
  ...COORDINATOR_MOVING,
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'BROKER_NOT_AVAILABLE',
  'NOT_ENOUGH_REPLICAS',
]);

/** The innermost kafkajs error: retries and non-retriable wrappers hide the real one. */
function innermost(error: unknown): KafkaJsErrorShape {
  let current = error as KafkaJsErrorShape;
  for (let i = 0; i < 5; i++) {
    const next = (current.originalError ?? current.cause) as KafkaJsErrorShape | undefined;
    if (!next || typeof next !== 'object' || next === current) break;
    current = next;
  }
  return current;
}

function protocolType(error: unknown): string | undefined {
  const seen: KafkaJsErrorShape[] = [];
  let current = error as KafkaJsErrorShape | undefined;
  while (current && typeof current === 'object' && !seen.includes(current)) {
    seen.push(current);
    if (typeof current.type === 'string') return current.type;
    if (Array.isArray(current.errors) && current.errors.length > 0) {
      const inner = protocolType(current.errors[0]);
      if (inner) return inner;
    }
    current = (current.originalError ?? current.cause) as KafkaJsErrorShape | undefined;
  }
  return undefined;
}

/**
 * Turns whatever kafkajs threw into a typed Mailroom error whose message an operator can act on.
 * `what` names the operation ("listing topics", "sending to orders").
 */
export function toMailroomError(error: unknown, what: string): MailroomError {
  if (isMailroomError(error)) return error;
  const shape = (error ?? {}) as KafkaJsErrorShape;
  const inner = innermost(error);
  const type = protocolType(error);
  const detail = inner.message ?? shape.message ?? String(error);
  switch (type) {
    case 'UNKNOWN_TOPIC_OR_PARTITION':
      return new NotFoundError(`Kafka: ${what} failed: the topic or partition does not exist`, { cause: error });
    case 'TOPIC_ALREADY_EXISTS':
      return new ConflictError(`Kafka: ${what} failed: the topic already exists`, { cause: error });
    case 'GROUP_ID_NOT_FOUND':
      return new NotFoundError(`Kafka: ${what} failed: the consumer group does not exist`, { cause: error });
    case 'NON_EMPTY_GROUP':
    case 'UNKNOWN_MEMBER_ID':
    case 'ILLEGAL_GENERATION':
    case 'REBALANCE_IN_PROGRESS':
      return new ConflictError(`Kafka: ${what} failed: the consumer group has active members (${type})`, {
        cause: error,
        hint: 'Stop every consumer of the group, wait for its session to expire, and try again.',
      });
    case 'INVALID_TOPIC_EXCEPTION':
    case 'INVALID_PARTITIONS':
    case 'INVALID_REPLICATION_FACTOR':
    case 'INVALID_CONFIG':
    case 'INVALID_REQUEST':
    case 'OFFSET_OUT_OF_RANGE':
      return new InvalidInputError(`Kafka: ${what} failed: ${detail}`, { cause: error });
    case 'MESSAGE_TOO_LARGE':
    case 'RECORD_LIST_TOO_LARGE':
    case 'INVALID_RECORD':
      return new TooLargeError(`Kafka: ${what} failed: the message is larger than the topic allows (${detail})`, {
        cause: error,
        hint: "Raise the topic's max.message.bytes or send a smaller message.",
      });
    case 'TOPIC_AUTHORIZATION_FAILED':
    case 'GROUP_AUTHORIZATION_FAILED':
    case 'CLUSTER_AUTHORIZATION_FAILED':
    case 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED':
      return new ForbiddenError(`Kafka: ${what} failed: not authorised (${type})`, { cause: error });
    default:
      break;
  }
  if ((type && UNAVAILABLE_TYPES.has(type)) || UNAVAILABLE_NAMES.has(inner.name ?? '') || UNAVAILABLE_NAMES.has(shape.name ?? '')) {
    return new BrokerUnavailableError(`Kafka: ${what} failed: the broker is unreachable or not ready (${detail})`, {
      cause: error,
      hint: 'Check that the Kafka brokers are running and reachable from the server (KAFKA_BROKERS).',
    });
  }
  if (shape.name === 'KafkaJSNumberOfRetriesExceeded' || shape.name === 'KafkaJSNonRetriableError') {
    return new BrokerUnavailableError(`Kafka: ${what} failed after retries: ${detail}`, { cause: error });
  }
  return new MailroomError('UNAVAILABLE', `Kafka: ${what} failed: ${detail}`, { cause: error });
}

export function isCoordinatorMoving(error: unknown): boolean {
  const type = protocolType(error);
  return type !== undefined && COORDINATOR_MOVING.has(type);
}

/**
 * Runs `op` again while the group coordinator is loading or moving (a broker that just started,
 * a partition of __consumer_offsets changing leader): kafkajs's admin calls do not retry that.
 * Only for operations that are safe to repeat.
 */
export async function retryWhileCoordinatorMoves<T>(op: () => Promise<T>, attempts = 6, firstDelayMs = 100): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (error) {
      if (attempt >= attempts || !isCoordinatorMoving(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, firstDelayMs * 2 ** (attempt - 1)));
    }
  }
}

/** Runs `op`, bounded by `timeoutMs`, mapping kafkajs errors to typed Mailroom errors. */
export async function guarded<T>(what: string, timeoutMs: number, op: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new BrokerUnavailableError(`Kafka: ${what} did not finish within ${timeoutMs} ms`, {
            hint: 'Check that the Kafka brokers are running and reachable from the server (KAFKA_BROKERS).',
          }),
        ),
      timeoutMs,
    );
  });
  const running = op();
  running.catch(() => undefined);
  try {
    return await Promise.race([running, timeout]);
  } catch (error) {
    throw toMailroomError(error, what);
  } finally {
    clearTimeout(timer);
  }
}
