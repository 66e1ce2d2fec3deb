import {
  ClientClosedError,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  RateTracker,
  UnsupportedError,
  assertValidName,
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
  type DestinationMetrics,
  type DestinationSummary,
  type GroupMetrics,
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
import { Partitioners, type Admin, type Kafka } from 'kafkajs';
import { browseTopic } from './browse';
import { createKafka } from './client';
import { toKafkaMessage, type DeadLetterContext } from './codec';
import { resolveConfig, type KafkaAdapterConfig, type ResolvedKafkaConfig } from './config';
import { KafkaMessageConsumer } from './consumer';
import { DeadLetterNaming } from './dead-letters';
import { guarded, retryWhileCoordinatorMoves, toMailroomError } from './errors';
import { describeGroup, groupOverviews, listGroups, resetGroupOffsets, topicsOf, watermarksFor, type GroupOverview } from './groups';
import { KafkaMessageProducer, ProducerHandle } from './producer';
import type { PartitionOffsets } from './raw';
import { RawKafka } from './raw';
import { redriveTopic } from './redrive';
import { tailTopic } from './tail';
import {
  attributesOf,
  deadLetterLinks,
  depthOf,
  sampleHeaderOrigins,
  SUMMARY_CONFIGS,
  toDeadLetterLinks,
  topicFacts,
  type LinkDraft,
  type TopicFacts,
} from './topics';

const TOPIC_NAME = {
  noun: 'topic',
  maxLength: 249,
  pattern: /^[a-zA-Z0-9._-]+$/,
  allowed: 'letters, digits, ".", "_" and "-" (at most 249 characters, not "." or "..")',
};

/** When each broker read behind a rate completed: listings overlap, so their rates are observed out of order. */
interface ReadTimes {
  marks: number;
  groups: number;
}

async function readTimed<T>(read: Promise<T>): Promise<{ value: T; at: number }> {
  const value = await read;
  return { value, at: Date.now() };
}

/** Rate tracker keys, by topic first so a deleted topic's rates can be forgotten. */
function topicRateKey(topic: string): string {
  return `${topic}\u0000topic`;
}

function groupRateKey(topic: string, group: string): string {
  return `${topic}\u0000group\u0000${group}`;
}

const PENDING_UNSUPPORTED =
  'Kafka has no per-message acknowledgements: a consumer group acknowledges by committing an offset per partition. Use the consumer group view (committed offset and lag) or reset its offsets.';

export class KafkaAdapter implements BrokerAdapter {
  readonly kind = 'kafka';
  readonly capabilities: Capabilities;
  private readonly config: ResolvedKafkaConfig;
  private readonly kafka: Kafka;
  private readonly raw: RawKafka;
  private readonly naming: DeadLetterNaming;
  private readonly publisher: ProducerHandle;
  /** One tracker for every caller: each rate is over its trailing window, whoever observed last. */
  private readonly rates = new RateTracker();
  private readonly children = new Set<{ close(): Promise<void> }>();
  /** DLQs found by origin headers (not by name), remembered so browse can mark their records. */
  private readonly headerDeadLetters = new Map<string, Set<string>>();
  private adminClient: Admin | null = null;
  private adminConnecting: Promise<Admin> | null = null;
  private closed = false;

  constructor(config: KafkaAdapterConfig) {
    // Config files may say "host:9092,host2:9092" where the type says string[].
    const listed: unknown = config?.brokers;
    const brokers = typeof listed === 'string' ? listed.split(',').map((b) => b.trim()).filter((b) => b.length > 0) : listed;
    if (!Array.isArray(brokers) || brokers.length === 0 || !brokers.every((b) => typeof b === 'string' && /^[^\s:]+:\d+$/.test(b))) {
      throw new InvalidInputError('Kafka needs at least one broker address as host:port (KAFKA_BROKERS)');
    }
    this.config = resolveConfig({ ...config, brokers: brokers as string[] });
    this.naming = new DeadLetterNaming(this.config.deadLetterPatterns);
    this.kafka = createKafka(this.config);
    this.raw = new RawKafka(this.kafka);
    this.publisher = new ProducerHandle(this.kafka, true, this.config.operationTimeoutMs);
    this.capabilities = {
      partitions: true,
      consumerGroups: true,
      browseByPosition: true,
      browseByTimestamp: true,
      peekIsDestructive: false,
      peekWarning: null,
      publishSubscribe: true,
      nativeRedrive: false,
      resetOffsets: true,
      pendingEntries: false,
      purge: true,
      createDestination: true,
      deleteDestination: true,
      publishProperties: ['partition', 'messageId', 'correlationId', 'replyTo', 'contentType'],
      maxMessageBytes: this.config.maxMessageBytes - 16 * 1024,
    };
  }

  // ------------------------------------------------------------------ plumbing

  private ensureOpen(): void {
    if (this.closed) throw new ClientClosedError('Kafka adapter');
  }

  private op<T>(what: string, run: () => Promise<T>, timeoutMs = this.config.operationTimeoutMs): Promise<T> {
    if (this.closed) return Promise.reject(new ClientClosedError('Kafka adapter'));
    // Every adapter operation is a read or repeats safely (offsets committed are explicit).
    return guarded(what, timeoutMs, () => retryWhileCoordinatorMoves(run));
  }

  private async admin(): Promise<Admin> {
    this.ensureOpen();
    if (this.adminClient) return this.adminClient;
    if (!this.adminConnecting) {
      const admin = this.kafka.admin({ retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 } });
      this.adminConnecting = admin
        .connect()
        .then(() => {
          this.adminClient = admin;
          return admin;
        })
        .catch(async (error: unknown) => {
          await admin.disconnect().catch(() => undefined);
          throw error;
        })
        .finally(() => {
          this.adminConnecting = null;
        });
    }
    return this.adminConnecting;
  }

  private forgetRatesOfDeleted(topics: Set<string>, groups: GroupOverview[]): void {
    const groupNames = new Set(groups.map((g) => g.name));
    this.rates.retain((key) => {
      const [topic = '', series, ...group] = key.split('\u0000');
      return topics.has(topic) && (series !== 'group' || groupNames.has(group.join('\u0000')));
    });
  }

  private deadLetterContext = (topic: string): DeadLetterContext => {
    const nameOrigin = this.naming.originOf(topic);
    const headerOrigins = this.headerDeadLetters.get(topic);
    return {
      nameOrigin: nameOrigin ?? (headerOrigins && headerOrigins.size === 1 ? ([...headerOrigins][0] ?? null) : null),
      isDeadLetterTopic: nameOrigin !== null || (headerOrigins?.size ?? 0) > 0,
    };
  };

  private async topicNames(): Promise<string[]> {
    const admin = await this.admin();
    return (await admin.listTopics()).filter((name) => !name.startsWith('__')).sort();
  }

  private async links(names: string[], marks: Map<string, PartitionOffsets[]>): Promise<Map<string, LinkDraft>> {
    const headerOrigins = await sampleHeaderOrigins(this.raw, marks);
    for (const [dlq, origins] of headerOrigins) {
      const known = this.headerDeadLetters.get(dlq) ?? new Set<string>();
      for (const o of origins) known.add(o);
      this.headerDeadLetters.set(dlq, known);
    }
    return deadLetterLinks(names, this.naming, headerOrigins);
  }

  private summary(
    name: string,
    facts: TopicFacts | undefined,
    marks: Map<string, PartitionOffsets[]>,
    groups: GroupOverview[],
    links: Map<string, LinkDraft>,
    names: Set<string>,
    readAt: ReadTimes,
  ): DestinationSummary {
    const topicMarks = marks.get(name);
    const depth = depthOf(topicMarks);
    const consuming = groups.filter((g) => topicsOf(g).includes(name));
    let lag: number | null = null;
    let deliverRate: number | null = null;
    let consumers = 0;
    for (const g of consuming) {
      for (const m of g.members) if ((m.assignment[name] ?? []).length > 0) consumers++;
      const committed = g.committed.get(name);
      if (!committed || !topicMarks) continue;
      let groupLag = 0;
      let consumed = 0;
      for (const [partition, offset] of committed) {
        const high = topicMarks.find((m) => m.partition === partition)?.high;
        if (high !== undefined) groupLag += Math.max(0, high - offset);
        consumed += offset;
      }
      lag = (lag ?? 0) + groupLag;
      const rate = this.rates.observe(groupRateKey(name, g.name), consumed, readAt.groups);
      if (rate !== null) deliverRate = (deliverRate ?? 0) + rate;
    }
    const produced = topicMarks?.reduce((n, m) => n + m.high, 0);
    const publishRate = produced === undefined ? null : this.rates.observe(topicRateKey(name), produced, readAt.marks);
    const ownDeadLetter =
      this.naming.candidatesFor(name).find((candidate) => names.has(candidate)) ??
      [...links].find(([, draft]) => draft.origins.has(name))?.[0] ??
      null;
    const link = links.get(name);
    return {
      name,
      kind: 'topic',
      depth,
      inFlight: null,
      partitions: facts?.partitions ?? topicMarks?.length ?? null,
      consumers,
      lag,
      publishRate,
      deliverRate,
      isDeadLetter: link !== undefined,
      deadLetter: ownDeadLetter,
      deadLetterSources: link ? [...link.origins].sort() : [],
      attributes: attributesOf(facts),
    };
  }

  // ------------------------------------------------------------------ contract

  validateDestinationName(name: string): void {
    assertValidName(name, TOPIC_NAME);
    if (name === '.' || name === '..') throw new InvalidInputError('A topic cannot be named "." or ".."');
  }

  deadLetterNameFor(destination: string): string {
    return this.naming.nameFor(destination);
  }

  async ping(): Promise<BrokerHealth> {
    return this.op('ping', async () => {
      const started = performance.now();
      const versions = await this.raw.apiVersions();
      const latencyMs = Math.round((performance.now() - started) * 10) / 10;
      // Kafka does not report its version; 4.0 removed Fetch v0–v3 (KIP-896).
      const fetchMin = versions?.['1']?.minVersion;
      const version = fetchMin === undefined ? null : fetchMin >= 4 ? 'Apache Kafka 4.0 or later' : 'Apache Kafka before 4.0';
      return { version, latencyMs };
    });
  }

  createProducer(options?: ProducerOptions): MessageProducer {
    this.ensureOpen();
    const producer = new KafkaMessageProducer(this.kafka, options?.idempotent ?? true, this.config.operationTimeoutMs, (t) => this.validateDestinationName(t));
    this.track(producer);
    return producer;
  }

  createConsumer(options: ConsumerOptions): MessageConsumer {
    this.ensureOpen();
    const group = options?.group;
    if (typeof group !== 'string' || group.length === 0 || group.length > 249 || [...group].some((ch) => ch.charCodeAt(0) < 0x20)) {
      throw new InvalidInputError('A consumer group id must be 1–249 printable characters');
    }
    const maxMessages = options.maxMessages ?? 100;
    if (!Number.isInteger(maxMessages) || maxMessages < 1) throw new InvalidInputError(`maxMessages must be a positive integer, got ${maxMessages}`);
    const consumer = new KafkaMessageConsumer(this.kafka, {
      group,
      maxMessages,
      operationTimeoutMs: this.config.operationTimeoutMs,
      sessionTimeoutMs: this.config.sessionTimeoutMs,
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
      validate: (t) => this.validateDestinationName(t),
      positionNewGroup: (g, topics) => this.positionNewGroup(g, topics),
    });
    this.track(consumer);
    return consumer;
  }

  private track(client: { close(): Promise<void> }): void {
    this.children.add(client);
    const close = client.close.bind(client);
    client.close = async () => {
      this.children.delete(client);
      await close();
    };
  }

  /**
   * A group that never committed on a partition starts at that partition's end as of now
   * (committed for it before joining), so every message sent after subscribe() returns is
   * delivered, even one sent before kafkajs resolved "latest" for its first fetch.
   */
  private async positionNewGroup(group: string, topics: string[]): Promise<void> {
    await this.op(`positioning consumer group ${group}`, async () => {
      const admin = await this.admin();
      const leaders = await this.raw.leaders(topics);
      const offsets = await admin.fetchOffsets({ groupId: group });
      const missing = new Map<string, number[]>();
      for (const [topic, partitions] of leaders) {
        const committed = offsets.find((o) => o.topic === topic)?.partitions ?? [];
        const without = [...partitions.keys()].filter((p) => !committed.some((c) => c.partition === p && Number(c.offset) >= 0));
        if (without.length > 0) missing.set(topic, without);
      }
      if (missing.size === 0) return;
      const described = await admin.describeGroups([group]);
      if ((described.groups.find((g) => g.groupId === group)?.members.length ?? 0) > 0) return;
      for (const [topic, partitions] of missing) {
        const marks = await this.raw.watermarks(topic, partitions);
        await this.raw.commitStandalone(
          group,
          topic,
          marks.map((m) => ({ partition: m.partition, offset: m.high })),
        );
      }
    });
  }

  async listDestinations(): Promise<DestinationSummary[]> {
    return this.op('listing topics', async () => {
      const names = await this.topicNames();
      const admin = await this.admin();
      const [facts, marks, groups] = await Promise.all([
        topicFacts(admin, names, SUMMARY_CONFIGS),
        readTimed(watermarksFor(this.raw, names)),
        readTimed(groupOverviews({ admin: () => this.admin(), raw: this.raw })),
      ]);
      const links = await this.links(names, marks.value);
      const existing = new Set(names);
      const readAt = { marks: marks.at, groups: groups.at };
      const summaries = names
        .filter((n) => facts.has(n))
        .map((name) => this.summary(name, facts.get(name), marks.value, groups.value, links, existing, readAt));
      this.forgetRatesOfDeleted(existing, groups.value);
      return summaries;
    });
  }

  async describeDestination(name: string): Promise<DestinationDetail> {
    this.validateDestinationName(name);
    return this.op(`describing topic ${name}`, async () => {
      const admin = await this.admin();
      await this.raw.leaders([name]);
      const names = await this.topicNames();
      const [facts, marks, groups] = await Promise.all([
        topicFacts(admin, [name], null),
        readTimed(watermarksFor(this.raw, names)),
        readTimed(groupOverviews({ admin: () => this.admin(), raw: this.raw })),
      ]);
      const links = await this.links(names, marks.value);
      const topicFactsOf = facts.get(name);
      if (!topicFactsOf) throw new NotFoundError(`Kafka topic ${JSON.stringify(name)} does not exist`);
      const summary = this.summary(name, topicFactsOf, marks.value, groups.value, links, new Set(names), { marks: marks.at, groups: groups.at });
      return {
        ...summary,
        partitionDetails: (marks.value.get(name) ?? []).map((m) => ({ partition: m.partition, low: String(m.low), high: String(m.high), count: Math.max(0, m.high - m.low) })),
        config: topicFactsOf.config,
      };
    });
  }

  async createDestination(name: string, options: CreateDestinationOptions = {}): Promise<void> {
    this.validateDestinationName(name);
    const partitions = options.partitions ?? 1;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 10_000) throw new InvalidInputError(`partitions must be an integer from 1 to 10000, got ${partitions}`);
    if (options.type !== undefined && options.type !== 'topic') throw new InvalidInputError(`Kafka has one kind of destination, a topic; type ${JSON.stringify(options.type)} is not one`);
    if (options.deadLetter) this.validateDestinationName(options.deadLetter.destination);
    await this.op(`creating topic ${name}`, async () => {
      const admin = await this.admin();
      const topic = (topicName: string) => ({
        topic: topicName,
        numPartitions: partitions,
        replicationFactor: this.config.replicationFactor,
        configEntries: [{ name: 'max.message.bytes', value: String(this.config.maxMessageBytes) }],
      });
      // kafkajs's waitForLeaders gives up when the new topic is not in the broker's metadata yet
      // (KRaft propagates it a moment later): wait for it here instead.
      const created = await admin.createTopics({ topics: [topic(name)], waitForLeaders: false, timeout: this.config.requestTimeoutMs });
      if (!created) throw new ConflictError(`Kafka topic ${name} already exists`);
      await this.waitForTopic(name);
      // Kafka has no broker-side dead-lettering: the DLQ is a topic that consumers (core's handleWithRetry) write to.
      if (options.deadLetter) {
        await admin.createTopics({ topics: [topic(options.deadLetter.destination)], waitForLeaders: false, timeout: this.config.requestTimeoutMs });
        await this.waitForTopic(options.deadLetter.destination);
      }
    }, this.config.operationTimeoutMs * 2);
  }

  private async waitForTopic(name: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.raw.leaders([name]);
        return;
      } catch (error) {
        if (!(error instanceof NotFoundError) || attempt >= 40 || this.closed) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * (attempt + 1), 500)));
      }
    }
  }

  async deleteDestination(name: string): Promise<void> {
    this.validateDestinationName(name);
    await this.op(`deleting topic ${name}`, async () => {
      await this.raw.leaders([name]);
      const admin = await this.admin();
      await admin.deleteTopics({ topics: [name], timeout: this.config.requestTimeoutMs });
      this.headerDeadLetters.delete(name);
    });
  }

  async purge(name: string): Promise<number | null> {
    this.validateDestinationName(name);
    return this.op(`purging topic ${name}`, async () => {
      const marks = await this.raw.watermarks(name);
      const toDelete = marks.filter((m) => m.high > m.low);
      try {
        if (toDelete.length > 0) await this.raw.deleteRecordsBefore(name, toDelete.map((m) => ({ partition: m.partition, offset: m.high })));
      } catch (error) {
        const mapped = toMailroomError(error, `purging topic ${name}`);
        if (/policy/i.test(mapped.message)) {
          throw new ConflictError(`Kafka refuses to purge ${name}: records cannot be deleted from a compacted topic (cleanup.policy=compact)`, { cause: error });
        }
        throw mapped;
      }
      return toDelete.reduce((n, m) => n + (m.high - m.low), 0);
    });
  }

  async browse(request: BrowseRequest): Promise<BrowsePage> {
    this.validateDestinationName(request.destination);
    return this.op(`browsing ${request.destination}`, () => browseTopic({ raw: this.raw, deadLetter: this.deadLetterContext }, request), this.config.operationTimeoutMs * 4);
  }

  tail(request: TailRequest): AsyncIterable<TailBatch> {
    this.ensureOpen();
    this.validateDestinationName(request.destination);
    const source = tailTopic({ raw: this.raw, deadLetter: this.deadLetterContext }, request);
    const destination = request.destination;
    return {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          try {
            return await source.next();
          } catch (error) {
            // A fetch cut off by close() fails as a closed connection: say what really happened.
            if (this.closed) throw new ClientClosedError('Kafka adapter');
            throw toMailroomError(error, `tailing ${destination}`);
          }
        },
        return: async () => source.return(undefined),
      }),
    };
  }

  async publish(destination: string, messages: PublishMessage[]): Promise<PublishResult> {
    this.validateDestinationName(destination);
    if (!Array.isArray(messages)) throw new InvalidInputError('publish needs an array of messages');
    if (messages.length === 0) return { published: 0, ids: [] };
    const supported = new Set<string>(this.capabilities.publishProperties);
    for (const m of messages) {
      if (!(m.value instanceof Uint8Array)) throw new InvalidInputError('a message value must be bytes (Uint8Array)');
      for (const [property, value] of Object.entries(m.properties ?? {})) {
        if (value !== undefined && !supported.has(property)) throw new UnsupportedError(`Kafka does not support the publish property ${property}`);
      }
    }
    return this.op(`publishing to ${destination}`, async () => {
      const leaders = (await this.raw.leaders([destination])).get(destination) ?? new Map<number, number>();
      const partitionMetadata = [...leaders].map(([partitionId, leader]) => ({ partitionId, leader, replicas: [leader], isr: [leader], partitionErrorCode: 0, offlineReplicas: [] }));
      const partitioner = Partitioners.DefaultPartitioner();
      const prepared = messages.map((m) => {
        const headers = { ...m.headers };
        const p = m.properties ?? {};
        if (p.messageId !== undefined) headers['message-id'] = p.messageId;
        if (p.correlationId !== undefined) headers['correlation-id'] = p.correlationId;
        if (p.replyTo !== undefined) headers['reply-to'] = p.replyTo;
        if (p.contentType !== undefined) headers['content-type'] = p.contentType;
        const kafkaMessage = toKafkaMessage({ key: m.key, value: m.value, headers });
        let partition = p.partition;
        if (partition !== undefined) {
          if (!leaders.has(partition)) throw new InvalidInputError(`Topic ${destination} has no partition ${partition}`);
        } else {
          partition = partitioner({ topic: destination, partitionMetadata, message: kafkaMessage });
        }
        return { ...kafkaMessage, partition };
      });
      const results = await this.publisher.send(destination, prepared);
      const next = new Map<number, number>();
      for (const r of results) if (r.baseOffset !== undefined) next.set(r.partition, Number(r.baseOffset));
      const ids = prepared.map((m) => {
        const offset = next.get(m.partition);
        if (offset === undefined) return null;
        next.set(m.partition, offset + 1);
        return `${m.partition}:${offset}`;
      });
      return { published: messages.length, ids };
    });
  }

  async listDeadLetterQueues(): Promise<DeadLetterLink[]> {
    return this.op('listing dead-letter topics', async () => {
      const names = await this.topicNames();
      const marks = await watermarksFor(this.raw, names);
      return toDeadLetterLinks(await this.links(names, marks), marks);
    });
  }

  async redrive(request: RedriveRequest, context: RedriveContext): Promise<RedriveReport> {
    this.ensureOpen();
    if (typeof request.taskId !== 'string' || !/^[A-Za-z0-9._-]{1,200}$/.test(request.taskId)) {
      throw new InvalidInputError('A redrive task id must be 1–200 letters, digits, ".", "_" or "-"');
    }
    this.validateDestinationName(request.source);
    if (request.target !== null) this.validateDestinationName(request.target);
    if (request.ratePerSecond !== null && !(request.ratePerSecond > 0)) throw new InvalidInputError('ratePerSecond must be positive or null');
    await this.op(`reading ${request.source}`, () => this.raw.leaders([request.source]));
    if (!this.naming.originOf(request.source) && !this.headerDeadLetters.has(request.source)) {
      // Learn header-found DLQs, so records without an origin header still resolve the sampled origin.
      await this.listDeadLetterQueues().catch(() => undefined);
    }
    return redriveTopic(
      { kafka: this.kafka, raw: this.raw, admin: () => this.admin(), deadLetter: this.deadLetterContext, deleteMovedRecords: true, replicationFactor: this.config.replicationFactor, requestTimeoutMs: this.config.requestTimeoutMs },
      request,
      context,
    );
  }

  async listConsumerGroups(destination?: string): Promise<ConsumerGroupSummary[]> {
    if (destination !== undefined) this.validateDestinationName(destination);
    return this.op('listing consumer groups', () => listGroups({ admin: () => this.admin(), raw: this.raw }, destination));
  }

  async describeConsumerGroup(name: string, destination?: string): Promise<ConsumerGroupDetail> {
    if (destination !== undefined) this.validateDestinationName(destination);
    if (typeof name !== 'string' || name.length === 0) throw new InvalidInputError('A consumer group name must be a non-empty string');
    return this.op(`describing consumer group ${name}`, () => describeGroup({ admin: () => this.admin(), raw: this.raw }, name, destination));
  }

  async resetOffsets(group: string, destination: string, target: OffsetResetTarget): Promise<void> {
    this.validateDestinationName(destination);
    if (typeof group !== 'string' || group.length === 0) throw new InvalidInputError('A consumer group name must be a non-empty string');
    await this.op(`resetting offsets of ${group} on ${destination}`, () => resetGroupOffsets({ admin: () => this.admin(), raw: this.raw }, group, destination, target));
  }

  async listPending(destination: string, group: string, _limit?: number): Promise<PendingEntry[]> {
    return this.pendingUnsupported(destination, group);
  }

  async ackPending(destination: string, group: string): Promise<number> {
    return this.pendingUnsupported(destination, group);
  }

  async claimPending(destination: string, group: string): Promise<number> {
    return this.pendingUnsupported(destination, group);
  }

  private pendingUnsupported(destination: string, group: string): never {
    this.ensureOpen();
    throw new UnsupportedError(`${PENDING_UNSUPPORTED} (group ${group} on ${destination})`);
  }

  async metrics(): Promise<MetricsSnapshot> {
    return this.op('reading metrics', async () => {
      const names = await this.topicNames();
      const [timedMarks, timedGroups] = await Promise.all([
        readTimed(watermarksFor(this.raw, names)),
        readTimed(groupOverviews({ admin: () => this.admin(), raw: this.raw })),
      ]);
      const marks = timedMarks.value;
      const groups = timedGroups.value;
      const destinations: DestinationMetrics[] = [];
      const groupMetrics: GroupMetrics[] = [];
      const deliverRates = new Map<string, number>();
      const consumers = new Map<string, number>();
      for (const g of groups) {
        for (const m of g.members) for (const [topic, parts] of Object.entries(m.assignment)) if (parts.length > 0) consumers.set(topic, (consumers.get(topic) ?? 0) + 1);
        for (const topic of topicsOf(g)) {
          const topicMarks = marks.get(topic);
          const committed = g.committed.get(topic);
          let lag: number | null = null;
          let consumeRate: number | null = null;
          if (committed && topicMarks) {
            lag = 0;
            let consumed = 0;
            for (const [partition, offset] of committed) {
              const high = topicMarks.find((x) => x.partition === partition)?.high;
              if (high !== undefined) lag += Math.max(0, high - offset);
              consumed += offset;
            }
            consumeRate = this.rates.observe(groupRateKey(topic, g.name), consumed, timedGroups.at);
            if (consumeRate !== null) deliverRates.set(topic, (deliverRates.get(topic) ?? 0) + consumeRate);
          }
          groupMetrics.push({ group: g.name, destination: topic, lag, pending: null, consumeRate });
        }
      }
      for (const name of names) {
        const topicMarks = marks.get(name);
        if (!topicMarks) continue;
        const produced = topicMarks.reduce((n, m) => n + m.high, 0);
        destinations.push({
          destination: name,
          depth: depthOf(topicMarks),
          inFlight: null,
          delayed: null,
          consumers: consumers.get(name) ?? 0,
          publishRate: this.rates.observe(topicRateKey(name), produced, timedMarks.at),
          deliverRate: deliverRates.get(name) ?? null,
          ackRate: null,
          oldestAgeMs: null,
        });
      }
      this.forgetRatesOfDeleted(new Set(names), groups);
      return { at: new Date(), destinations, groups: groupMetrics };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const bounded = (p: Promise<unknown>) =>
      Promise.race([p.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, this.config.operationTimeoutMs))]);
    await Promise.all([...this.children].map((c) => bounded(c.close())));
    this.children.clear();
    const admin = this.adminClient;
    const connecting = this.adminConnecting;
    this.adminClient = null;
    await Promise.all([
      bounded(admin?.disconnect() ?? Promise.resolve()),
      // An admin still connecting (to an unreachable broker) is disconnected by its own failure path, or here once it connects.
      bounded(connecting?.then((a) => a.disconnect()) ?? Promise.resolve()),
      bounded(this.publisher.reset()),
      bounded(this.raw.disconnect()),
    ]);
  }
}

export function createKafkaAdapter(config: KafkaAdapterConfig): KafkaAdapter {
  return new KafkaAdapter(config);
}
