import { AssignerProtocol, Kafka, logLevel, type Admin, type GroupDescription } from 'kafkajs';
import { fromKafkaEnv, createKafkaAdapter, type KafkaAdapter } from '../src';

export function brokers(): string[] {
  return fromKafkaEnv().brokers;
}

export function newAdapter(): KafkaAdapter {
  return createKafkaAdapter(fromKafkaEnv());
}

/** Unique lower-case names per run: tests never see each other's topics. */
export function uniqueName(label: string): string {
  const random = Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0');
  return `mr-test-${label}-${Date.now().toString(36)}${random}`;
}

function kafkaAdmin(): Admin {
  return new Kafka({ clientId: 'mailroom-test-groups', brokers: brokers(), logLevel: logLevel.NOTHING }).admin();
}

/** Topics a group shows: its commits, its members' subscriptions and assignments. */
async function topicsOfGroup(admin: Admin, group: GroupDescription): Promise<string[]> {
  const topics = new Set<string>();
  for (const t of await admin.fetchOffsets({ groupId: group.groupId })) if (t.partitions.some((p) => Number(p.offset) >= 0)) topics.add(t.topic);
  if (group.protocolType === 'consumer') {
    for (const m of group.members) {
      for (const t of decodeOrNull(() => AssignerProtocol.MemberMetadata.decode(m.memberMetadata))?.topics ?? []) topics.add(t);
      for (const t of Object.keys(decodeOrNull(() => AssignerProtocol.MemberAssignment.decode(m.memberAssignment))?.assignment ?? {})) topics.add(t);
    }
  }
  return [...topics];
}

/** A member in the middle of a rebalance may carry empty metadata or assignment bytes. */
function decodeOrNull<T>(decode: () => T | null): T | null {
  try {
    return decode();
  } catch {
    return null;
  }
}

/**
 * Every consumer group on the broker (kafkajs admin.listGroups, not the adapter) before and after
 * `run`; returns the groups that appeared and are not provably someone else's. Other test runs may
 * share the broker, so a new group whose commits and members name only other topics is theirs; a
 * new group that names one of `topics`, or names nothing at all (joined and left without a
 * commit), is counted.
 */
export async function groupsLeftBehind(topics: string[], run: () => Promise<void>): Promise<string[]> {
  const admin = kafkaAdmin();
  await admin.connect();
  try {
    const before = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    await run();
    const appeared = (await admin.listGroups()).groups.map((g) => g.groupId).filter((id) => !before.has(id));
    if (appeared.length === 0) return [];
    const described = (await admin.describeGroups(appeared)).groups;
    const left: string[] = [];
    for (const group of described) {
      const shown = await topicsOfGroup(admin, group);
      if (shown.length === 0 || shown.some((t) => topics.includes(t))) left.push(group.groupId);
    }
    return left.sort();
  } finally {
    await admin.disconnect();
  }
}

/** A plain kafkajs consumer that joins `group` on `topic` and leaves without committing anything. */
export async function joinAndLeaveWithoutCommit(group: string, topic: string): Promise<void> {
  const consumer = new Kafka({ clientId: 'mailroom-test-leaver', brokers: brokers(), logLevel: logLevel.NOTHING }).consumer({ groupId: group });
  try {
    await consumer.connect();
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
    await joined;
  } finally {
    await consumer.disconnect();
  }
}

/** Deletes consumer groups with kafkajs's admin (cleanup of groups tests created on purpose). */
export async function deleteGroups(groups: string[]): Promise<void> {
  if (groups.length === 0) return;
  const admin = kafkaAdmin();
  await admin.connect();
  try {
    await admin.deleteGroups(groups).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}
