import type { RetryPolicy } from '@mailroom/core';

/** A message as the broker's own client sees it. */
export interface NativeMessage {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

export interface LaggingGroup {
  group: string;
  /** Lag as the broker itself reports it (its own client or CLI-equivalent API). */
  lag: number;
  /** Delivered but unacknowledged, where the broker tracks it per group. */
  pending: number | null;
}

/**
 * How a consumed destination without a DLQ is given one, as the fitness page's fix for this
 * broker asks: a destination made with the dashboard's New-destination form, then, where the form
 * cannot change an existing destination (RabbitMQ's dead-letter exchange, SQS's RedrivePolicy),
 * the setting made with the broker's own client.
 */
export interface DeadLetterRemedy {
  /** What the fix must name: the conventional DLQ to create, or the setting to make. */
  fixNames: string;
  /** Destinations the dead-letter criterion judges for it (RabbitMQ: the topic's queue and its group queue). */
  judged: string[];
  /** Created with the New-destination form; the evidence names it once it is the DLQ. */
  create: string;
  /** How the passing evidence says the link was found, where that is more than the DLQ's name (SQS: `RedrivePolicy`). */
  via: string | null;
  /** Then done with the broker's own client, where the form cannot do it. */
  configure: (() => Promise<void>) | null;
}

/**
 * What the journeys need from one broker, done with that broker's own client library (never the
 * dashboard, never the adapter), except where a journey explicitly runs an adapter's consumer.
 */
export interface BrokerKit {
  /** Names a destination of this run (unique, valid on every broker). */
  name(label: string): string;
  /** A destination the dashboard can publish to and tail. */
  createDestination(name: string): Promise<void>;
  /** A destination plus its DLQ, linked the way this broker links them; returns the DLQ's name. */
  createDestinationWithDeadLetters(name: string): Promise<string>;
  publish(destination: string, message: NativeMessage): Promise<void>;
  /** Everything stored on `destination` right now (queues: every visible message, released again). */
  readAll(destination: string): Promise<NativeMessage[]>;
  /** Publishes `messages` to `destination` and runs a consumer that fails every one into the DLQ. */
  failIntoDeadLetters(destination: string, messages: NativeMessage[]): Promise<void>;
  /**
   * A consumer that keeps up takes what is waiting on `destination`. Only where a live tail
   * depends on it: an SQS tail backs off (up to 5 s, by design) while every receive returns
   * messages it already showed, i.e. while a backlog sits unconsumed.
   */
  consumeBacklog?(destination: string): Promise<void>;
  /** Messages stored on a DLQ, by the broker's count. */
  depth(destination: string): Promise<number>;
  /** Messages a consumer could receive now (SQS: not those in flight), where that differs from depth. */
  visibleDepth?(destination: string): Promise<number>;
  /** A consumer group on `destination` that is behind, or null where the broker has no groups. */
  makeLaggingGroup(destination: string): Promise<LaggingGroup | null>;
  /** The group's lag, from the broker, now. */
  lagOf(group: string, destination: string): Promise<number>;
  /**
   * True where a consumed message stays stored (logs: Kafka, Redis Streams, memory), so a
   * redriven message sits next to its original; false for queues (SQS, RabbitMQ).
   */
  readonly keepsConsumedMessages: boolean;
  /** A consumer group reads `destination` (made with the broker's own client); null where the broker has no groups (an SQS queue counts as consumed as it is). */
  consumeWithGroup(destination: string): Promise<string | null>;
  /** How this broker's fitness fix for `destination` (consumed, no DLQ) is followed. */
  deadLetterRemedy(destination: string, group: string | null): DeadLetterRemedy;
  /** A destination the dashboard created: deleted with the rest by dispose(). */
  adopt(name: string): void;
  /** What the DLQ view must show for a dead letter of `key`. */
  deadLetterFacts(key: string): { reason: string; attempts: number };
  /** Deletes everything this kit created and closes its clients. */
  dispose(): Promise<void>;
}

/** Retry schedule of the failing consumers: three attempts, short delays (tests must be quick). */
export const FAILING_POLICY: RetryPolicy = { maxAttempts: 3, initialDelayMs: 20, multiplier: 2, maxDelayMs: 200, jitter: 0.1 };

/** The failing consumer's error: what the DLQ view must show as the reason. */
export const failureReason = (key: string | null): string => `e2e: inventory service rejected ${key ?? 'a message'}`;

export async function alwaysFail(message: { key: string | null }): Promise<void> {
  throw new Error(failureReason(message.key));
}

/** Polls `check` until it returns true or the deadline passes; throws with `what` then. */
export async function eventually(what: string, timeoutMs: number, check: () => Promise<boolean>, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
