import { Headers } from '../headers';
import type { Message, MessageConsumer, MessageProducer, ReceivedMessage } from '../message';
import { backoffDelay, sleep, type BackoffPolicy } from './backoff';

export interface RetryPolicy extends BackoffPolicy {
  /** Attempts in all, the first included, before the message is dead-lettered. */
  maxAttempts: number;
}

export interface RetryAttempt {
  attempt: number;
  at: string;
  error: string;
  /** Wait before the next attempt; 0 for the last one. */
  delayMs: number;
}

export type RetryOutcome =
  | { status: 'processed'; attempts: number }
  | { status: 'dead-lettered'; attempts: number; deadLetter: string; history: RetryAttempt[] };

export interface RetryOptions {
  policy: RetryPolicy;
  producer: MessageProducer;
  /** Where a message from `topic` goes after its last attempt. */
  deadLetterFor: (topic: string) => string;
  random?: () => number;
  signal?: AbortSignal;
  /** Injected for tests; defaults to real timers. */
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The dead letter for `message`: the original bytes, key and headers, plus why and how often it failed. */
export function deadLetterOf(message: ReceivedMessage, history: RetryAttempt[]): Message {
  const last = history[history.length - 1];
  return {
    key: message.key,
    value: message.value,
    timestamp: message.timestamp,
    headers: {
      ...message.headers,
      [Headers.deadLetterOrigin]: message.topic,
      [Headers.deadLetterReason]: last?.error ?? 'unknown',
      [Headers.deadLetterAttempts]: String(history.length),
      [Headers.deadLetterFailedAt]: last?.at ?? new Date().toISOString(),
      [Headers.deadLetterOriginalId]: message.id,
      [Headers.retryHistory]: JSON.stringify(history),
    },
  };
}

/**
 * Runs `handler` on one message with exponential backoff and jitter between attempts; after
 * `maxAttempts` failures it sends the message to its dead-letter destination with the attempt
 * history. The caller commits only after this resolves, so nothing is lost if we crash midway.
 */
export async function handleWithRetry(
  message: ReceivedMessage,
  handler: (message: ReceivedMessage) => Promise<void>,
  options: RetryOptions,
): Promise<RetryOutcome> {
  const { policy } = options;
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be a positive integer, got ${policy.maxAttempts}`);
  }
  const wait = options.wait ?? sleep;
  const history: RetryAttempt[] = [];
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    try {
      await handler(message);
      return { status: 'processed', attempts: attempt };
    } catch (error) {
      const last = attempt === policy.maxAttempts;
      const delayMs = last ? 0 : backoffDelay(policy, attempt, options.random);
      history.push({ attempt, at: new Date().toISOString(), error: errorText(error), delayMs });
      if (!last) await wait(delayMs, options.signal);
    }
  }
  const deadLetter = options.deadLetterFor(message.topic);
  await options.producer.send(deadLetter, deadLetterOf(message, history));
  return { status: 'dead-lettered', attempts: history.length, deadLetter, history };
}

export interface RetryLoopStats {
  processed: number;
  deadLettered: number;
  retries: number;
}

/**
 * Polls once and handles every message with retry and dead-lettering, then commits.
 * Returns what happened so a worker (or a test) can count it.
 */
export async function pollWithRetry(
  consumer: MessageConsumer,
  handler: (message: ReceivedMessage) => Promise<void>,
  options: RetryOptions & { pollTimeoutMs: number },
): Promise<RetryLoopStats> {
  const stats: RetryLoopStats = { processed: 0, deadLettered: 0, retries: 0 };
  const messages = await consumer.poll(options.pollTimeoutMs);
  for (const message of messages) {
    const outcome = await handleWithRetry(message, handler, options);
    stats.retries += outcome.attempts - 1;
    if (outcome.status === 'processed') stats.processed++;
    else stats.deadLettered++;
  }
  if (messages.length > 0) await consumer.commit();
  return stats;
}

/** Reads the retry history a dead letter carries, or [] when it has none or it is malformed. */
export function retryHistoryOf(headers: Record<string, string>): RetryAttempt[] {
  const raw = headers[Headers.retryHistory];
  if (raw === undefined) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (a): a is RetryAttempt =>
        typeof a === 'object' && a !== null && typeof (a as RetryAttempt).attempt === 'number' && typeof (a as RetryAttempt).delayMs === 'number',
    );
  } catch {
    return [];
  }
}
