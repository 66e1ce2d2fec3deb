import {
  findRetryChains,
  identityFromSample,
  isMailroomError,
  isUnknown,
  MAX_PAGE_SIZE,
  retryFromDeadLetters,
  retryFromTopology,
  retryStageOrigin,
  type AckFacts,
  type BrokerAdapter,
  type ConsumerGroupSummary,
  type DeadLetterLink,
  type DestinationFacts,
  type DestinationMetrics,
  type DestinationSummary,
  type IdentityFacts,
  type Measured,
  type MetricsSnapshot,
  type RetryChain,
  type RetryFacts,
  type StoredMessage,
} from '@mailroom/core';
import type { ConsumerReportSummary } from './consumer-reports';
import { describeRule, rulesFor, type AlertRule } from './alert-rules';
import type { UnackedTracker } from './unacked-tracker';

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
  /** Destinations the report covers (all when omitted); others still count as DLQ targets. */
  inScope?: (destination: string) => boolean;
  /** Watches unacknowledged counts over time, for brokers that do not report their ages. */
  tracker: UnackedTracker;
  /** What idempotent consumers reported for a destination (null when none did). */
  consumerReports?: (destination: string) => ConsumerReportSummary | null;
  now?: () => number;
}

export interface Gathered {
  facts: DestinationFacts[];
  /** The whole listing (not only the scope), for alert rules. */
  destinations: DestinationSummary[];
  metrics: MetricsSnapshot | null;
}

/** 500 → "500 ms", 30000 → "30 s", 1500 → "1.5 s". */
const duration = (ms: number) => (ms < 1_000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 100) / 10} s`);

const errorText = (e: unknown) => (isMailroomError(e) || e instanceof Error ? e.message : String(e));

/** Runs `fn` over `items` with at most `limit` at a time, keeping the order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Gathers fitness facts about one connection through the generic admin contract only, so it
 * works the same on every broker. Reads are side-effect free: where the broker's reads are
 * destructive (capabilities.peekIsDestructive) only stream destinations, which are read by
 * position, are sampled; facts that need a read of anything else are "unknown".
 */
export async function gatherFacts(adapter: BrokerAdapter, options: GatherOptions): Promise<Gathered> {
  const caps = adapter.capabilities;
  const now = options.now ?? Date.now;
  const [destinations, links, groups, metrics] = await Promise.all([
    adapter.listDestinations(),
    adapter.listDeadLetterQueues().catch((): DeadLetterLink[] => []),
    caps.consumerGroups ? adapter.listConsumerGroups().catch((): ConsumerGroupSummary[] => []) : Promise.resolve([]),
    adapter.metrics().catch((): MetricsSnapshot | null => null),
  ]);
  const byName = new Map(destinations.map((d) => [d.name, d]));
  const metricsByName = new Map((metrics?.destinations ?? []).map((m) => [m.destination, m]));
  const chains = findRetryChains(destinations.map((d) => ({ name: d.name, deliveryDelayMs: d.deliveryDelayMs ?? null })));
  const stageOf = (name: string) => retryStageOrigin(chains, name);
  // A retry stage whose expired messages go back to its origin makes the origin look like a DLQ: it is not one.
  const onlyReturnPaths = (dlq: string, origins: string[]) => origins.length > 0 && origins.every((o) => stageOf(o) === dlq);
  const deadLetterNames = new Set([
    ...links.filter((l) => !onlyReturnPaths(l.deadLetter, l.origins)).map((l) => l.deadLetter),
    ...destinations.filter((d) => d.isDeadLetter && !onlyReturnPaths(d.name, d.deadLetterSources)).map((d) => d.name),
  ]);
  const inScope = options.inScope ?? (() => true);
  const scoped = destinations.filter((d) => inScope(d.name));
  const examined = new Set(scoped.slice(0, options.maxDestinations).map((d) => d.name));
  const notExamined = `not examined: only the first ${options.maxDestinations} destinations in scope are examined in depth (narrow the scope)`;

  const observedAt = metrics?.at.getTime() ?? now();
  for (const d of scoped) {
    const inFlight = metricsByName.get(d.name)?.inFlight ?? d.inFlight;
    if (inFlight !== null) options.tracker.observe(options.connection, d.name, { at: observedAt, inFlight, ackRate: metricsByName.get(d.name)?.ackRate ?? null });
  }
  options.tracker.retain(options.connection, new Set(scoped.map((d) => d.name)));

  const ownTarget = (d: DestinationSummary) => d.deadLetter ?? links.find((l) => l.origins.includes(d.name))?.deadLetter ?? null;
  /** Where a destination's failures end: its own DLQ, or that of its last retry stage. */
  const targetOf = (d: DestinationSummary): string | null => {
    const own = ownTarget(d);
    if (own !== null && stageOf(own) !== d.name) return own;
    const last = chains.get(d.name)?.stages.at(-1);
    const lastSummary = last ? byName.get(last.name) : undefined;
    const viaStage = lastSummary ? ownTarget(lastSummary) : null;
    return viaStage !== null && viaStage !== d.name && stageOf(viaStage) !== d.name ? viaStage : own;
  };
  // DLQs read for the retry check: those that examined destinations dead-letter into.
  const dlqsToRead = [...new Set(scoped.filter((d) => examined.has(d.name)).map(targetOf))].filter(
    (n): n is string => n !== null && deadLetterNames.has(n) && byName.has(n) && readsWithoutSideEffects(adapter, byName.get(n) as DestinationSummary),
  );
  const deadLettersByOrigin = await sampleDeadLetters(adapter, dlqsToRead, links, options);

  const facts = await mapLimit(scoped, 4, async (d): Promise<DestinationFacts> => {
    const isDeadLetter = deadLetterNames.has(d.name);
    const groupsHere = groups.filter((g) => g.destinations.includes(d.name));
    // Where the broker cannot tell consumers (null), a queue is assumed to carry work; so is a group's
    // durable subscription while its consumers are away.
    const consumed = (d.consumers ?? 0) > 0 || groupsHere.length > 0 || (d.subscriptionOf?.length ?? 0) > 0 || (d.consumers === null && d.kind === 'queue');
    const target = targetOf(d);
    const chain = chains.get(d.name);
    const lastStage = chain?.stages.at(-1)?.name;
    const throughStage = target !== null && target !== ownTarget(d) ? (lastStage ?? null) : null;
    const link = links.find((l) => l.origins.includes(throughStage ?? d.name) && l.deadLetter === target);
    const deep = examined.has(d.name);
    const reports = options.consumerReports?.(d.name) ?? null;
    return {
      destination: d.name,
      isDeadLetter,
      retryStageOf: stageOf(d.name),
      consumed,
      deadLetter: { ...deadLetterFacts(d, target, link, byName, throughStage), conventionalName: conventionalDeadLetter(adapter, d.name) },
      ack: !consumed
        ? { delivered: 0, overdue: 0, oldestUnackedMs: null, source: 'no consumers' }
        : deep
          ? await ackFacts(adapter, d, groupsHere, metricsByName.get(d.name), options, now())
          : { unknown: notExamined },
      identity: isDeadLetter
        ? { sampled: 0, withIdentity: 0, duplicateIds: [], consumers: null }
        : withConsumerReports(deep ? await identityFacts(adapter, d, options) : { unknown: notExamined }, reports, caps.consumerGroups ? groupsHere.map((g) => g.name) : []),
      retry: retryFacts(adapter, d, target, byName, deadLettersByOrigin, deep ? null : notExamined, chain, links),
      monitoring: { rules: rulesFor(options.rules, options.connection, d.name).flatMap(describeRule), exported: options.exported(d.name) },
    };
  });
  return { facts, destinations, metrics };
}

/**
 * Reads of a stream destination are by position and leave nothing behind even where other
 * reads are destructive (RabbitMQ stream queues); everything else follows the capability.
 */
function readsWithoutSideEffects(adapter: BrokerAdapter, d: DestinationSummary): boolean {
  return !adapter.capabilities.peekIsDestructive || d.kind === 'stream';
}

function destructiveReason(adapter: BrokerAdapter, what: string): string {
  const warning = adapter.capabilities.peekWarning ?? 'reads are destructive on this broker';
  return `${what} would change them, so it is not done: ${warning.replace(/\.$/, '')}`;
}

function conventionalDeadLetter(adapter: BrokerAdapter, name: string): string | null {
  try {
    return adapter.deadLetterNameFor(name);
  } catch {
    return null;
  }
}

function deadLetterFacts(
  d: DestinationSummary,
  target: string | null,
  link: DeadLetterLink | undefined,
  byName: Map<string, DestinationSummary>,
  throughStage: string | null,
): DestinationFacts['deadLetter'] {
  const configured = link?.via ?? (d.deadLetter !== null ? 'destination configuration' : null);
  const via = throughStage ? `from its last retry stage ${throughStage}${configured ? `, ${configured}` : ''}` : configured;
  if (target === null) return { target, reachable: false, via };
  const found = byName.get(target);
  if (!found) return { target, reachable: false, via };
  if (found.kind === 'exchange') {
    // An exchange only routes: with no queue bound to it the dead letters are dropped.
    return {
      target,
      reachable: false,
      via,
      unreachable: {
        evidence: `dead letters go to ${target} (${via ?? 'configured'}), which routes to no queue, so they are dropped`,
        fix: `bind a queue to ${target} that keeps the dead letters of ${d.name}`,
      },
    };
  }
  return { target, reachable: true, via };
}

async function sampleDeadLetters(adapter: BrokerAdapter, dlqs: string[], links: DeadLetterLink[], options: GatherOptions): Promise<Map<string, StoredMessage[]>> {
  const byOrigin = new Map<string, StoredMessage[]>();
  const add = (origin: string, m: StoredMessage) => {
    const list = byOrigin.get(origin) ?? [];
    list.push(m);
    byOrigin.set(origin, list);
  };
  await mapLimit(dlqs, 4, async (dlq) => {
    try {
      const page = await adapter.browse({ destination: dlq, start: { from: 'newest' }, limit: options.deadLetterSampleSize });
      const origins = links.find((l) => l.deadLetter === dlq)?.origins ?? [];
      for (const m of page.messages) {
        const origin = m.deadLetter?.origin ?? (origins.length === 1 ? origins[0] : null);
        if (origin !== null && origin !== undefined) add(origin, m);
      }
    } catch {
      // A DLQ that cannot be read leaves its origins' retry facts at "no failures observed".
    }
  });
  return byOrigin;
}

async function ackFacts(
  adapter: BrokerAdapter,
  d: DestinationSummary,
  groups: ConsumerGroupSummary[],
  m: DestinationMetrics | undefined,
  options: GatherOptions,
  now: number,
): Promise<Measured<AckFacts>> {
  const deadline = options.ackDeadlineMs;
  const ackRate = m?.ackRate ?? null;
  const recentlyAcked = ackRate === null ? 0 : Math.round((ackRate * deadline) / 1000);
  if (adapter.capabilities.pendingEntries && groups.length > 0) {
    let pending = 0;
    let overdue = 0;
    let oldest: number | null = null;
    try {
      for (const g of groups) {
        const entries = await adapter.listPending(d.name, g.name, MAX_PAGE_SIZE);
        pending += entries.length;
        for (const e of entries) {
          if (e.idleMs > deadline) overdue++;
          oldest = Math.max(oldest ?? 0, e.idleMs);
        }
      }
    } catch (e) {
      return { unknown: `could not list pending entries: ${errorText(e)}` };
    }
    return { delivered: pending + recentlyAcked, overdue, oldestUnackedMs: oldest, source: `idle time of the pending entries of ${groups.length} group(s)${pending >= MAX_PAGE_SIZE ? ` (the first ${MAX_PAGE_SIZE} per group)` : ''}, deadline ${duration(deadline)}` };
  }
  const inFlight = m?.inFlight ?? d.inFlight;
  if (inFlight === null) {
    return {
      unknown:
        'the broker does not report delivered-but-unacknowledged messages: consumers only commit positions, and committed vs end offsets is lag (work not yet consumed), not how long delivered messages wait for their acknowledgement',
    };
  }
  if (inFlight === 0) return { delivered: recentlyAcked, overdue: 0, oldestUnackedMs: null, source: 'in-flight count 0' };
  const verdict = options.tracker.verdict(options.connection, d.name, deadline, now);
  const seconds = duration;
  switch (verdict.kind) {
    case 'overdue':
      return {
        delivered: inFlight + recentlyAcked,
        overdue: verdict.overdue,
        oldestUnackedMs: now - verdict.heldSince,
        source: `${verdict.unackedThen} unacknowledged ${seconds(now - verdict.heldSince)} ago and only ${verdict.acknowledgedSince} acknowledged since (count never at 0 over ${verdict.observations} observations), deadline ${duration(deadline)}`,
      };
    case 'too-short':
      return {
        unknown: `${inFlight} message(s) are unacknowledged; the broker does not report since when, and Mailroom has watched the count for ${seconds(verdict.watchedMs)}, less than the ack deadline (${seconds(deadline)})`,
      };
    case 'acks-unknown':
      return { unknown: `${inFlight} message(s) are in flight; the broker reports neither how long they have been nor how many were acknowledged meanwhile` };
    case 'acks-flowing': {
      const mean = ackRate !== null && ackRate > 0 ? `; mean time to acknowledge ≈ ${seconds((inFlight / ackRate) * 1000)} (unacknowledged ÷ ack rate)` : '';
      return {
        unknown: `${inFlight} message(s) are unacknowledged while acknowledgements flow (${verdict.acknowledgedSince} in the last ${seconds(verdict.watchedMs)}, at least as many as were unacknowledged then)${mean}; the broker does not report individual ages, so the share past the deadline cannot be measured`,
      };
    }
  }
}

async function identityFacts(adapter: BrokerAdapter, d: DestinationSummary, options: GatherOptions): Promise<DestinationFacts['identity']> {
  if (!readsWithoutSideEffects(adapter, d)) return { unknown: destructiveReason(adapter, 'sampling its messages') };
  if (d.depth === 0) return { sampled: 0, withIdentity: 0, duplicateIds: [], consumers: null };
  try {
    const page = await adapter.browse({ destination: d.name, start: { from: 'newest' }, limit: options.sampleSize });
    if (page.destructive) return { unknown: `sampling its messages had side effects (${page.warnings.join('; ') || 'destructive read'}), so it is not used` };
    return identityFromSample(page.messages);
  } catch (e) {
    return { unknown: `could not sample messages: ${errorText(e)}` };
  }
}

/** Adds what idempotent consumers report; a destination that could not be sampled is then judged on the reports. */
function withConsumerReports(identity: Measured<IdentityFacts>, reports: ConsumerReportSummary | null, groups: string[]): Measured<IdentityFacts> {
  if (reports === null) return identity;
  const consumers = { ...reports, groupsNotReporting: groups.filter((g) => !reports.groups.includes(g)).sort() };
  if (isUnknown(identity)) return { sampled: 0, withIdentity: 0, duplicateIds: [], notSampled: identity.unknown, consumers };
  return { ...identity, consumers };
}

function retryFacts(
  adapter: BrokerAdapter,
  d: DestinationSummary,
  target: string | null,
  byName: Map<string, DestinationSummary>,
  deadLettersByOrigin: Map<string, StoredMessage[]>,
  notExamined: string | null,
  chain: RetryChain | undefined,
  links: DeadLetterLink[],
): Measured<RetryFacts> | null {
  const dlq = target === null ? undefined : byName.get(target);
  // Without a DLQ there are no dead letters to judge; dead_letter_handling reports that.
  if (!dlq || dlq.kind === 'exchange') return null;
  if (notExamined !== null) return { unknown: notExamined };
  const family = new Set([d.name, ...(chain?.stages.map((s) => s.name) ?? [])]);
  if (!readsWithoutSideEffects(adapter, dlq)) {
    const notRead = destructiveReason(adapter, `reading the dead letters in ${dlq.name}`);
    if (!chain) return { unknown: notRead };
    // Unread dead letters are judged by the retry stages only when nothing else feeds the DLQ.
    const feeders = [...new Set([...(links.find((l) => l.deadLetter === dlq.name)?.origins ?? []), ...dlq.deadLetterSources])];
    const others = feeders.filter((o) => !family.has(o));
    if (others.length > 0) return { unknown: `${notRead}; ${dlq.name} also holds dead letters of ${others.join(', ')}, so its depth is not ${d.name}'s alone` };
    if (dlq.depth === null) return { unknown: `${notRead}; the broker does not report how many dead letters ${dlq.name} holds` };
    if (dlq.depth === 0) return null;
    return retryFromTopology(chain, dlq.depth, (adapter.capabilities.peekWarning ?? 'reads are destructive on this broker').replace(/\.$/, ''));
  }
  const dead = [...family].flatMap((name) => deadLettersByOrigin.get(name) ?? []);
  if (dead.length === 0) return null;
  return retryFromDeadLetters(dead, chain);
}
