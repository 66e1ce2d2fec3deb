import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import {
  ClientClosedError,
  InvalidInputError,
  UnsupportedError,
  type BrokerAdapter,
  type BrokerHealth,
  type BrowsePage,
  type BrowseRequest,
  type Capabilities,
  type ConsumerGroupDetail,
  type ConsumerGroupSummary,
  type ConsumerOptions,
  type CreateDestinationOptions,
  type DeadLetterLink,
  type DestinationDetail,
  type DestinationSummary,
  type MessageConsumer,
  type MessageProducer,
  type MetricsSnapshot,
  type OffsetResetTarget,
  type PendingEntry,
  type PublishMessage,
  type PublishResult,
  type RedriveContext,
  type RedriveReport,
  type RedriveRequest,
  type TailBatch,
  type TailRequest,
} from '@mailroom/core';
import { resolveConfig, type SqsAdapterConfig } from './config';
import { SqsConnection } from './connection';
import { SqsConsumer } from './consumer';
import { metricsSnapshot } from './metrics';
import { deadLetterName, validateQueueName } from './names';
import { PEEK_WARNING, browseQueue, tailQueue } from './peek';
import { SqsProducer } from './producer';
import { publishMessages } from './publish';
import { createQueue, deadLetterLinks, deadLetterMap, deleteQueue, describeQueue, loadQueues, purgeQueue, summaryOf } from './queues';
import { redriveQueue } from './redrive';

/** Base64 turns 3 bytes into 4; the rest is room for the key, headers and Mailroom's attributes. */
const ATTRIBUTE_RESERVE = 4096;

export function sqsCapabilities(maxMessageBytes: number): Capabilities {
  return {
    partitions: false,
    consumerGroups: false,
    browseByPosition: false,
    browseByTimestamp: false,
    peekIsDestructive: true,
    peekWarning: PEEK_WARNING,
    publishSubscribe: 'SQS queues are point-to-point: every consumer of a queue competes for its messages. Fan-out needs SNS topics with one queue per subscriber, which Mailroom does not manage.',
    nativeRedrive: true,
    resetOffsets: false,
    pendingEntries: false,
    purge: true,
    createDestination: true,
    deleteDestination: true,
    publishProperties: ['messageId', 'correlationId', 'replyTo', 'contentType', 'delaySeconds', 'groupId', 'deduplicationId'],
    // The largest value that always fits: a binary value travels base64-encoded in the body.
    maxMessageBytes: Math.floor(((maxMessageBytes - ATTRIBUTE_RESERVE) * 3) / 4 / 1024) * 1024,
    fitnessHints: {
      deadLetter: 'queue {destination} has no RedrivePolicy: set one on it (deadLetterTargetArn of a DLQ, maxReceiveCount) so messages that keep failing move to the DLQ',
      acknowledgment: 'consumers of queue {destination} must DeleteMessage each message after processing it, before its visibility timeout ends',
    },
  };
}

const NO_GROUPS =
  'SQS has no consumer groups: the consumers of a queue compete for its messages and SQS does not list them. In-flight counts are on the queue (ApproximateNumberOfMessagesNotVisible).';

export class SqsAdapter implements BrokerAdapter {
  readonly kind = 'sqs';
  readonly capabilities: Capabilities;
  private readonly connection: SqsConnection;
  private readonly suffix: string;
  private readonly consumers = new Set<SqsConsumer>();
  private closing: Promise<void> | null = null;

  constructor(config: SqsAdapterConfig = {}) {
    const resolved = resolveConfig(config);
    this.connection = new SqsConnection(resolved);
    this.suffix = resolved.deadLetterSuffix;
    this.capabilities = sqsCapabilities(resolved.maxMessageBytes);
  }

  private assertOpen(): void {
    if (this.closing !== null || this.connection.isClosed) throw new ClientClosedError('SQS adapter');
  }

  async ping(): Promise<BrokerHealth> {
    this.assertOpen();
    const started = performance.now();
    await this.connection.run('ListQueues', (o) => this.connection.client.send(new ListQueuesCommand({ MaxResults: 1, QueueNamePrefix: 'mailroom-ping-' }), o));
    return { version: null, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
  }

  createProducer(): MessageProducer {
    this.assertOpen();
    return new SqsProducer(this.connection);
  }

  createConsumer(options: ConsumerOptions): MessageConsumer {
    this.assertOpen();
    if (typeof options?.group !== 'string' || options.group === '') throw new InvalidInputError('A consumer needs a group name');
    const consumer = new SqsConsumer(this.connection, options, (c) => this.consumers.delete(c));
    this.consumers.add(consumer);
    return consumer;
  }

  validateDestinationName(name: string): void {
    validateQueueName(name);
  }

  deadLetterNameFor(destination: string): string {
    return deadLetterName(destination, this.suffix);
  }

  async listDestinations(): Promise<DestinationSummary[]> {
    this.assertOpen();
    const queues = await loadQueues(this.connection);
    const map = deadLetterMap(queues, this.suffix);
    return queues.map((q) => summaryOf(q, map));
  }

  async describeDestination(name: string): Promise<DestinationDetail> {
    validateQueueName(name);
    this.assertOpen();
    return describeQueue(this.connection, name, this.suffix);
  }

  async createDestination(name: string, options?: CreateDestinationOptions): Promise<void> {
    validateQueueName(name);
    this.assertOpen();
    await createQueue(this.connection, name, options);
  }

  async deleteDestination(name: string): Promise<void> {
    validateQueueName(name);
    this.assertOpen();
    await deleteQueue(this.connection, name);
  }

  async purge(name: string): Promise<number | null> {
    validateQueueName(name);
    this.assertOpen();
    return purgeQueue(this.connection, name);
  }

  async browse(request: BrowseRequest): Promise<BrowsePage> {
    validateQueueName(request.destination);
    this.assertOpen();
    return browseQueue(this.connection, request, this.suffix);
  }

  tail(request: TailRequest): AsyncIterable<TailBatch> {
    validateQueueName(request.destination);
    this.assertOpen();
    return tailQueue(this.connection, request, this.suffix);
  }

  async publish(destination: string, messages: PublishMessage[]): Promise<PublishResult> {
    validateQueueName(destination);
    this.assertOpen();
    return publishMessages(this.connection, destination, messages);
  }

  async listDeadLetterQueues(): Promise<DeadLetterLink[]> {
    this.assertOpen();
    return deadLetterLinks(await loadQueues(this.connection), this.suffix);
  }

  async redrive(request: RedriveRequest, context: RedriveContext): Promise<RedriveReport> {
    this.assertOpen();
    return redriveQueue(this.connection, request, context, this.suffix);
  }

  async listConsumerGroups(): Promise<ConsumerGroupSummary[]> {
    throw new UnsupportedError(NO_GROUPS);
  }

  async describeConsumerGroup(): Promise<ConsumerGroupDetail> {
    throw new UnsupportedError(NO_GROUPS);
  }

  async resetOffsets(_group: string, _destination: string, _target: OffsetResetTarget): Promise<void> {
    throw new UnsupportedError('SQS has no offsets: a deleted message is gone, and there is no position to rewind to.');
  }

  async listPending(): Promise<PendingEntry[]> {
    throw new UnsupportedError('SQS does not list in-flight messages; only their count (ApproximateNumberOfMessagesNotVisible).');
  }

  async ackPending(): Promise<number> {
    throw new UnsupportedError('SQS in-flight messages can only be deleted by the consumer holding their receipt handle.');
  }

  async claimPending(): Promise<number> {
    throw new UnsupportedError('SQS in-flight messages return to the queue on their own when their visibility timeout ends.');
  }

  async metrics(): Promise<MetricsSnapshot> {
    this.assertOpen();
    return metricsSnapshot(this.connection);
  }

  /** Idempotent: consumers release their uncommitted messages, then the client closes. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      await Promise.all([...this.consumers].map((c) => c.close().catch(() => undefined)));
      this.connection.close();
    })();
    return this.closing;
  }
}

export function createSqsAdapter(config: SqsAdapterConfig = {}): SqsAdapter {
  return new SqsAdapter(config);
}
