import type { MessagePredicate } from './filter/predicate';

export type DestinationKind = 'topic' | 'queue' | 'stream' | 'exchange';

/** A value that is shown in the UI as a broker-specific fact about a destination. */
export type AttributeValue = string | number | boolean | null;

export interface DestinationSummary {
  name: string;
  kind: DestinationKind;
  /** Messages stored (ready / retained). Null when the broker cannot tell. */
  depth: number | null;
  /** Delivered but not yet acknowledged (unacked, in flight, pending). */
  inFlight: number | null;
  partitions: number | null;
  consumers: number | null;
  /** Total lag over its consumer groups (sum). */
  lag: number | null;
  /** Messages per second, measured by the broker or over successive snapshots. */
  publishRate: number | null;
  deliverRate: number | null;
  /** This destination is a dead-letter queue. */
  isDeadLetter: boolean;
  /** Where this destination's failed messages go, when configured. */
  deadLetter: string | null;
  /** When this is a DLQ: the destinations that dead-letter into it. */
  deadLetterSources: string[];
  /** Broker-specific facts for display: type, retention, cleanup policy, MAXLEN, FIFO... */
  attributes: Record<string, AttributeValue>;
  /**
   * How long a message waits here before it is delivered or moves on, where the broker
   * declares it: a delay queue's delay, a message TTL that dead-letters onward (a retry stage).
   * Absent or null when there is none.
   */
  deliveryDelayMs?: number | null;
  /**
   * Consumer groups whose durable subscription this destination is (a RabbitMQ group queue):
   * it carries their work even while none of their consumers is connected.
   */
  subscriptionOf?: string[];
}

export interface PartitionInfo {
  partition: number;
  /** Oldest stored position. */
  low: string;
  /** Next position to be written. */
  high: string;
  count: number;
}

export interface DestinationDetail extends DestinationSummary {
  partitionDetails: PartitionInfo[];
  /** Broker configuration of the destination (arguments, policies, topic configs). */
  config: Record<string, string>;
}

export interface CreateDestinationOptions {
  partitions?: number;
  /** Queue type where the broker has several (classic, quorum, stream, fifo). */
  type?: string;
  /** Name of the DLQ to wire, and how many deliveries before a message goes there. */
  deadLetter?: { destination: string; maxDeliveries: number };
}

export interface DeadLetterInfo {
  /** Destination the message originally failed on. */
  origin: string | null;
  reason: string | null;
  attempts: number | null;
  failedAt: Date | null;
  /** Every recorded failure, oldest first. */
  history: { destination: string | null; reason: string | null; count: number; time: Date | null }[];
}

/** A message as stored on (or peeked from) a destination. */
export interface StoredMessage {
  /** Stable within the destination; what redrive of a selection refers to. */
  id: string;
  destination: string;
  partition: number | null;
  /** Offset or entry id where the broker has positions. */
  position: string | null;
  key: string | null;
  value: Uint8Array;
  headers: Record<string, string>;
  timestamp: Date;
  deliveryCount: number | null;
  redelivered: boolean | null;
  deadLetter: DeadLetterInfo | null;
  /** Broker message properties (messageId, correlationId, contentType...). */
  properties: Record<string, string>;
}

export type BrowseStart =
  | { from: 'newest' }
  | { from: 'oldest' }
  | { from: 'position'; position: string }
  | { from: 'timestamp'; timestamp: Date };

export interface BrowseRequest {
  destination: string;
  start: BrowseStart;
  /** Opaque cursor from a previous page; when set, `start` is ignored. */
  cursor?: string | null;
  /** Restrict to one partition; all partitions otherwise. */
  partition?: number | null;
  /** At most 500. */
  limit: number;
  filter?: MessagePredicate | null;
  /** Read even when reading has side effects the adapter would otherwise refuse. */
  force?: boolean;
  signal?: AbortSignal;
}

export interface BrowsePage {
  /** Newest first when starting from newest; in position order otherwise. */
  messages: StoredMessage[];
  /** Cursor for the next page, null at the end. */
  nextCursor: string | null;
  /** Messages examined, including those a filter rejected. */
  scanned: number;
  /** The read had side effects (requeue, receive count). */
  destructive: boolean;
  warnings: string[];
}

export const MAX_PAGE_SIZE = 500;

export interface TailRequest {
  destination: string;
  partition?: number | null;
  filter?: MessagePredicate | null;
  /** Ending the tail: the iterable finishes promptly and releases every broker resource. */
  signal: AbortSignal;
  /** Most messages per batch. Default 500. */
  maxBatch?: number;
  force?: boolean;
  /**
   * Called once when the tail is positioned: every message published from then on is delivered.
   * The iterable positions itself when created or on its first next(); a caller that must not
   * miss a message (e.g. a UI that says "live") waits for this after starting to pull.
   */
  onReady?: () => void;
}

export interface TailBatch {
  messages: StoredMessage[];
  /** Messages the tail dropped because the reader was slower than the destination. */
  skipped: number;
}

export interface PublishProperties {
  partition?: number;
  messageId?: string;
  correlationId?: string;
  replyTo?: string;
  contentType?: string;
  expirationMs?: number;
  delaySeconds?: number;
  groupId?: string;
  deduplicationId?: string;
  routingKey?: string;
  persistent?: boolean;
}

export interface PublishMessage {
  key: string | null;
  value: Uint8Array;
  headers: Record<string, string>;
  properties?: PublishProperties;
}

export interface PublishResult {
  published: number;
  /** Broker-assigned ids/positions in send order, where the broker returns them. */
  ids: (string | null)[];
}

export interface DeadLetterLink {
  deadLetter: string;
  origins: string[];
  depth: number | null;
  /** How the link was found: 'x-dead-letter-exchange argument', 'policy', 'RedrivePolicy', 'naming convention', 'origin header'... */
  via: string;
}

export type RedriveSelection =
  | { kind: 'all' }
  | { kind: 'ids'; ids: string[] }
  | { kind: 'filter'; expression: string; predicate: MessagePredicate };

export interface RedriveRequest {
  /** Stable id: running the same task again resumes it. */
  taskId: string;
  source: string;
  /** Null: back to each message's origin. */
  target: string | null;
  selection: RedriveSelection;
  /** Messages per second; null for unlimited. */
  ratePerSecond: number | null;
  /** Count what would move, move nothing. */
  dryRun: boolean;
}

export interface RedriveProgress {
  moved: number;
  failed: number;
  /** Examined but not moved: not selected (filter/ids), or already redriven by an earlier task. */
  skipped: number;
  /** Null while unknown. */
  remaining: number | null;
  /** Messages that may exist twice at the target (at-least-once brokers). */
  possiblyDuplicated: number;
}

export interface RedriveReport extends RedriveProgress {
  outcome: 'completed' | 'cancelled' | 'failed';
  error: string | null;
  failures: { id: string; reason: string }[];
}

/** Durable scratch space for one redrive task, so a resumed task skips what was done. */
export interface CheckpointStore {
  load(): Promise<unknown>;
  save(state: unknown): Promise<void>;
}

export interface RedriveContext {
  signal: AbortSignal;
  onProgress: (progress: RedriveProgress) => void;
  checkpoint: CheckpointStore;
}

export interface GroupPartitionLag {
  destination: string;
  partition: number | null;
  /** Committed / last-delivered position; null when the group never committed here. */
  committed: string | null;
  end: string | null;
  lag: number | null;
}

export interface ConsumerGroupSummary {
  name: string;
  destinations: string[];
  state: string;
  members: number;
  lag: number | null;
  pending: number | null;
}

export interface ConsumerGroupMember {
  id: string;
  host: string | null;
  pending: number | null;
  idleMs: number | null;
}

export interface ConsumerGroupDetail extends ConsumerGroupSummary {
  partitions: GroupPartitionLag[];
  membersDetail: ConsumerGroupMember[];
}

export type OffsetResetTarget =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'timestamp'; timestamp: Date }
  | { kind: 'offset'; partition: number; offset: string };

export interface PendingEntry {
  id: string;
  consumer: string;
  idleMs: number;
  deliveryCount: number;
}

export interface DestinationMetrics {
  destination: string;
  depth: number | null;
  inFlight: number | null;
  delayed: number | null;
  consumers: number | null;
  publishRate: number | null;
  deliverRate: number | null;
  ackRate: number | null;
  oldestAgeMs: number | null;
}

export interface GroupMetrics {
  group: string;
  destination: string;
  lag: number | null;
  pending: number | null;
  consumeRate: number | null;
}

export interface MetricsSnapshot {
  at: Date;
  destinations: DestinationMetrics[];
  groups: GroupMetrics[];
}

export interface BrokerHealth {
  /** Broker software and version, when the broker says. */
  version: string | null;
  latencyMs: number;
}
