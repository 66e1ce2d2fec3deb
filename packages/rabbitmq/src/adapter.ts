import {
  ClientClosedError,
  InvalidInputError,
  UnsupportedError,
  withTimeout,
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
  type ProducerOptions,
  type PublishMessage,
  type PublishResult,
  type RedriveContext,
  type RedriveReport,
  type RedriveRequest,
  type TailBatch,
  type TailRequest,
} from '@mailroom/core';
import { browseStream, PEEK_WARNING, peekQueue } from './browse';
import { encodePublishMessage, toBuffer } from './codec';
import { resolveConfig, type RabbitMqConfig, type ResolvedConfig } from './config';
import { ConnectionHolder } from './connection';
import { consumerGroups, describeGroup } from './groups';
import { describe, metricsOf, readSnapshot, summaries } from './destinations';
import { ManagementClient } from './management';
import { assertValidRabbitName } from './names';
import { RabbitMqConsumer } from './consumer';
import { RabbitMqProducer } from './producer';
import { assertAllConfirmed, ConfirmPublisher } from './publisher';
import { runRedrive } from './redrive';
import { tailDestination } from './tail';
import { Topology } from './topology';

export function rabbitMqCapabilities(config: ResolvedConfig): Capabilities {
  return {
    partitions: false,
    consumerGroups: true,
    browseByPosition: true,
    browseByTimestamp: true,
    peekIsDestructive: true,
    peekWarning: PEEK_WARNING,
    publishSubscribe: true,
    nativeRedrive: false,
    resetOffsets: false,
    pendingEntries: false,
    purge: true,
    createDestination: true,
    deleteDestination: true,
    publishProperties: ['messageId', 'correlationId', 'replyTo', 'contentType', 'expirationMs', 'routingKey', 'persistent'],
    maxMessageBytes: config.maxMessageBytes,
    fitnessHints: {
      deadLetter:
        'queue {destination} has no dead-letter exchange: set x-dead-letter-exchange on it (a queue argument, or a policy with "dead-letter-exchange" whose pattern matches {destination}) and bind a queue to that exchange to keep the dead letters',
      acknowledgment: 'consumers of queue {destination} hold deliveries without basic.ack: ack each message after processing it (or reject it so it is dead-lettered) within the ack deadline',
    },
  };
}

/**
 * RabbitMQ behind Mailroom's contract. A topic is a durable topic exchange plus a same-named
 * queue that keeps its messages; a consumer group is a durable queue bound to the exchange;
 * admin reads come from the management HTTP API, message reads and writes from AMQP 0-9-1.
 */
export class RabbitMqAdapter implements BrokerAdapter {
  readonly kind = 'rabbitmq';
  readonly capabilities: Capabilities;
  private readonly config: ResolvedConfig;
  private readonly management: ManagementClient;
  private readonly holder: ConnectionHolder;
  private readonly topology: Topology;
  private readonly publisher: ConfirmPublisher;
  private readonly clients = new Set<{ close(): Promise<void> }>();
  private closed = false;

  constructor(config: RabbitMqConfig) {
    this.config = resolveConfig(config);
    this.capabilities = rabbitMqCapabilities(this.config);
    this.management = new ManagementClient(this.config);
    this.holder = new ConnectionHolder(this.config, 'admin', 'RabbitMQ adapter');
    this.topology = new Topology(this.config, this.holder, this.management);
    this.publisher = new ConfirmPublisher(this.holder, this.config.requestTimeoutMs);
  }

  private readonly topologyFor = (holder: ConnectionHolder) => new Topology(this.config, holder, this.management);

  private assertOpen(): void {
    if (this.closed) throw new ClientClosedError('RabbitMQ adapter');
  }

  private name(name: string): string {
    this.assertOpen();
    assertValidRabbitName(name);
    return name;
  }

  async ping(): Promise<BrokerHealth> {
    this.assertOpen();
    const started = performance.now();
    const connection = await this.holder.connection();
    const [overview] = await Promise.all([
      this.management.overview(),
      withTimeout(this.holder.withChannel('ping', async () => undefined), this.config.requestTimeoutMs, 'RabbitMQ ping'),
    ]);
    const version = overview.rabbitmq_version ?? connection.connection.serverProperties.version;
    return { version: `RabbitMQ ${version}`, latencyMs: Math.round(performance.now() - started) };
  }

  createProducer(_options?: ProducerOptions): MessageProducer {
    this.assertOpen();
    const producer = new RabbitMqProducer(this.config, this.topologyFor);
    this.track(producer);
    return producer;
  }

  createConsumer(options: ConsumerOptions): MessageConsumer {
    this.assertOpen();
    const consumer = new RabbitMqConsumer(this.config, options, this.topologyFor);
    this.track(consumer);
    return consumer;
  }

  private track(client: { close(): Promise<void> }): void {
    this.clients.add(client);
    const close = client.close.bind(client);
    client.close = async () => {
      this.clients.delete(client);
      await close();
    };
  }

  validateDestinationName(name: string): void {
    assertValidRabbitName(name);
  }

  deadLetterNameFor(destination: string): string {
    return `${destination}${this.config.deadLetterSuffix}`;
  }

  async listDestinations(): Promise<DestinationSummary[]> {
    this.assertOpen();
    return summaries(await readSnapshot(this.management, this.config));
  }

  async describeDestination(name: string): Promise<DestinationDetail> {
    this.name(name);
    const detail = await describe(this.management, this.config, name);
    if (detail.kind !== 'exchange') {
      // The management statistics lag; a passive declare gives the ready count and consumers now.
      const live = await this.topology.queueState(name);
      // A stream's declare-ok always counts 0 messages and 0 consumers: a stream keeps what the
      // management API says.
      if (live && detail.attributes['type'] !== 'stream') {
        detail.depth = live.messageCount;
        detail.consumers = live.consumerCount;
      }
    }
    return detail;
  }

  async createDestination(name: string, options?: CreateDestinationOptions): Promise<void> {
    this.name(name);
    await this.topology.createDestination(name, options);
  }

  async deleteDestination(name: string): Promise<void> {
    this.name(name);
    await this.topology.deleteDestination(name);
  }

  async purge(name: string): Promise<number | null> {
    this.name(name);
    return this.topology.purge(name);
  }

  async browse(request: BrowseRequest): Promise<BrowsePage> {
    this.name(request.destination);
    if (request.partition !== undefined && request.partition !== null && request.partition !== 0) {
      throw new InvalidInputError(`RabbitMQ queues have no partitions; partition ${request.partition} does not exist`);
    }
    const target = await this.topology.resolveExisting(request.destination);
    if (!target.queue) {
      throw new UnsupportedError(`${request.destination} is an exchange: exchanges route messages but store none, so there is nothing to browse`, {
        hint: 'Browse a queue bound to it, or use live tail to watch what passes through it.',
      });
    }
    const queue = await this.management.queue(request.destination);
    if (queue.type === 'stream') return browseStream(this.holder, this.config, request.destination, request);
    return peekQueue(this.holder, this.config, queue, request);
  }

  tail(request: TailRequest): AsyncIterable<TailBatch> {
    this.name(request.destination);
    return tailDestination(this.config, this.management, this.topologyFor, request);
  }

  async publish(destination: string, messages: PublishMessage[]): Promise<PublishResult> {
    this.name(destination);
    if (!Array.isArray(messages) || messages.length === 0) throw new InvalidInputError('Nothing to publish: give at least one message');
    const target = await this.topology.resolveExisting(destination);
    const outgoing = messages.map((message) => {
      if (message.properties?.partition !== undefined && message.properties.partition !== 0) {
        throw new InvalidInputError('RabbitMQ queues have no partitions');
      }
      const { routingKey, options } = encodePublishMessage(message, target.exchange);
      return target.exchange
        ? { exchange: destination, routingKey, content: toBuffer(message.value), options }
        : { exchange: '', routingKey: destination, content: toBuffer(message.value), options };
    });
    const outcomes = await this.publisher.publish(outgoing);
    assertAllConfirmed(outcomes, destination);
    return { published: outgoing.length, ids: outgoing.map((o) => o.options.messageId ?? null) };
  }

  async listDeadLetterQueues(): Promise<DeadLetterLink[]> {
    this.assertOpen();
    const links = (await readSnapshot(this.management, this.config)).graph.links;
    // Management statistics lag (and are missing for a queue created moments ago); a passive
    // declare per DLQ gives its ready count now.
    await Promise.all(
      links.map(async (link) => {
        const live = await this.topology.queueState(link.deadLetter).catch(() => null);
        if (live) link.depth = live.messageCount;
      }),
    );
    return links;
  }

  async redrive(request: RedriveRequest, context: RedriveContext): Promise<RedriveReport> {
    this.assertOpen();
    return runRedrive({ config: this.config, management: this.management, topology: this.topologyFor }, request, context);
  }

  async listConsumerGroups(destination?: string): Promise<ConsumerGroupSummary[]> {
    this.assertOpen();
    if (destination !== undefined) this.name(destination);
    return consumerGroups(this.management, this.config, destination);
  }

  async describeConsumerGroup(name: string, destination?: string): Promise<ConsumerGroupDetail> {
    this.assertOpen();
    if (destination !== undefined) this.name(destination);
    return describeGroup(this.management, this.config, (queue) => this.topology.queueState(queue), name, destination);
  }

  async resetOffsets(_group: string, _destination: string, _target: OffsetResetTarget): Promise<void> {
    this.assertOpen();
    throw new UnsupportedError('RabbitMQ queues have no consumer offsets to reset: a delivered and acknowledged message is gone from the queue', {
      hint: 'Redrive from a dead-letter queue, or re-publish from a stream queue by offset.',
    });
  }

  async listPending(_destination: string, _group: string, _limit: number): Promise<PendingEntry[]> {
    this.assertOpen();
    throw this.pendingUnsupported();
  }

  async ackPending(_destination: string, _group: string, _ids: string[]): Promise<number> {
    this.assertOpen();
    throw this.pendingUnsupported();
  }

  async claimPending(_destination: string, _group: string, _consumer: string, _ids: string[]): Promise<number> {
    this.assertOpen();
    throw this.pendingUnsupported();
  }

  private pendingUnsupported(): UnsupportedError {
    return new UnsupportedError(
      'RabbitMQ does not expose unacknowledged messages: only the channel that received a message can ack it, and it returns to the queue when that channel closes',
      { hint: 'The unacked count per queue is shown in metrics; close the consumer to make its messages ready again.' },
    );
  }

  async metrics(): Promise<MetricsSnapshot> {
    this.assertOpen();
    const queues = await this.management.queues();
    return metricsOf({ queues, exchanges: [], graph: { forward: new Map(), links: [] } }, new Date());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.clients].map((client) => client.close().catch(() => undefined)));
    await this.publisher.close();
    await this.holder.close();
  }
}

export function createRabbitMqAdapter(config: RabbitMqConfig): RabbitMqAdapter {
  return new RabbitMqAdapter(config);
}


