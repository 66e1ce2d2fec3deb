import type { FitnessHints } from './fitness/facts';

/**
 * What a broker can do, declared by its adapter. Everything above the adapters (server, web)
 * reads these instead of branching on the broker kind.
 */
export interface Capabilities {
  /** Destinations are split into partitions with their own offsets. */
  partitions: boolean;
  /** Named consumer groups with positions/lag that can be listed. */
  consumerGroups: boolean;
  /** Browse can start at a stored position (offset, entry id). */
  browseByPosition: boolean;
  /** Browse can start at a point in time. */
  browseByTimestamp: boolean;
  /**
   * Reading a message has a side effect on the broker (requeue sets `redelivered`,
   * a receive raises the receive count). The UI must say so before reading.
   */
  peekIsDestructive: boolean;
  /** The operator-facing explanation of that side effect; null when reads are clean. */
  peekWarning: string | null;
  /** Every subscription (group) receives every message. A string is the reason it cannot. */
  publishSubscribe: true | string;
  /** The broker moves dead letters itself (e.g. SQS message-move tasks). */
  nativeRedrive: boolean;
  /** Offsets of an inactive group can be reset. */
  resetOffsets: boolean;
  /** Pending (delivered, unacked) entries can be listed, acked and claimed. */
  pendingEntries: boolean;
  purge: boolean;
  createDestination: boolean;
  deleteDestination: boolean;
  /** Publish properties this broker honours, beyond key/headers/value. */
  publishProperties: PublishPropertyName[];
  /** Largest value (bytes) a single message may carry, null when unbounded here. */
  maxMessageBytes: number | null;
  /** Broker-specific wording of fitness fixes (e.g. "set x-dead-letter-exchange"). */
  fitnessHints?: FitnessHints;
}

export type PublishPropertyName =
  | 'partition'
  | 'messageId'
  | 'correlationId'
  | 'replyTo'
  | 'contentType'
  | 'expirationMs'
  | 'delaySeconds'
  | 'groupId'
  | 'deduplicationId'
  | 'routingKey'
  | 'persistent';
