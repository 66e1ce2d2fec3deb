import {
  identityFromSample,
  isMailroomError,
  retryFromDeadLetters,
  type AckFacts,
  type BrokerAdapter,
  type ConsumerGroupSummary,
  type DeadLetterLink,
  type DestinationFacts,
  type DestinationSummary,
  type Measured,
  type MetricsSnapshot,
  type RetryFacts,
  type StoredMessage,
} from '@mailroom/core';
import { describeRule, rulesFor, type AlertRule } from './alert-rules';

export interface GatherOptions {
  connection: string;
  /** A delivery unacknowledged for longer than this is overdue. */
  ackDeadlineMs: number;
  /** Messages read (without side effects) per destination for the identity check. */
  sampleSize: number;
  /** Dead letters read per DLQ for the retry check. */
  deadLetterSampleSize: number;
  /** Most destinations examined in depth; the rest are judged on the listing alone. */
  maxDestinations: number;
  rules: AlertRule[];
  /** Destinations whose metrics /metrics exports for this connection. */
  exported: (destination: string) => boolean;
}

const errorText = (e: unknown) => (isMailroomError(e) || e instanceof Error ? e.message : String(e));

/**
 * Gathers fitness facts about one connection through the generic admin contract only, so it
 * works the same on every broker. Reads are side-effect free: where the broker's reads are
 * destructive (capabilities.peekIsDestructive) the facts that need a read are "unknown".
 */
export async function gatherFacts(adapter: BrokerAdapter, options: GatherOptions): Promise<DestinationFacts[]> {
  const caps = adapter.capabilities;
  const [destinations, links, groups, metrics] = await Promise.all([
    adapter.listDestinations(),
    adapter.listDeadLetterQueues().catch((): DeadLetterLink[] => []),
    caps.consumerGroups ? adapter.listConsumerGroups().catch((): ConsumerGroupSummary[] => []) : Promise.resolve([]),
    adapter.metrics().catch((): MetricsSnapshot | null => null),
  ]);
  const names = new Set(destinations.map((d) => d.name));
  const deadLetterNames = new Set([...links.map((l) => l.deadLetter), ...destinations.filter((d) => d.isDeadLetter).map((d) => d.name)]);
  const readable = !caps.peekIsDestructive;
  const deadLettersByOrigin = readable ? await sampleDeadLetters(adapter, [...deadLetterNames].filter((n) => names.has(n)), options) : new Map<string, StoredMessage[]>();

  const examined = destinations.slice(0, options.maxDestinations);
  return Promise.all(
    examined.map(async (d): Promise<DestinationFacts> => {
      const isDeadLetter = d.isDeadLetter || deadLetterNames.has(d.name);
      const groupsHere = groups.filter((g) => g.destinations.includes(d.name));
      // Where the broker cannot tell consumers (null), a queue is assumed to carry work.
      const consumed = (d.consumers ?? 0) > 0 || groupsHere.length > 0 || (d.consumers === null && d.kind === 'queue');
      const link = links.find((l) => l.origins.includes(d.name));
      const target = d.deadLetter ?? link?.deadLetter ?? null;
      const rules = rulesFor(options.rules, options.connection, d.name);
      return {
        destination: d.name,
        isDeadLetter,
        consumed,
        deadLetter: { target, reachable: target !== null && names.has(target), via: link?.via ?? (d.deadLetter !== null ? 'destination configuration' : null) },
        ack: consumed ? await ackFacts(adapter, d, groupsHere, metrics, options) : { delivered: 0, overdue: 0, oldestUnackedMs: null, source: 'no consumers' },
        identity: isDeadLetter ? { sampled: 0, withIdentity: 0, duplicateIds: [], dedupedByConsumers: null } : await identityFacts(adapter, d, readable, options),
        retry: retryFacts(d, deadLettersByOrigin, readable, target !== null && names.has(target), caps.peekWarning),
        monitoring: { rules: rules.flatMap(describeRule), exported: options.exported(d.name) },
      };
    }),
  );
}

async function sampleDeadLetters(adapter: BrokerAdapter, dlqs: string[], options: GatherOptions): Promise<Map<string, StoredMessage[]>> {
  const byOrigin = new Map<string, StoredMessage[]>();
  for (const dlq of dlqs) {
    try {
      const page = await adapter.browse({ destination: dlq, start: { from: 'newest' }, limit: options.deadLetterSampleSize });
      for (const m of page.messages) {
        const origin = m.deadLetter?.origin;
        if (origin === null || origin === undefined) continue;
        const list = byOrigin.get(origin) ?? [];
        list.push(m);
        byOrigin.set(origin, list);
      }
    } catch {
      // A DLQ that cannot be read leaves its origins' retry facts at "no failures observed".
    }
  }
  return byOrigin;
}

async function ackFacts(
  adapter: BrokerAdapter,
  d: DestinationSummary,
  groups: ConsumerGroupSummary[],
  metrics: MetricsSnapshot | null,
  options: GatherOptions,
): Promise<Measured<AckFacts>> {
  const m = metrics?.destinations.find((x) => x.destination === d.name);
  const ackRate = m?.ackRate ?? m?.deliverRate ?? null;
  const recentlyAcked = ackRate === null ? 0 : Math.round((ackRate * options.ackDeadlineMs) / 1000);
  if (adapter.capabilities.pendingEntries && groups.length > 0) {
    let pending = 0;
    let overdue = 0;
    let oldest: number | null = null;
    try {
      for (const g of groups) {
        const entries = await adapter.listPending(d.name, g.name, 1000);
        pending += entries.length;
        for (const e of entries) {
          if (e.idleMs > options.ackDeadlineMs) overdue++;
          oldest = Math.max(oldest ?? 0, e.idleMs);
        }
      }
    } catch (e) {
      return { unknown: `could not list pending entries: ${errorText(e)}` };
    }
    return { delivered: pending + recentlyAcked, overdue, oldestUnackedMs: oldest, source: `pending entries of ${groups.length} group(s), deadline ${options.ackDeadlineMs} ms` };
  }
  const inFlight = m?.inFlight ?? d.inFlight;
  if (inFlight === null || inFlight === undefined) return { unknown: 'the broker does not report in-flight (delivered but unacknowledged) messages' };
  if (inFlight === 0) return { delivered: recentlyAcked, overdue: 0, oldestUnackedMs: null, source: 'no unacknowledged messages' };
  const age = m?.oldestAgeMs ?? null;
  if (age === null) return { unknown: `${inFlight} message(s) are unacknowledged but the broker does not report how long they have been` };
  return {
    delivered: inFlight + recentlyAcked,
    overdue: age > options.ackDeadlineMs ? inFlight : 0,
    oldestUnackedMs: age,
    source: `oldest unacknowledged message, deadline ${options.ackDeadlineMs} ms`,
  };
}

async function identityFacts(adapter: BrokerAdapter, d: DestinationSummary, readable: boolean, options: GatherOptions): Promise<DestinationFacts['identity']> {
  if (!readable) return { unknown: `sampling messages would change them on this broker (${adapter.capabilities.peekWarning ?? 'destructive read'})` };
  if (d.depth === 0) return { sampled: 0, withIdentity: 0, duplicateIds: [], dedupedByConsumers: null };
  try {
    const page = await adapter.browse({ destination: d.name, start: { from: 'newest' }, limit: options.sampleSize });
    return identityFromSample(page.messages);
  } catch (e) {
    return { unknown: `could not sample messages: ${errorText(e)}` };
  }
}

function retryFacts(
  d: DestinationSummary,
  deadLettersByOrigin: Map<string, StoredMessage[]>,
  readable: boolean,
  hasDeadLetter: boolean,
  peekWarning: string | null,
): Measured<RetryFacts> | null {
  if (!hasDeadLetter) return null;
  if (!readable) return { unknown: `reading dead letters would change them on this broker (${peekWarning ?? 'destructive read'})` };
  const dead = deadLettersByOrigin.get(d.name);
  if (!dead || dead.length === 0) return null;
  return retryFromDeadLetters(dead);
}
