import {
  BrokerUnavailableError,
  ClientClosedError,
  ConflictError,
  InvalidInputError,
  MAX_PAGE_SIZE,
  NotFoundError,
  RateTracker,
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
  type PublishProperties,
  type PublishResult,
  type RedriveContext,
  type RedriveReport,
  type RedriveRequest,
  type StoredMessage,
  type TailBatch,
  type TailRequest,
} from '@mailroom/core';
import { browseDestination } from './browse';
import { MemoryBroker, type GroupState, type MemoryBrokerOptions } from './broker';
import { MemoryConsumer, MemoryProducer, type ClientHost } from './clients';
import { DLQ_SUFFIX, findDeadLetterLinks } from './dead-letter-links';
import type { MemoryDestination } from './destination';
import type { GroupCursor } from './group';
import { DESTINATION_NAME_RULES, assertValidDestinationName, assertValidGroupName } from './names';
import { recordId, type MemoryRecord } from './record';
import { redrive } from './redrive';
import { toStoredMessage } from './stored';
import { tailDestination } from './tail';

export interface MemoryAdapterOptions extends MemoryBrokerOptions {
  /** Share one broker between adapters (e.g. demo traffic and the server). A new one otherwise. */
  broker?: MemoryBroker;
  /** Every broker call fails with BrokerUnavailableError, as if the broker were down. For tests. */
  unreachable?: boolean;
  /** Messages a tail holds for a slow reader before it skips the oldest. Default 10,000. */
  tailCapacity?: number;
  /** A tail releases a batch at least this often while messages wait. Default 100 ms. */
  tailFlushMs?: number;
}

const VERSION = 'mailroom-memory 0.1.0';
const MAX_DELAY_SECONDS = 900;

export class MemoryAdapter implements BrokerAdapter {
  readonly kind = 'memory';
  readonly capabilities: Capabilities;
  readonly broker: MemoryBroker;
  private readonly ownsBroker: boolean;
  private readonly unreachable: boolean;
  private readonly tailCapacity: number;
  private readonly tailFlushMs: number;
  private closed = false;
  private readonly clients = new Set<{ close(): Promise<void> }>();
  private readonly tailEnds = new Set<() => void>();
  /** One tracker for every caller: each rate is over its trailing window, whoever observed last. */
  private readonly rates: RateTracker;
  private readonly host: ClientHost;

  constructor(options: MemoryAdapterOptions = {}) {
    this.broker = options.broker ?? new MemoryBroker(options);
    this.ownsBroker = options.broker === undefined;
    this.unreachable = options.unreachable ?? false;
    this.tailCapacity = options.tailCapacity ?? 10_000;
    this.tailFlushMs = options.tailFlushMs ?? 100;
    this.rates = new RateTracker({ now: this.broker.now });
    this.capabilities = {
      partitions: true,
      consumerGroups: true,
      browseByPosition: true,
      browseByTimestamp: true,
      peekIsDestructive: false,
      peekWarning: null,
      publishSubscribe: true,
      nativeRedrive: true,
      resetOffsets: true,
      pendingEntries: true,
      purge: true,
      createDestination: true,
      deleteDestination: true,
      publishProperties: ['partition', 'messageId', 'correlationId', 'replyTo', 'contentType', 'expirationMs', 'delaySeconds', 'deduplicationId'],
      maxMessageBytes: this.broker.maxMessageBytes,
    };
    this.host = {
      broker: this.broker,
      assertUsable: () => this.assertUsable(),
      track: (client) => this.clients.add(client),
      untrack: (client) => this.clients.delete(client),
    };
  }

  async ping(): Promise<BrokerHealth> {
    const started = performance.now();
    this.assertUsable();
    return { version: VERSION, latencyMs: performance.now() - started };
  }

  createProducer(_options?: ProducerOptions): MessageProducer {
    this.assertOpen();
    const producer = new MemoryProducer(this.host);
    this.clients.add(producer);
    return producer;
  }

  createConsumer(options: ConsumerOptions): MessageConsumer {
    this.assertOpen();
    assertValidGroupName(options.group);
    const maxMessages = options.maxMessages ?? 100;
    if (!Number.isInteger(maxMessages) || maxMessages < 1 || maxMessages > 10_000) {
      throw new InvalidInputError(`maxMessages must be an integer from 1 to 10000, got ${maxMessages}`);
    }
    const consumer = new MemoryConsumer(this.host, options.group, maxMessages);
    this.clients.add(consumer);
    return consumer;
  }

  validateDestinationName(name: string): void {
    assertValidDestinationName(name);
  }

  deadLetterNameFor(destination: string): string {
    assertValidDestinationName(destination);
    const name = `${destination}${DLQ_SUFFIX}`;
    if (name.length > DESTINATION_NAME_RULES.maxLength) {
      throw new InvalidInputError(`${destination} is too long to have a ${DLQ_SUFFIX} dead-letter queue`);
    }
    return name;
  }

  async listDestinations(): Promise<DestinationSummary[]> {
    this.assertUsable();
    const links = findDeadLetterLinks(this.broker);
    const summaries = [...this.broker.destinations.values()].sort((a, b) => a.name.localeCompare(b.name)).map((d) => this.summary(d, links));
    this.forgetRatesOfDeleted();
    return summaries;
  }

  async describeDestination(name: string): Promise<DestinationDetail> {
    assertValidDestinationName(name);
    this.assertUsable();
    const destination = this.broker.get(name);
    const summary = this.summary(destination, findDeadLetterLinks(this.broker));
    return {
      ...summary,
      partitionDetails: destination.partitions.map((log) => ({ partition: log.partition, low: String(log.low), high: String(log.high), count: log.size })),
      config: {
        partitions: String(destination.partitions.length),
        type: destination.kind,
        'retention.messages.per.partition': String(this.broker.retentionPerPartition),
        'max.message.bytes': String(this.broker.maxMessageBytes),
        ...(destination.deadLetter
          ? { 'dead-letter.destination': destination.deadLetter.destination, 'dead-letter.max-deliveries': String(destination.deadLetter.maxDeliveries) }
          : {}),
      },
    };
  }

  async createDestination(name: string, options?: CreateDestinationOptions): Promise<void> {
    assertValidDestinationName(name);
    this.assertUsable();
    this.broker.createDestination(name, options);
  }

  async deleteDestination(name: string): Promise<void> {
    assertValidDestinationName(name);
    this.assertUsable();
    this.broker.deleteDestination(name);
  }

  async purge(name: string): Promise<number> {
    assertValidDestinationName(name);
    this.assertUsable();
    const destination = this.broker.get(name);
    const removed = destination.partitions.reduce((n, log) => n + log.purge(), 0);
    for (const group of this.broker.groups.values()) group.cursors.get(name)?.skipToEnd();
    return removed;
  }

  async browse(request: BrowseRequest): Promise<BrowsePage> {
    assertValidDestinationName(request.destination);
    this.assertUsable();
    const destination = this.broker.get(request.destination);
    const toStored = this.storedMapper(destination.name);
    return browseDestination(destination, request, toStored, this.broker.now());
  }

  tail(request: TailRequest): AsyncIterable<TailBatch> {
    try {
      assertValidDestinationName(request.destination);
      this.assertUsable();
      if (request.maxBatch !== undefined && (!Number.isInteger(request.maxBatch) || request.maxBatch < 1 || request.maxBatch > 10_000)) {
        throw new InvalidInputError(`maxBatch must be an integer from 1 to 10000, got ${request.maxBatch}`);
      }
      const destination = this.broker.get(request.destination);
      if (request.partition !== undefined && request.partition !== null && (request.partition < 0 || request.partition >= destination.partitions.length)) {
        throw new InvalidInputError(`${destination.name} has partitions 0 to ${destination.partitions.length - 1}; got ${request.partition}`);
      }
      return tailDestination(destination, request, this.storedMapper(destination.name), { capacity: this.tailCapacity, flushMs: this.tailFlushMs }, (end) => {
        this.tailEnds.add(end);
        return () => this.tailEnds.delete(end);
      });
    } catch (error) {
      return failedTail(error);
    }
  }

  async publish(destinationName: string, messages: PublishMessage[]): Promise<PublishResult> {
    assertValidDestinationName(destinationName);
    this.assertUsable();
    const destination = this.broker.get(destinationName);
    if (!Array.isArray(messages)) throw new InvalidInputError('publish takes an array of messages');
    messages.forEach((m, i) => validatePublishMessage(m, i, destination));
    const ids: (string | null)[] = [];
    const now = new Date();
    for (const m of messages) {
      const record = this.broker.append(destinationName, { key: m.key, value: m.value, headers: m.headers, timestamp: now }, m.properties ?? {});
      ids.push(record ? recordId(record.partition, record.offset) : null);
    }
    return { published: messages.length, ids };
  }

  async listDeadLetterQueues(): Promise<DeadLetterLink[]> {
    this.assertUsable();
    return findDeadLetterLinks(this.broker);
  }

  async redrive(request: RedriveRequest, context: RedriveContext): Promise<RedriveReport> {
    this.assertUsable();
    return redrive(
      {
        broker: this.broker,
        linkedOrigin: (dlq) => this.linkedOrigin(dlq, findDeadLetterLinks(this.broker)),
        toStored: (record, destination) => this.storedMapper(destination)(record),
      },
      request,
      context,
    );
  }

  async listConsumerGroups(destination?: string): Promise<ConsumerGroupSummary[]> {
    if (destination !== undefined) assertValidDestinationName(destination);
    this.assertUsable();
    if (destination !== undefined) this.broker.get(destination);
    return [...this.broker.groups.values()]
      .filter((g) => destination === undefined || g.cursors.has(destination))
      .filter((g) => g.cursors.size > 0 || g.members.size > 0)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((g) => this.groupSummary(g, destination));
  }

  async describeConsumerGroup(name: string, destination?: string): Promise<ConsumerGroupDetail> {
    assertValidGroupName(name);
    if (destination !== undefined) assertValidDestinationName(destination);
    this.assertUsable();
    const group = this.requireGroup(name);
    const now = this.broker.now();
    const cursors = this.cursorsOf(group, destination);
    return {
      ...this.groupSummary(group, destination),
      partitions: cursors.flatMap((cursor) =>
        cursor.destination.partitions.map((log) => ({
          destination: cursor.destination.name,
          partition: log.partition,
          committed: String(cursor.committed[log.partition] ?? log.high),
          end: String(log.high),
          lag: cursor.lag(log.partition),
        })),
      ),
      membersDetail: [...group.members.values()].map((member) => ({
        id: member.id,
        host: 'in-process',
        pending: cursors.reduce((n, c) => n + [...c.inFlight.values()].filter((e) => e.owner === member.id).length, 0),
        idleMs: now - (member.lastPollAt ?? member.joinedAt),
      })),
    };
  }

  async resetOffsets(groupName: string, destinationName: string, target: OffsetResetTarget): Promise<void> {
    assertValidGroupName(groupName);
    assertValidDestinationName(destinationName);
    this.assertUsable();
    const destination = this.broker.get(destinationName);
    // Like Kafka, a reset may name a group that has no positions yet: it creates them (only once the target is valid).
    const existing = this.broker.groups.get(groupName);
    if (existing && existing.members.size > 0) {
      throw new ConflictError(`Group ${groupName} has ${existing.members.size} active member(s); stop its consumers before resetting offsets`, {
        hint: 'Offsets can only be reset while the group is empty.',
      });
    }
    const known = existing?.cursors.get(destinationName);
    const committed = known && known.destination === destination ? known.committed : [];
    const logs = destination.partitions;
    let offsets: number[];
    switch (target.kind) {
      case 'earliest':
        offsets = logs.map((log) => log.low);
        break;
      case 'latest':
        offsets = logs.map((log) => log.high);
        break;
      case 'timestamp': {
        const time = target.timestamp instanceof Date ? target.timestamp.getTime() : Number.NaN;
        if (Number.isNaN(time)) throw new InvalidInputError('Reset to a time needs a valid timestamp');
        offsets = logs.map((log) => log.offsetForTime(time));
        break;
      }
      case 'offset': {
        const log = logs[target.partition];
        if (!log || !Number.isInteger(target.partition)) {
          throw new InvalidInputError(`${destinationName} has partitions 0 to ${logs.length - 1}; got ${target.partition}`);
        }
        if (!/^\d{1,15}$/.test(target.offset)) throw new InvalidInputError(`Offset ${JSON.stringify(target.offset)} is not a number`);
        offsets = logs.map((l, p) => committed[p] ?? l.high);
        offsets[target.partition] = Math.min(Math.max(Number(target.offset), log.low), log.high);
        break;
      }
      default:
        throw new InvalidInputError('Unknown offset reset target');
    }
    this.broker.cursor(this.broker.group(groupName), destination).reset(offsets);
  }

  async listPending(destination: string, group: string, limit: number): Promise<PendingEntry[]> {
    const cursor = this.pendingCursor(destination, group);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new InvalidInputError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${limit}`);
    }
    const now = this.broker.now();
    return [...cursor.inFlight.values()]
      .sort((a, b) => a.deliveredAt - b.deliveredAt || a.partition - b.partition || a.offset - b.offset)
      .slice(0, limit)
      .map((e) => ({ id: recordId(e.partition, e.offset), consumer: e.owner, idleMs: now - e.deliveredAt, deliveryCount: e.deliveryCount }));
  }

  async ackPending(destination: string, group: string, ids: string[]): Promise<number> {
    const cursor = this.pendingCursor(destination, group);
    assertIds(ids);
    let acked = 0;
    for (const id of ids) {
      const entry = cursor.inFlight.get(id);
      if (entry && cursor.ack(entry.partition, entry.offset)) acked++;
    }
    return acked;
  }

  async claimPending(destination: string, group: string, consumer: string, ids: string[]): Promise<number> {
    const cursor = this.pendingCursor(destination, group);
    assertIds(ids);
    if (typeof consumer !== 'string' || consumer.length === 0 || consumer.length > 200) {
      throw new InvalidInputError('claimPending needs a consumer name of 1 to 200 characters');
    }
    const state = this.requireGroup(group);
    const claimed = cursor.claim(ids, consumer, state.members.has(consumer), this.broker.now());
    this.broker.wake();
    return claimed;
  }

  async metrics(): Promise<MetricsSnapshot> {
    this.assertUsable();
    const now = this.broker.now();
    const destinations = [...this.broker.destinations.values()].sort((a, b) => a.name.localeCompare(b.name));
    this.forgetRatesOfDeleted();
    return {
      at: new Date(now),
      destinations: destinations.map((d) => {
        const oldest = d.oldestTimestamp();
        return {
          destination: d.name,
          depth: d.depth,
          inFlight: this.inFlightOf(d),
          delayed: d.delayed,
          consumers: this.consumersOf(d),
          publishRate: this.rates.observe(rateKey(d.name, 'published'), d.published),
          deliverRate: this.rates.observe(rateKey(d.name, 'delivered'), d.delivered),
          ackRate: this.rates.observe(rateKey(d.name, 'acked'), d.acked),
          oldestAgeMs: oldest === null ? null : Math.max(0, now - oldest),
        };
      }),
      groups: [...this.broker.groups.values()]
        .sort((a, b) => a.name.localeCompare(b.name))
        .flatMap((g) =>
          this.cursorsOf(g, undefined).map((cursor) => ({
            group: g.name,
            destination: cursor.destination.name,
            lag: cursor.destination.partitions.reduce((n, log) => n + cursor.lag(log.partition), 0),
            pending: cursor.inFlight.size,
            consumeRate: this.rates.observe(rateKey(cursor.destination.name, 'group', g.name), cursor.acked),
          })),
        ),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const end of [...this.tailEnds]) end();
    this.tailEnds.clear();
    for (const client of [...this.clients]) await client.close();
    this.clients.clear();
    if (this.ownsBroker) this.broker.shutdown();
  }

  // --- helpers ---

  private assertOpen(): void {
    if (this.closed) throw new ClientClosedError('memory adapter');
  }

  private assertUsable(): void {
    this.assertOpen();
    if (this.unreachable) {
      throw new BrokerUnavailableError('The memory broker is marked unreachable', { hint: 'This adapter was created with unreachable: true.' });
    }
  }

  private storedMapper(destination: string): (record: MemoryRecord) => StoredMessage {
    const links = findDeadLetterLinks(this.broker);
    const isDeadLetter = links.some((l) => l.deadLetter === destination);
    const origin = this.linkedOrigin(destination, links);
    return (record) => toStoredMessage(record, destination, isDeadLetter, origin);
  }

  private linkedOrigin(dlq: string, links: DeadLetterLink[]): string | null {
    const link = links.find((l) => l.deadLetter === dlq);
    return link && link.origins.length === 1 ? (link.origins[0] ?? null) : null;
  }

  private summary(d: MemoryDestination, links: DeadLetterLink[]): DestinationSummary {
    const asDeadLetter = links.find((l) => l.deadLetter === d.name);
    const declared = d.deadLetter?.destination ?? null;
    const found = links.find((l) => l.origins.includes(d.name))?.deadLetter ?? null;
    const cursors = [...this.broker.groups.values()].flatMap((g) => this.cursorsOf(g, d.name));
    return {
      name: d.name,
      kind: d.kind,
      depth: d.depth,
      inFlight: this.inFlightOf(d),
      partitions: d.partitions.length,
      consumers: this.consumersOf(d),
      lag: cursors.length === 0 ? null : cursors.reduce((n, c) => n + d.partitions.reduce((m, log) => m + c.lag(log.partition), 0), 0),
      publishRate: this.rates.observe(rateKey(d.name, 'published'), d.published),
      deliverRate: this.rates.observe(rateKey(d.name, 'delivered'), d.delivered),
      isDeadLetter: asDeadLetter !== undefined,
      deadLetter: declared ?? found,
      deadLetterSources: asDeadLetter?.origins ?? [],
      attributes: {
        type: d.kind,
        retentionPerPartition: this.broker.retentionPerPartition,
        maxDeliveries: d.deadLetter?.maxDeliveries ?? null,
        createdAt: d.createdAt.toISOString(),
      },
    };
  }

  private forgetRatesOfDeleted(): void {
    this.rates.retain((key) => {
      const [destination = '', series, group] = key.split('\u0000');
      return this.broker.destinations.has(destination) && (series !== 'group' || (group !== undefined && this.broker.groups.has(group)));
    });
  }

  private inFlightOf(d: MemoryDestination): number {
    let n = 0;
    for (const g of this.broker.groups.values()) n += g.cursors.get(d.name)?.inFlight.size ?? 0;
    return n;
  }

  private consumersOf(d: MemoryDestination): number {
    let n = 0;
    for (const g of this.broker.groups.values()) for (const m of g.members.values()) if (m.destinations.has(d.name)) n++;
    return n;
  }

  private cursorsOf(group: GroupState, destination: string | undefined): GroupCursor[] {
    return [...group.cursors.values()].filter(
      (c) => (destination === undefined || c.destination.name === destination) && this.broker.destinations.get(c.destination.name) === c.destination,
    );
  }

  private groupSummary(group: GroupState, destination: string | undefined): ConsumerGroupSummary {
    const cursors = this.cursorsOf(group, destination);
    return {
      name: group.name,
      destinations: cursors.map((c) => c.destination.name).sort(),
      state: group.members.size > 0 ? 'active' : 'empty',
      members: group.members.size,
      lag: cursors.reduce((n, c) => n + c.destination.partitions.reduce((m, log) => m + c.lag(log.partition), 0), 0),
      pending: cursors.reduce((n, c) => n + c.inFlight.size, 0),
    };
  }

  private requireGroup(name: string): GroupState {
    const group = this.broker.groups.get(name);
    if (!group) throw new NotFoundError(`Consumer group ${name} does not exist`);
    return group;
  }

  private pendingCursor(destinationName: string, groupName: string): GroupCursor {
    assertValidDestinationName(destinationName);
    assertValidGroupName(groupName);
    this.assertUsable();
    const destination = this.broker.get(destinationName);
    const group = this.requireGroup(groupName);
    const cursor = group.cursors.get(destinationName);
    if (!cursor || cursor.destination !== destination) throw new NotFoundError(`Group ${groupName} does not consume ${destinationName}`);
    return cursor;
  }
}

/** Rate tracker keys, by destination first so a deleted destination's rates can be forgotten. */
function rateKey(destination: string, ...series: string[]): string {
  return [destination, ...series].join('\u0000');
}

/** A tail that fails on first read, like a tail whose broker call failed. */
function failedTail(error: unknown): AsyncIterable<TailBatch> {
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.reject(error),
    }),
  };
}

function assertIds(ids: string[]): void {
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw new InvalidInputError('ids must be an array of message ids');
}

function validatePublishMessage(m: PublishMessage, index: number, destination: MemoryDestination): void {
  const where = `message ${index + 1}`;
  if (typeof m !== 'object' || m === null) throw new InvalidInputError(`${where} is not a message`);
  if (!(m.value instanceof Uint8Array)) throw new InvalidInputError(`${where}: the value must be bytes`);
  if (m.key !== null && typeof m.key !== 'string') throw new InvalidInputError(`${where}: the key must be a string or null`);
  if (typeof m.headers !== 'object' || m.headers === null || Object.values(m.headers).some((v) => typeof v !== 'string')) {
    throw new InvalidInputError(`${where}: headers must map names to strings`);
  }
  const p: PublishProperties = m.properties ?? {};
  if (p.partition !== undefined && (!Number.isInteger(p.partition) || p.partition < 0 || p.partition >= destination.partitions.length)) {
    throw new InvalidInputError(`${where}: ${destination.name} has partitions 0 to ${destination.partitions.length - 1}`);
  }
  if (p.expirationMs !== undefined && (!Number.isFinite(p.expirationMs) || p.expirationMs < 0)) {
    throw new InvalidInputError(`${where}: expirationMs must be a non-negative number`);
  }
  if (p.delaySeconds !== undefined && (!Number.isInteger(p.delaySeconds) || p.delaySeconds < 0 || p.delaySeconds > MAX_DELAY_SECONDS)) {
    throw new InvalidInputError(`${where}: delaySeconds must be an integer from 0 to ${MAX_DELAY_SECONDS}`);
  }
}

export function createMemoryAdapter(options: MemoryAdapterOptions = {}): MemoryAdapter {
  return new MemoryAdapter(options);
}
