import { NotFoundError, type ConsumerGroupDetail, type ConsumerGroupMember, type ConsumerGroupSummary } from '@mailroom/core';
import type { ResolvedConfig } from './config';
import type { ManagementClient, MgmtConsumer, MgmtQueue } from './management';
import { GroupArgs } from './topology';
import { queueLag } from './destinations';

function summaryOf(queue: MgmtQueue, name: string, destination: string): ConsumerGroupSummary {
  const consumers = queue.consumers ?? 0;
  return {
    name,
    destinations: [destination],
    state: consumers > 0 ? 'active' : 'idle',
    members: consumers,
    lag: queueLag(queue),
    pending: queue.messages_unacknowledged ?? null,
  };
}

/**
 * In RabbitMQ a consumer group is a queue: its consumers compete for its messages, its ready
 * count is the group's lag and its unacked count the group's pending. Groups are the queues
 * Mailroom's consumers made (marked by arguments) and, for a given destination, every queue
 * bound to it; without a destination, also every queue that has consumers.
 */
export async function consumerGroups(management: ManagementClient, config: ResolvedConfig, destination?: string): Promise<ConsumerGroupSummary[]> {
  const queues = await management.queues();
  const out: ConsumerGroupSummary[] = [];
  if (destination === undefined) {
    for (const queue of queues) {
      const args = queue.arguments ?? {};
      const group = args[GroupArgs.group];
      const topic = args[GroupArgs.topic];
      if (typeof group === 'string' && typeof topic === 'string') out.push(summaryOf(queue, group, topic));
      else if ((queue.consumers ?? 0) > 0) out.push(summaryOf(queue, queue.name, queue.name));
    }
    return out;
  }
  const byName = new Map(queues.map((q) => [q.name, q]));
  const bindings = await management.bindingsFrom(destination).catch((error: unknown) => {
    if (error instanceof NotFoundError) return [];
    throw error;
  });
  const bound = new Set(bindings.filter((b) => b.destination_type === 'queue').map((b) => b.destination));
  for (const name of bound) {
    const queue = byName.get(name);
    if (!queue) continue;
    const group = queue.arguments?.[GroupArgs.group];
    if (name === destination && (queue.consumers ?? 0) === 0) continue;
    out.push(summaryOf(queue, typeof group === 'string' ? group : name, destination));
  }
  const own = byName.get(destination);
  if (own && !bound.has(destination)) out.push(summaryOf(own, destination, destination));
  void config;
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** What a passive declare says about a queue right now (null: it is gone). */
export type LiveQueueState = (queue: string) => Promise<{ messageCount: number; consumerCount: number } | null>;

/**
 * One entry per consumer. The management API lists a consumer's details only after its next
 * statistics collection (5 s by default, later on a loaded broker), while the passive declare
 * counts it at once: consumers it counts but the statistics do not list yet get a placeholder
 * entry instead of an empty list that would read as "no members". When the declare counts
 * none, listed details are of consumers that already left.
 */
export function membersOf(listed: MgmtConsumer[], liveCount: number | null): ConsumerGroupMember[] {
  if (liveCount === 0) return [];
  const members: ConsumerGroupMember[] = listed.map((c) => ({
    id: c.consumer_tag,
    host: c.channel_details?.peer_host ?? null,
    pending: null,
    idleMs: null,
  }));
  if (liveCount === null) return members;
  for (let n = members.length + 1; n <= liveCount; n++) {
    members.push({ id: `consumer ${n} of ${liveCount} (not yet listed by the management API)`, host: null, pending: null, idleMs: null });
  }
  return members;
}

export async function describeGroup(
  management: ManagementClient,
  config: ResolvedConfig,
  live: LiveQueueState,
  name: string,
  destination?: string,
): Promise<ConsumerGroupDetail> {
  const candidates = destination !== undefined ? [`${destination}${config.groupSeparator}${name}`, name] : [name];
  let queue: MgmtQueue | null = null;
  for (const candidate of candidates) {
    queue = await management.queue(candidate).catch((error: unknown) => (error instanceof NotFoundError ? null : Promise.reject(error)));
    if (queue) break;
  }
  if (!queue) {
    const all = await management.queues();
    queue = all.find((q) => q.arguments?.[GroupArgs.group] === name && (destination === undefined || q.arguments[GroupArgs.topic] === destination)) ?? null;
    if (queue) queue = await management.queue(queue.name);
  }
  if (!queue) throw new NotFoundError(`No consumer group ${JSON.stringify(name)}${destination === undefined ? '' : ` on ${destination}`}`);
  const topic = queue.arguments?.[GroupArgs.topic];
  const dest = typeof topic === 'string' ? topic : (destination ?? queue.name);
  // The consumer count of the statistics lags; the declare's is exact (lag and pending stay the
  // statistics' own, so ready and unacked come from one consistent reading). A stream's
  // declare-ok always counts 0 consumers: a stream keeps the statistics' count.
  const now = queue.type === 'stream' ? null : await live(queue.name).catch(() => null);
  const summary = summaryOf(now === null ? queue : { ...queue, consumers: now.consumerCount }, name, dest);
  return {
    ...summary,
    partitions: [{ destination: dest, partition: null, committed: null, end: null, lag: queueLag(queue) }],
    membersDetail: membersOf(queue.consumer_details ?? [], now?.consumerCount ?? null),
  };
}
