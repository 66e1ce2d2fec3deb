import { randomUUID } from 'node:crypto';
import {
  ClientClosedError,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  RateTracker,
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
  type ProducerOptions,
  type PublishMessage,
  type PublishResult,
  type RedriveContext,
  type RedriveReport,
  type RedriveRequest,
  type TailBatch,
  type TailRequest,
} from '@mailroom/core';
import { resolveConfig, type RedisAdapterConfig, type ResolvedConfig } from './config';
import { Connection } from './connection';
import { asString, encodeFields, headersWithProperties, idTime, originOf, parseEntries } from './codec';
import { RedisConsumer } from './consumer';
import { RedisProducer, appendEntries } from './producer';
import { browseStream } from './browse';
import { tailStream } from './tail';
import { ackPendingEntries, claimPendingEntries, describeGroups, listPendingEntries, resetGroup, summaryOf } from './groups';
import { runRedrive } from './redrive';
import { DeadLetterConvention, validateStreamName } from './names';
import { allStreamNames, oldestAgeMs, streamInfo, streamInfos, type StreamInfo } from './streams';

/** Redis' default proto-max-bulk-len: the largest single field value. */
const MAX_BULK_BYTES = 512 * 1024 * 1024;

export const REDIS_CAPABILITIES: Capabilities = {
  partitions: false,
  consumerGroups: true,
  browseByPosition: true,
  browseByTimestamp: true,
  peekIsDestructive: false,
  peekWarning: null,
  publishSubscribe: true,
  nativeRedrive: false,
  resetOffsets: true,
  pendingEntries: true,
  purge: true,
  createDestination: true,
  deleteDestination: true,
  publishProperties: ['messageId', 'correlationId', 'replyTo', 'contentType'],
  maxMessageBytes: MAX_BULK_BYTES,
};

function sum(values: number[]): number {
  return values.reduce((a, v) => a + v, 0);
}

function sumOrNull(values: (number | null)[]): number | null {
  return values.some((v) => v === null) ? null : sum(values as number[]);
}

export class RedisAdapter implements BrokerAdapter {
  readonly kind = 'redis';
  readonly capabilities = REDIS_CAPABILITIES;
  readonly config: ResolvedConfig;
  private readonly convention: DeadLetterConvention;
  private readonly shared: Connection;
  private readonly consumers = new Set<RedisConsumer>();
  private readonly producers = new Set<RedisProducer>();
  private readonly tails = new Set<() => void>();
  /** One tracker for every caller (listing, describe, metrics): rates over a trailing window, whoever asked last. */
  private readonly rates = new RateTracker();
  private closing: Promise<void> | null = null;

  constructor(config: RedisAdapterConfig = {}) {
    this.config = resolveConfig(config);
    this.convention = new DeadLetterConvention(this.config.deadLetterTemplate);
    this.shared = new Connection(this.config, 'commands', 'Redis adapter');
  }

  private guard(): void {
    if (this.closing) throw new ClientClosedError('Redis adapter');
  }

  async ping(): Promise<BrokerHealth> {
    this.guard();
    const started = performance.now();
    await this.shared.call('PING', 'PING', []);
    const latencyMs = performance.now() - started;
    const info = asString(await this.shared.call('reading the server version', 'INFO', ['server']));
    const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? null;
    return { version: version === null ? null : `Redis ${version}`, latencyMs };
  }

  createProducer(_options?: ProducerOptions): MessageProducer {
    this.guard();
    const producer = new RedisProducer(this.shared, this.config.maxLen, (p) => this.producers.delete(p));
    this.producers.add(producer);
    return producer;
  }

  createConsumer(options: ConsumerOptions): MessageConsumer {
    this.guard();
    const consumer = new RedisConsumer(this.shared, this.config, this.convention, options, (c) => this.consumers.delete(c));
    this.consumers.add(consumer);
    return consumer;
  }

  validateDestinationName(name: string): void {
    validateStreamName(name);
  }

  deadLetterNameFor(destination: string): string {
    validateStreamName(destination);
    const name = this.convention.nameFor(destination);
    validateStreamName(name);
    return name;
  }

  // ---- destinations ----------------------------------------------------------------

  private async allStreams(): Promise<StreamInfo[]> {
    const names = await allStreamNames(this.shared, this.config.keyPattern, this.config.scanCount);
    return streamInfos(this.shared, names);
  }

  private summarize(info: StreamInfo, existing: Set<string>, rates: RateTracker): DestinationSummary {
    const origin = this.convention.originOf(info.name);
    const dlq = this.convention.nameFor(info.name);
    const entriesRead = sumOrNull(info.groups.map((g) => g.entriesRead));
    return {
      name: info.name,
      kind: 'stream',
      depth: info.length,
      inFlight: sum(info.groups.map((g) => g.pending)),
      partitions: null,
      consumers: sum(info.groups.map((g) => g.consumers)),
      lag: info.groups.length === 0 ? null : sumOrNull(info.groups.map((g) => g.lag)),
      publishRate: rates.observe(rateKey(info.name, 'added'), info.entriesAdded),
      deliverRate: entriesRead === null || info.groups.length === 0 ? null : rates.observe(rateKey(info.name, 'read'), entriesRead),
      isDeadLetter: origin !== null,
      deadLetter: origin === null && (existing.has(dlq) || this.config.maxDeliveries !== null) ? dlq : null,
      deadLetterSources: origin !== null && existing.has(origin) ? [origin] : [],
      attributes: {
        type: 'stream',
        'first-entry-id': info.firstId,
        'last-entry-id': info.lastId,
        'first-entry-time': info.firstId === null ? null : new Date(idTime(info.firstId)).toISOString(),
        'last-entry-time': info.lastId === null ? null : new Date(idTime(info.lastId)).toISOString(),
        'last-generated-id': info.lastGeneratedId,
        'entries-added': info.entriesAdded,
        'max-deleted-entry-id': info.maxDeletedId,
        groups: info.groups.length,
        maxlen: this.config.maxLen === null ? 'none' : `~${this.config.maxLen} (applied by Mailroom producers)`,
      },
    };
  }

  async listDestinations(): Promise<DestinationSummary[]> {
    this.guard();
    const infos = await this.allStreams();
    const existing = new Set(infos.map((i) => i.name));
    this.forgetRatesExcept(existing);
    return infos.map((info) => this.summarize(info, existing, this.rates));
  }

  /** Rates of streams that are gone are dropped, so the tracker stays as big as the keyspace. */
  private forgetRatesExcept(streams: Iterable<string>): void {
    const keep = new Set(streams);
    this.rates.retain((key) => keep.has(streamOfRateKey(key)));
  }

  async describeDestination(name: string): Promise<DestinationDetail> {
    this.guard();
    validateStreamName(name);
    const info = await streamInfo(this.shared, name);
    const origin = this.convention.originOf(name);
    const related = origin ?? this.convention.nameFor(name);
    const relatedExists = Number(await this.shared.call(`reading ${related}`, 'EXISTS', [related])) === 1;
    const summary = this.summarize(info, relatedExists ? new Set([related]) : new Set(), this.rates);
    return {
      ...summary,
      partitionDetails: [{ partition: 0, low: info.firstId ?? info.lastGeneratedId, high: info.lastGeneratedId, count: info.length }],
      config: {
        'dead-letter-template': this.config.deadLetterTemplate,
        'reclaim-idle-ms': String(this.config.reclaimIdleMs),
        'max-deliveries': this.config.maxDeliveries === null ? 'none (application dead-letters)' : String(this.config.maxDeliveries),
        'producer-maxlen': this.config.maxLen === null ? 'none' : `~${this.config.maxLen}`,
        'new-group-start': this.config.newGroupStart,
      },
    };
  }

  async createDestination(name: string, options: CreateDestinationOptions = {}): Promise<void> {
    this.guard();
    validateStreamName(name);
    if (options.partitions !== undefined && options.partitions !== 1) {
      throw new UnsupportedError('A Redis stream is a single ordered log; it has no partitions', { hint: 'Create one stream per partition instead.' });
    }
    if (options.type !== undefined && options.type !== 'stream') {
      throw new InvalidInputError(`Redis Streams has one destination type, 'stream', not ${JSON.stringify(options.type)}`);
    }
    if (options.deadLetter) {
      const expected = this.convention.nameFor(name);
      if (options.deadLetter.destination !== expected) {
        throw new InvalidInputError(`The DLQ of ${name} is ${expected} by this connection's naming convention (${this.config.deadLetterTemplate})`);
      }
    }
    await this.createStream(name);
    if (options.deadLetter) await this.createStream(options.deadLetter.destination);
  }

  /** An empty stream: create it through a throwaway group (XGROUP CREATE ... MKSTREAM), then drop the group. */
  private async createStream(name: string): Promise<void> {
    const type = asString(await this.shared.call(`creating ${name}`, 'TYPE', [name]));
    if (type === 'stream') return;
    if (type !== 'none') throw new ConflictError(`Key ${name} already holds a ${type}`);
    const temp = `mailroom-create-${randomUUID()}`;
    await this.shared.transaction(`creating ${name}`, [
      ['XGROUP', 'CREATE', name, temp, '$', 'MKSTREAM'],
      ['XGROUP', 'DESTROY', name, temp],
    ]);
  }

  private async requireStream(name: string, what: string): Promise<void> {
    const type = asString(await this.shared.call(`${what} ${name}`, 'TYPE', [name]));
    if (type === 'none') throw new NotFoundError(`Stream ${name} does not exist`);
    if (type !== 'stream') throw new InvalidInputError(`Key ${name} holds a ${type}, not a stream`);
  }

  async deleteDestination(name: string): Promise<void> {
    this.guard();
    validateStreamName(name);
    await this.requireStream(name, 'deleting');
    await this.shared.call(`deleting ${name}`, 'DEL', [name]);
  }

  async purge(name: string): Promise<number | null> {
    this.guard();
    validateStreamName(name);
    await this.requireStream(name, 'purging');
    return Number(await this.shared.call(`purging ${name}`, 'XTRIM', [name, 'MAXLEN', 0]));
  }

  // ---- messages ----------------------------------------------------------------------

  async browse(request: BrowseRequest): Promise<BrowsePage> {
    this.guard();
    return browseStream(this.shared, request, this.config.browseScanBudget);
  }

  tail(request: TailRequest): AsyncIterable<TailBatch> {
    this.guard();
    const register = (stop: () => void) => {
      this.tails.add(stop);
      return () => this.tails.delete(stop);
    };
    return tailStream(this.shared, this.config, request, register);
  }

  async publish(destination: string, messages: PublishMessage[]): Promise<PublishResult> {
    this.guard();
    validateStreamName(destination);
    if (!Array.isArray(messages)) throw new InvalidInputError('messages must be an array');
    const now = new Date();
    const entries = messages.map((m) => encodeFields({ key: m.key, value: m.value, headers: headersWithProperties(m), timestamp: now }));
    const ids = await appendEntries(this.shared, destination, entries, this.config.maxLen);
    return { published: ids.length, ids };
  }

  // ---- dead letters --------------------------------------------------------------------

  async listDeadLetterQueues(): Promise<DeadLetterLink[]> {
    this.guard();
    const infos = await this.allStreams();
    const existing = new Set(infos.map((i) => i.name));
    const links: DeadLetterLink[] = [];
    for (const info of infos) {
      const conventional = this.convention.originOf(info.name);
      if (conventional === null) continue;
      // A sample of the newest entries tells which streams dead-letter here besides the conventional one.
      const sample = parseEntries(await this.shared.callBuffer(`sampling ${info.name}`, 'XREVRANGE', [info.name, '+', '-', 'COUNT', 20]));
      const fromEntries = new Set(sample.map(originOf).filter((o): o is string => o !== null));
      const origins = new Set<string>();
      if (existing.has(conventional) || fromEntries.has(conventional)) origins.add(conventional);
      for (const o of fromEntries) origins.add(o);
      const via = fromEntries.size > 0 ? 'naming convention, origin header' : 'naming convention';
      links.push({ deadLetter: info.name, origins: [...origins].sort(), depth: info.length, via });
    }
    return links;
  }

  async redrive(request: RedriveRequest, context: RedriveContext): Promise<RedriveReport> {
    this.guard();
    return runRedrive(this.shared, this.convention, request, context);
  }

  // ---- consumer groups -------------------------------------------------------------------

  private async streamsFor(destination?: string): Promise<StreamInfo[]> {
    if (destination === undefined) return this.allStreams();
    validateStreamName(destination);
    return [await streamInfo(this.shared, destination)];
  }

  async listConsumerGroups(destination?: string): Promise<ConsumerGroupSummary[]> {
    this.guard();
    const details = await describeGroups(this.shared, await this.streamsFor(destination), this.config.activeConsumerMs);
    return details.map(summaryOf);
  }

  async describeConsumerGroup(name: string, destination?: string): Promise<ConsumerGroupDetail> {
    this.guard();
    const [detail] = await describeGroups(this.shared, await this.streamsFor(destination), this.config.activeConsumerMs, name);
    if (!detail) throw new NotFoundError(`No consumer group ${name}${destination === undefined ? '' : ` on ${destination}`}`);
    return detail;
  }

  async resetOffsets(group: string, destination: string, target: OffsetResetTarget): Promise<void> {
    this.guard();
    await resetGroup(this.shared, group, destination, target, this.config.activeConsumerMs);
  }

  async listPending(destination: string, group: string, limit: number): Promise<PendingEntry[]> {
    this.guard();
    return listPendingEntries(this.shared, destination, group, limit);
  }

  async ackPending(destination: string, group: string, ids: string[]): Promise<number> {
    this.guard();
    return ackPendingEntries(this.shared, destination, group, ids);
  }

  async claimPending(destination: string, group: string, consumer: string, ids: string[]): Promise<number> {
    this.guard();
    return claimPendingEntries(this.shared, destination, group, consumer, ids);
  }

  // ---- metrics -------------------------------------------------------------------------------

  async metrics(): Promise<MetricsSnapshot> {
    this.guard();
    const infos = await this.allStreams();
    const at = new Date();
    const rates = this.rates;
    this.forgetRatesExcept(infos.map((i) => i.name));
    return {
      at,
      destinations: infos.map((info) => {
        const entriesRead = sumOrNull(info.groups.map((g) => g.entriesRead));
        return {
          destination: info.name,
          depth: info.length,
          inFlight: sum(info.groups.map((g) => g.pending)),
          delayed: null,
          consumers: sum(info.groups.map((g) => g.consumers)),
          publishRate: rates.observe(rateKey(info.name, 'added'), info.entriesAdded),
          deliverRate: entriesRead === null || info.groups.length === 0 ? null : rates.observe(rateKey(info.name, 'read'), entriesRead),
          ackRate: null,
          oldestAgeMs: oldestAgeMs(info, at.getTime()),
        };
      }),
      groups: infos.flatMap((info) =>
        info.groups.map((g) => ({
          group: g.name,
          destination: info.name,
          lag: g.lag,
          pending: g.pending,
          consumeRate: g.entriesRead === null ? null : rates.observe(rateKey(info.name, 'group', g.name), g.entriesRead),
        })),
      ),
    };
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        for (const stop of this.tails) stop();
        await Promise.all([...this.consumers].map((c) => c.close().catch(() => undefined)));
        await Promise.all([...this.producers].map((p) => p.close()));
        this.shared.disconnect();
      })();
    }
    return this.closing;
  }
}

export function createRedisAdapter(config: RedisAdapterConfig = {}): RedisAdapter {
  return new RedisAdapter(config);
}

/** Stream names may hold any character but NUL, which separates the parts of a rate key. */
function rateKey(stream: string, counter: 'added' | 'read' | 'group', group = ''): string {
  return `${stream}\u0000${counter}\u0000${group}`;
}

function streamOfRateKey(key: string): string {
  return key.slice(0, key.indexOf('\u0000'));
}
