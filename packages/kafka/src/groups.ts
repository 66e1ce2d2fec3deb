import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  type ConsumerGroupDetail,
  type ConsumerGroupSummary,
  type GroupPartitionLag,
  type OffsetResetTarget,
} from '@mailroom/core';
import { AssignerProtocol, type Admin } from 'kafkajs';
import type { PartitionOffsets, RawKafka } from './raw';

export interface GroupOverview {
  name: string;
  state: string;
  protocolType: string;
  members: { id: string; clientId: string; host: string; assignment: Record<string, number[]> }[];
  /** topic → partition → committed offset */
  committed: Map<string, Map<number, number>>;
}

export interface GroupsDeps {
  admin: () => Promise<Admin>;
  raw: RawKafka;
}

function decodeAssignment(protocolType: string, bytes: Buffer): Record<string, number[]> {
  if (protocolType !== 'consumer' || bytes.length === 0) return {};
  try {
    return AssignerProtocol.MemberAssignment.decode(bytes)?.assignment ?? {};
  } catch {
    return {};
  }
}

export async function groupOverviews(deps: GroupsDeps, names?: string[]): Promise<GroupOverview[]> {
  const admin = await deps.admin();
  const ids = names ?? (await admin.listGroups()).groups.map((g) => g.groupId);
  if (ids.length === 0) return [];
  const described = await admin.describeGroups(ids);
  return Promise.all(
    ids.map(async (name) => {
      const d = described.groups.find((g) => g.groupId === name);
      const offsets = await admin.fetchOffsets({ groupId: name });
      const committed = new Map<string, Map<number, number>>();
      for (const t of offsets) {
        const parts = new Map<number, number>();
        for (const p of t.partitions) if (Number(p.offset) >= 0) parts.set(p.partition, Number(p.offset));
        if (parts.size > 0) committed.set(t.topic, parts);
      }
      return {
        name,
        // Kafka 4's new-protocol groups (KIP-848, group.protocol=consumer) answer the classic
        // DescribeGroups that kafkajs speaks with "Dead" and no members although they are listed.
        state: d === undefined || d.state === 'Dead' ? 'Unknown' : d.state,
        protocolType: d?.protocolType ?? '',
        members: (d?.members ?? []).map((m) => ({
          id: m.memberId,
          clientId: m.clientId,
          host: m.clientHost,
          assignment: decodeAssignment(d?.protocolType ?? '', m.memberAssignment),
        })),
        committed,
      };
    }),
  );
}

export function topicsOf(group: GroupOverview): string[] {
  const topics = new Set(group.committed.keys());
  for (const m of group.members) for (const t of Object.keys(m.assignment)) topics.add(t);
  return [...topics].sort();
}

/**
 * Per-partition lag as Kafka's kafka-consumer-groups tool computes it: log end offset (high
 * watermark) − committed offset; no committed offset gives null (the tool prints "-").
 */
export function partitionLags(group: GroupOverview, marks: Map<string, PartitionOffsets[]>, destination?: string): GroupPartitionLag[] {
  const out: GroupPartitionLag[] = [];
  for (const topic of topicsOf(group)) {
    if (destination !== undefined && topic !== destination) continue;
    const committed = group.committed.get(topic) ?? new Map<number, number>();
    const assigned = new Set<number>();
    for (const m of group.members) for (const p of m.assignment[topic] ?? []) assigned.add(p);
    const partitions = new Set([...committed.keys(), ...assigned]);
    const topicMarks = marks.get(topic);
    for (const partition of [...partitions].sort((a, b) => a - b)) {
      const c = committed.get(partition);
      const end = topicMarks?.find((m) => m.partition === partition)?.high;
      out.push({
        destination: topic,
        partition,
        committed: c === undefined ? null : String(c),
        end: end === undefined ? null : String(end),
        lag: c === undefined || end === undefined ? null : Math.max(0, end - c),
      });
    }
  }
  return out;
}

function sumLag(parts: GroupPartitionLag[]): number | null {
  const known = parts.filter((p) => p.lag !== null);
  return known.length === 0 ? null : known.reduce((s, p) => s + (p.lag ?? 0), 0);
}

export async function watermarksFor(raw: RawKafka, topics: string[]): Promise<Map<string, PartitionOffsets[]>> {
  const result = new Map<string, PartitionOffsets[]>();
  // A group may still hold offsets of a deleted topic: read each topic on its own so one missing topic does not hide the rest.
  await Promise.all(
    [...new Set(topics)].map(async (topic) => {
      try {
        result.set(topic, await raw.watermarks(topic));
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    }),
  );
  return result;
}

export function summarise(group: GroupOverview, marks: Map<string, PartitionOffsets[]>, destination?: string): ConsumerGroupDetail {
  const partitions = partitionLags(group, marks, destination);
  return {
    name: group.name,
    destinations: destination === undefined ? topicsOf(group) : topicsOf(group).filter((t) => t === destination),
    state: group.state,
    members: group.members.length,
    lag: sumLag(partitions),
    pending: null,
    partitions,
    membersDetail: group.members.map((m) => ({ id: m.id, host: m.host || null, pending: null, idleMs: null })),
  };
}

export async function listGroups(deps: GroupsDeps, destination?: string): Promise<ConsumerGroupSummary[]> {
  const groups = (await groupOverviews(deps)).filter((g) => destination === undefined || topicsOf(g).includes(destination));
  const marks = await watermarksFor(deps.raw, groups.flatMap((g) => (destination === undefined ? topicsOf(g) : [destination])));
  return groups
    .map((g) => {
      const { partitions: _partitions, membersDetail: _members, ...summary } = summarise(g, marks, destination);
      return summary;
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function describeGroup(deps: GroupsDeps, name: string, destination?: string): Promise<ConsumerGroupDetail> {
  const admin = await deps.admin();
  const listed = (await admin.listGroups()).groups.some((g) => g.groupId === name);
  if (!listed) throw new NotFoundError(`Kafka consumer group ${JSON.stringify(name)} does not exist`);
  const [group] = await groupOverviews(deps, [name]);
  if (!group) throw new NotFoundError(`Kafka consumer group ${JSON.stringify(name)} does not exist`);
  const marks = await watermarksFor(deps.raw, destination === undefined ? topicsOf(group) : [destination]);
  return summarise(group, marks, destination);
}

/**
 * Moves an inactive group's committed offsets on `topic`, as `kafka-consumer-groups --reset-offsets`
 * does. Refused while the group has members: they would overwrite it with their next commit.
 */
export async function resetGroupOffsets(deps: GroupsDeps, group: string, topic: string, target: OffsetResetTarget): Promise<void> {
  const admin = await deps.admin();
  const described = await admin.describeGroups([group]);
  const members = described.groups.find((g) => g.groupId === group)?.members.length ?? 0;
  if (members > 0) {
    throw new ConflictError(`Consumer group ${group} has ${members} active member(s); offsets can only be reset while it has none`, {
      hint: 'Stop every consumer of the group (and wait for its session timeout), then reset again.',
    });
  }
  const marks = await deps.raw.watermarks(topic);
  let offsets: { partition: number; offset: number }[];
  switch (target.kind) {
    case 'earliest':
      offsets = marks.map((m) => ({ partition: m.partition, offset: m.low }));
      break;
    case 'latest':
      offsets = marks.map((m) => ({ partition: m.partition, offset: m.high }));
      break;
    case 'timestamp': {
      const time = target.timestamp instanceof Date ? target.timestamp.getTime() : NaN;
      if (!Number.isFinite(time)) throw new InvalidInputError('timestamp is not a valid date');
      const found = await deps.raw.offsetsForTimestamp(topic, time);
      offsets = marks.map((m) => ({ partition: m.partition, offset: found.get(m.partition) ?? m.high }));
      break;
    }
    case 'offset': {
      const m = marks.find((x) => x.partition === target.partition);
      if (!m) throw new InvalidInputError(`Topic ${topic} has no partition ${target.partition}`);
      if (!/^\d+$/.test(String(target.offset))) throw new InvalidInputError(`offset ${JSON.stringify(target.offset)} is not a non-negative integer`);
      const offset = Number(target.offset);
      if (offset < m.low || offset > m.high) {
        throw new InvalidInputError(`Offset ${offset} is outside partition ${m.partition}'s range ${m.low}..${m.high}`);
      }
      offsets = [{ partition: m.partition, offset }];
      break;
    }
    default:
      throw new InvalidInputError('Unknown offset reset target');
  }
  await deps.raw.commitStandalone(group, topic, offsets);
}
