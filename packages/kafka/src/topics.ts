import type { AttributeValue, DeadLetterLink } from '@mailroom/core';
import { Headers } from '@mailroom/core';
import type { Admin } from 'kafkajs';

/**
 * kafkajs's ConfigResourceTypes.TOPIC. Not imported: Node's ESM loader cannot see that export of
 * kafkajs's CommonJS index (only the ones before `CompressionTypes` in its export object).
 */
const TOPIC_RESOURCE = 2;
import { SpringDlt } from './codec';
import type { DeadLetterNaming } from './dead-letters';
import type { PartitionOffsets, RawKafka } from './raw';

export const SUMMARY_CONFIGS = ['retention.ms', 'retention.bytes', 'cleanup.policy', 'max.message.bytes', 'min.insync.replicas'];

export interface TopicFacts {
  partitions: number;
  replicationFactor: number | null;
  config: Record<string, string>;
}

/**
 * Partition count, replication factor and (some or all) configs of each topic. A topic deleted
 * meanwhile (by anyone) fails the whole batch in Kafka; then each topic is asked on its own and
 * the missing ones are left out.
 */
export async function topicFacts(admin: Admin, names: string[], configNames: string[] | null): Promise<Map<string, TopicFacts>> {
  try {
    return await topicFactsBatch(admin, names, configNames);
  } catch (error) {
    if (names.length <= 1) throw error;
    const result = new Map<string, TopicFacts>();
    await Promise.all(
      names.map(async (name) => {
        const one = await topicFactsBatch(admin, [name], configNames).catch(() => null);
        const facts = one?.get(name);
        if (facts) result.set(name, facts);
      }),
    );
    return result;
  }
}

async function topicFactsBatch(admin: Admin, names: string[], configNames: string[] | null): Promise<Map<string, TopicFacts>> {
  const result = new Map<string, TopicFacts>();
  if (names.length === 0) return result;
  const [metadata, configs] = await Promise.all([
    admin.fetchTopicMetadata({ topics: names }),
    admin.describeConfigs({
      includeSynonyms: false,
      resources: names.map((name) => ({ type: TOPIC_RESOURCE, name, ...(configNames ? { configNames } : {}) })),
    }),
  ]);
  for (const topic of metadata.topics) {
    const resource = configs.resources.find((r) => r.resourceName === topic.name);
    const config: Record<string, string> = {};
    for (const entry of resource?.configEntries ?? []) {
      if (!entry.isSensitive && entry.configValue !== null && entry.configValue !== undefined) config[entry.configName] = String(entry.configValue);
    }
    result.set(topic.name, {
      partitions: topic.partitions.length,
      replicationFactor: topic.partitions[0]?.replicas.length ?? null,
      config,
    });
  }
  return result;
}

export function depthOf(marks: PartitionOffsets[] | undefined): number | null {
  if (!marks) return null;
  return marks.reduce((n, m) => n + Math.max(0, m.high - m.low), 0);
}

export function attributesOf(facts: TopicFacts | undefined): Record<string, AttributeValue> {
  const attributes: Record<string, AttributeValue> = { type: 'topic' };
  if (!facts) return attributes;
  attributes['replicationFactor'] = facts.replicationFactor;
  for (const name of SUMMARY_CONFIGS) {
    const value = facts.config[name];
    if (value === undefined) continue;
    attributes[name] = /^-?\d+$/.test(value) ? Number(value) : value;
  }
  return attributes;
}

/**
 * Origins named by dead-letter headers on the newest few records of each partition
 * (one Fetch per leader for all topics). A record that was itself redriven, or that names its
 * own topic, is not evidence.
 */
export async function sampleHeaderOrigins(raw: RawKafka, marks: Map<string, PartitionOffsets[]>): Promise<Map<string, Set<string>>> {
  const found = new Map<string, Set<string>>();
  const requests: { topic: string; partition: number; offset: number }[] = [];
  for (const [topic, parts] of marks) {
    for (const m of parts) if (m.high > m.low) requests.push({ topic, partition: m.partition, offset: Math.max(m.low, m.high - 3) });
  }
  if (requests.length === 0) return found;
  const options = { maxWaitMs: 0, partitionMaxBytes: 32 * 1024 };
  let fetched;
  try {
    fetched = await raw.fetch(requests, options);
  } catch {
    // One topic deleted meanwhile fails the round: sample the others one topic at a time.
    const topics = [...new Set(requests.map((r) => r.topic))];
    const parts = await Promise.all(topics.map((t) => raw.fetch(requests.filter((r) => r.topic === t), options).catch(() => [])));
    fetched = parts.flat();
  }
  for (const data of fetched) {
    for (const record of data.records) {
      const header = (name: string) => {
        const v = record.headers[name];
        const last = Array.isArray(v) ? v[v.length - 1] : v;
        return last === undefined ? undefined : last.toString();
      };
      if (header(Headers.redrivenFrom) !== undefined) continue;
      const origin = header(Headers.deadLetterOrigin) ?? header(SpringDlt.originalTopic);
      if (origin === undefined || origin === '' || origin === data.topic) continue;
      const set = found.get(data.topic) ?? new Set<string>();
      set.add(origin);
      found.set(data.topic, set);
    }
  }
  return found;
}

export interface LinkDraft {
  origins: Set<string>;
  via: Set<string>;
}

/** DLQ → origins, from the naming patterns (origin must exist) and from sampled headers. */
export function deadLetterLinks(names: string[], naming: DeadLetterNaming, headerOrigins: Map<string, Set<string>>): Map<string, LinkDraft> {
  const existing = new Set(names);
  const links = new Map<string, LinkDraft>();
  const link = (dlq: string, origin: string | null, via: string) => {
    const draft = links.get(dlq) ?? { origins: new Set<string>(), via: new Set<string>() };
    if (origin !== null) draft.origins.add(origin);
    draft.via.add(via);
    links.set(dlq, draft);
  };
  for (const name of names) {
    const origin = naming.originOf(name);
    if (origin !== null) link(name, existing.has(origin) ? origin : null, 'naming convention');
  }
  for (const [dlq, origins] of headerOrigins) for (const origin of origins) link(dlq, origin, 'origin header');
  return links;
}

export function toDeadLetterLinks(links: Map<string, LinkDraft>, marks: Map<string, PartitionOffsets[]>): DeadLetterLink[] {
  return [...links]
    .map(([deadLetter, draft]) => ({
      deadLetter,
      origins: [...draft.origins].sort(),
      depth: depthOf(marks.get(deadLetter)),
      via: [...draft.via].join(', '),
    }))
    .sort((a, b) => a.deadLetter.localeCompare(b.deadLetter));
}
