import type {
  BrokerHealth,
  BrowsePage,
  BrowseRequest,
  ConsumerGroupDetail,
  ConsumerGroupSummary,
  CreateDestinationOptions,
  DeadLetterLink,
  DestinationDetail,
  DestinationSummary,
  MetricsSnapshot,
  OffsetResetTarget,
  PendingEntry,
  PublishMessage,
  PublishResult,
  RedriveContext,
  RedriveReport,
  RedriveRequest,
  TailBatch,
  TailRequest,
} from './admin';
import type { Capabilities } from './capabilities';
import type { ConsumerOptions, MessageConsumer, MessageProducer, ProducerOptions } from './message';

/**
 * One broker connection: the pattern card's producer/consumer contract plus the dashboard's
 * admin contract. Operations a broker cannot do throw UnsupportedError and are declared false
 * in `capabilities`. Every operation fails with BrokerUnavailableError within seconds when the
 * broker is unreachable, and with ClientClosedError after `close()`.
 */
export interface BrokerAdapter {
  /** A label for display ('kafka', 'rabbitmq', ...). Never branch on it: read `capabilities`. */
  readonly kind: string;
  readonly capabilities: Capabilities;

  /** Proves the broker answers a real request. */
  ping(): Promise<BrokerHealth>;

  createProducer(options?: ProducerOptions): MessageProducer;
  createConsumer(options: ConsumerOptions): MessageConsumer;

  /** Throws InvalidInputError when `name` is not a valid destination name on this broker. */
  validateDestinationName(name: string): void;
  /** The DLQ name this broker's convention gives `destination` (e.g. `orders.DLT`, `orders:dlq`). */
  deadLetterNameFor(destination: string): string;

  listDestinations(): Promise<DestinationSummary[]>;
  describeDestination(name: string): Promise<DestinationDetail>;
  createDestination(name: string, options?: CreateDestinationOptions): Promise<void>;
  deleteDestination(name: string): Promise<void>;
  /** Removes every message; returns how many were removed when the broker says. */
  purge(name: string): Promise<number | null>;

  browse(request: BrowseRequest): Promise<BrowsePage>;
  /** Starts at the end of the destination; ends when `request.signal` aborts. */
  tail(request: TailRequest): AsyncIterable<TailBatch>;
  publish(destination: string, messages: PublishMessage[]): Promise<PublishResult>;

  listDeadLetterQueues(): Promise<DeadLetterLink[]>;
  /** Runs (or resumes, for the same taskId and checkpoint) a redrive until done or aborted. */
  redrive(request: RedriveRequest, context: RedriveContext): Promise<RedriveReport>;

  listConsumerGroups(destination?: string): Promise<ConsumerGroupSummary[]>;
  describeConsumerGroup(name: string, destination?: string): Promise<ConsumerGroupDetail>;
  /** Refused with ConflictError while the group has active members. */
  resetOffsets(group: string, destination: string, target: OffsetResetTarget): Promise<void>;

  listPending(destination: string, group: string, limit: number): Promise<PendingEntry[]>;
  ackPending(destination: string, group: string, ids: string[]): Promise<number>;
  claimPending(destination: string, group: string, consumer: string, ids: string[]): Promise<number>;

  metrics(): Promise<MetricsSnapshot>;

  /** Idempotent; releases every connection. */
  close(): Promise<void>;
}
