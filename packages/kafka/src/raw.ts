/**
 * Group-less access to Kafka over kafkajs's own cluster and broker objects.
 *
 * kafkajs has no assign() API: its consumer always joins a group. Browsing, tailing and
 * redrive must leave no group behind, so they fetch directly from partition leaders with
 * the Fetch API, exactly as a Java consumer using assign() does. This uses kafkajs 2.2.4
 * internals (the cluster factory the Kafka client keeps under a private symbol, and its
 * record Batch class); the version is pinned and `rawClusterOf` fails loudly if they move.
 *
 * Leaders are resolved per call from a Metadata request for exactly the topics involved,
 * never via the cluster's shared "target topics", so a topic deleted by someone else cannot
 * poison later metadata refreshes (which is what happens to kafkajs's admin client).
 */
import { createRequire } from 'node:module';
import type { Kafka } from 'kafkajs';
import { ClientClosedError, NotFoundError } from '@mailroom/core';
import { toMailroomError } from './errors';

const requireCjs = createRequire(import.meta.url);

export interface RawRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[] | string | undefined>;
  isControlRecord?: boolean;
}

interface RawFetchPartition {
  partition: number;
  errorCode: number;
  highWatermark: string;
  lastStableOffset?: string;
  lastStartOffset?: string;
  abortedTransactions?: unknown[];
  messages: RawRecord[];
}

interface RawBroker {
  fetch(request: {
    replicaId?: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
  }): Promise<{ responses: { topicName: string; partitions: RawFetchPartition[] }[] }>;
  listOffsets(request: {
    isolationLevel: number;
    topics: { topic: string; partitions: { partition: number; timestamp: number | string }[] }[];
  }): Promise<{ responses: { topic: string; partitions: { partition: number; offset: string; errorCode: number }[] }[] }>;
  offsetCommit(request: {
    groupId: string;
    groupGenerationId: number;
    memberId: string;
    topics: { topic: string; partitions: { partition: number; offset: string; metadata?: string | null }[] }[];
  }): Promise<unknown>;
  deleteRecords(request: { topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }): Promise<unknown>;
  versions: Record<string, { minVersion: number; maxVersion: number }> | null;
}

interface RawMetadata {
  brokers: { nodeId: number; host: string; port: number }[];
  topicMetadata: { topic: string; topicErrorCode: number; partitionMetadata: { partitionId: number; leader: number; replicas: number[]; isr: number[] }[] }[];
}

interface RawCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  isConnected(): boolean;
  metadata(options: { topics: string[] }): Promise<RawMetadata>;
  findBroker(options: { nodeId: string | number }): Promise<RawBroker>;
  findGroupCoordinator(options: { groupId: string }): Promise<RawBroker>;
}

type ClusterFactory = (options: { metadataMaxAge?: number; allowAutoTopicCreation?: boolean; isolationLevel?: number }) => RawCluster;

interface BatchInstance {
  messages: RawRecord[];
  messagesWithinOffset: RawRecord[];
}
type BatchClass = new (topic: string, fetchedOffset: string, partitionData: RawFetchPartition) => BatchInstance;

const Batch = requireCjs('kafkajs/src/consumer/batch') as BatchClass;

export const ISOLATION_READ_UNCOMMITTED = 0;
export const ISOLATION_READ_COMMITTED = 1;
const LATEST = -1;
const EARLIEST = -2;

function rawClusterOf(kafka: Kafka): RawCluster {
  const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const factory = key === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[key];
  if (typeof factory !== 'function') {
    throw new Error('kafkajs internals changed: the cluster factory is missing (this adapter needs kafkajs 2.2.4)');
  }
  return (factory as ClusterFactory)({ metadataMaxAge: 60_000, allowAutoTopicCreation: false, isolationLevel: ISOLATION_READ_COMMITTED });
}

export interface FetchedPartition {
  topic: string;
  partition: number;
  fetchOffset: number;
  /** Data records (control records and aborted transactions removed), offset ≥ fetchOffset. */
  records: RawRecord[];
  /** Offset after the last record the broker returned, control records included; null when it returned none. */
  nextOffset: number | null;
  highWatermark: number;
  lastStableOffset: number;
}

export interface PartitionOffsets {
  partition: number;
  low: number;
  high: number;
}

export interface FetchRequest {
  topic: string;
  partition: number;
  offset: number;
}

const TRANSIENT = new Set([
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'REQUEST_TIMED_OUT',
  'NOT_COORDINATOR',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
]);

/**
 * Retries a request the broker refused for a moment: right after a topic is created, the
 * metadata already names a leader that does not serve the partition yet. The topic's existence
 * was checked before (leaders()), so a missing topic still fails fast.
 */
async function transientRetry<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const type = (error as { type?: unknown }).type;
      if (attempt >= 5 || typeof type !== 'string' || !TRANSIENT.has(type)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
    }
  }
}

export class RawKafka {
  private cluster: RawCluster | null = null;
  private connecting: Promise<RawCluster> | null = null;
  private closed = false;

  constructor(private readonly kafka: Kafka) {}

  private async connected(): Promise<RawCluster> {
    // A tail or redrive still running when the adapter closes must stop, not reconnect.
    if (this.closed) throw new ClientClosedError('Kafka adapter');
    if (this.cluster?.isConnected()) return this.cluster;
    if (!this.connecting) {
      this.connecting = (async () => {
        const cluster = this.cluster ?? rawClusterOf(this.kafka);
        this.cluster = cluster;
        await cluster.connect();
        return cluster;
      })().finally(() => {
        this.connecting = null;
      });
    }
    return this.connecting;
  }

  /** Partition → leader node, for each topic; NotFoundError names a topic that does not exist. */
  async leaders(topics: string[]): Promise<Map<string, Map<number, number>>> {
    const cluster = await this.connected();
    const unique = [...new Set(topics)];
    let metadata: RawMetadata | null = null;
    // Right after a topic is created (or a leader moves) a partition can briefly have no leader.
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        metadata = await cluster.metadata({ topics: unique });
      } catch (error) {
        throw toMailroomError(error, `reading metadata of ${unique.join(', ')}`);
      }
      const leaderless = metadata.topicMetadata.some((t) => t.partitionMetadata.some((p) => p.leader === null || p.leader === undefined || p.leader < 0));
      if (!leaderless) break;
      await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
    }
    if (!metadata) throw new NotFoundError(`Kafka returned no metadata for ${unique.join(', ')}`);
    const result = new Map<string, Map<number, number>>();
    for (const topic of unique) {
      const found = metadata.topicMetadata.find((t) => t.topic === topic);
      if (!found || found.partitionMetadata.length === 0) throw new NotFoundError(`Kafka topic ${JSON.stringify(topic)} does not exist`);
      result.set(topic, new Map(found.partitionMetadata.map((p) => [p.partitionId, p.leader])));
    }
    return result;
  }

  async partitions(topic: string): Promise<number[]> {
    const leaders = await this.leaders([topic]);
    return [...(leaders.get(topic)?.keys() ?? [])].sort((a, b) => a - b);
  }

  async metadata(topics: string[]): Promise<RawMetadata> {
    const cluster = await this.connected();
    return cluster.metadata({ topics });
  }

  /** The versions the first reachable broker supports, keyed by API key. */
  async apiVersions(): Promise<Record<string, { minVersion: number; maxVersion: number }> | null> {
    const cluster = await this.connected();
    const metadata = await cluster.metadata({ topics: [] });
    const first = metadata.brokers[0];
    if (!first) return null;
    const broker = await cluster.findBroker({ nodeId: first.nodeId });
    return broker.versions;
  }

  private async byLeader<T extends { topic: string; partition: number }>(items: T[]): Promise<Map<number, T[]>> {
    const leaders = await this.leaders(items.map((i) => i.topic));
    const grouped = new Map<number, T[]>();
    for (const item of items) {
      const leader = leaders.get(item.topic)?.get(item.partition);
      if (leader === undefined) throw new NotFoundError(`Kafka topic ${item.topic} has no partition ${item.partition}`);
      const list = grouped.get(leader) ?? [];
      list.push(item);
      grouped.set(leader, list);
    }
    return grouped;
  }

  private static byTopic<T extends { topic: string }, P>(items: T[], map: (item: T) => P): { topic: string; partitions: P[] }[] {
    const topics = new Map<string, P[]>();
    for (const item of items) {
      const list = topics.get(item.topic) ?? [];
      list.push(map(item));
      topics.set(item.topic, list);
    }
    return [...topics].map(([topic, partitions]) => ({ topic, partitions }));
  }

  /** Low (log start) and high (log end) offsets of every partition of `topic`. */
  async watermarks(topic: string, partitions?: number[]): Promise<PartitionOffsets[]> {
    const all = partitions ?? (await this.partitions(topic));
    const [low, high] = await Promise.all([
      this.listOffsets(all.map((partition) => ({ topic, partition, timestamp: EARLIEST }))),
      this.listOffsets(all.map((partition) => ({ topic, partition, timestamp: LATEST }))),
    ]);
    return all.map((partition) => ({
      partition,
      low: low.get(`${topic}:${partition}`) ?? 0,
      high: high.get(`${topic}:${partition}`) ?? 0,
    }));
  }

  /** Watermarks of many topics at once (one ListOffsets round per leader). */
  async watermarksOf(topics: string[]): Promise<Map<string, PartitionOffsets[]>> {
    const result = new Map<string, PartitionOffsets[]>();
    if (topics.length === 0) return result;
    const leaders = await this.leaders(topics);
    const items: { topic: string; partition: number }[] = [];
    for (const [topic, partitions] of leaders) for (const partition of partitions.keys()) items.push({ topic, partition });
    const [low, high] = await Promise.all([
      this.listOffsets(items.map((i) => ({ ...i, timestamp: EARLIEST }))),
      this.listOffsets(items.map((i) => ({ ...i, timestamp: LATEST }))),
    ]);
    for (const { topic, partition } of items) {
      const list = result.get(topic) ?? [];
      list.push({ partition, low: low.get(`${topic}:${partition}`) ?? 0, high: high.get(`${topic}:${partition}`) ?? 0 });
      result.set(topic, list);
    }
    for (const list of result.values()) list.sort((a, b) => a.partition - b.partition);
    return result;
  }

  /** First offset whose timestamp is ≥ `timestamp`, per partition; the high watermark when none is. */
  async offsetsForTimestamp(topic: string, timestamp: number, partitions?: number[]): Promise<Map<number, number>> {
    const all = partitions ?? (await this.partitions(topic));
    const [found, high] = await Promise.all([
      this.listOffsets(all.map((partition) => ({ topic, partition, timestamp }))),
      this.listOffsets(all.map((partition) => ({ topic, partition, timestamp: LATEST }))),
    ]);
    return new Map(
      all.map((partition) => {
        const offset = found.get(`${topic}:${partition}`) ?? -1;
        return [partition, offset < 0 ? (high.get(`${topic}:${partition}`) ?? 0) : offset];
      }),
    );
  }

  private async listOffsets(items: { topic: string; partition: number; timestamp: number }[]): Promise<Map<string, number>> {
    const result = new Map<string, number>();
    if (items.length === 0) return result;
    const cluster = await this.connected();
    const grouped = await this.byLeader(items);
    await Promise.all(
      [...grouped].map(async ([nodeId, list]) => {
        const broker = await cluster.findBroker({ nodeId });
        const response = await transientRetry(() => broker.listOffsets({
          isolationLevel: ISOLATION_READ_UNCOMMITTED,
          topics: RawKafka.byTopic(list, (i) => ({ partition: i.partition, timestamp: i.timestamp })),
        }));
        for (const topic of response.responses) {
          for (const p of topic.partitions) result.set(`${topic.topic}:${p.partition}`, Number(p.offset));
        }
      }),
    );
    return result;
  }

  /**
   * One Fetch round: each requested partition from `offset`, at most `partitionMaxBytes` each
   * (the broker still returns a first batch larger than that). Read-committed, so aborted
   * transactions and transaction markers are never shown.
   */
  async fetch(requests: FetchRequest[], options: { maxWaitMs: number; partitionMaxBytes: number }): Promise<FetchedPartition[]> {
    if (requests.length === 0) return [];
    const cluster = await this.connected();
    const grouped = await this.byLeader(requests);
    const rounds = await Promise.all(
      [...grouped].map(async ([nodeId, list]) => {
        const broker = await cluster.findBroker({ nodeId });
        const response = await transientRetry(() => broker.fetch({
          isolationLevel: ISOLATION_READ_COMMITTED,
          maxWaitTime: options.maxWaitMs,
          minBytes: 1,
          maxBytes: Math.max(options.partitionMaxBytes * list.length, 50 * 1024 * 1024),
          topics: RawKafka.byTopic(list, (r) => ({ partition: r.partition, fetchOffset: String(r.offset), maxBytes: options.partitionMaxBytes })),
        }));
        const out: FetchedPartition[] = [];
        for (const topic of response.responses) {
          for (const data of topic.partitions) {
            const request = list.find((r) => r.topic === topic.topicName && r.partition === data.partition);
            if (!request) continue;
            const batch = new Batch(topic.topicName, String(request.offset), data);
            const within = batch.messagesWithinOffset;
            const last = within[within.length - 1];
            out.push({
              topic: topic.topicName,
              partition: data.partition,
              fetchOffset: request.offset,
              records: batch.messages,
              nextOffset: last === undefined ? null : Number(last.offset) + 1,
              highWatermark: Number(data.highWatermark),
              lastStableOffset: data.lastStableOffset === undefined ? Number(data.highWatermark) : Number(data.lastStableOffset),
            });
          }
        }
        return out;
      }),
    );
    return rounds.flat();
  }

  /**
   * Commits offsets for a group that has no members (generation −1, like Kafka's own
   * `--reset-offsets`). The broker refuses it while the group has members.
   */
  async commitStandalone(groupId: string, topic: string, offsets: { partition: number; offset: number; metadata?: string | null }[]): Promise<void> {
    const cluster = await this.connected();
    const coordinator = await cluster.findGroupCoordinator({ groupId });
    await transientRetry(() => coordinator.offsetCommit({
      groupId,
      groupGenerationId: -1,
      memberId: '',
      topics: [{ topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: String(o.offset), metadata: o.metadata ?? null })) }],
    }));
  }

  /** Deletes every record before `offset` in each partition (Kafka's DeleteRecords). */
  async deleteRecordsBefore(topic: string, offsets: { partition: number; offset: number }[]): Promise<void> {
    const cluster = await this.connected();
    const grouped = await this.byLeader(offsets.map((o) => ({ topic, ...o })));
    await Promise.all(
      [...grouped].map(async ([nodeId, list]) => {
        const broker = await cluster.findBroker({ nodeId });
        await transientRetry(() => broker.deleteRecords({ topics: RawKafka.byTopic(list, (o) => ({ partition: o.partition, offset: String(o.offset) })) }));
      }),
    );
  }

  async disconnect(): Promise<void> {
    this.closed = true;
    const cluster = this.cluster;
    this.cluster = null;
    if (cluster) await cluster.disconnect().catch(() => undefined);
  }
}
