import {
  findRetryChains,
  retryStageOrigin,
  type BrokerAdapter,
  type ConsumerGroupSummary,
  type DeadLetterLink,
  type DestinationFacts,
  type DestinationSummary,
  type MetricsSnapshot,
} from '@mailroom/core';
import { ackFacts } from './ack-facts';
import { describeRule, rulesFor, type AlertRule } from './alert-rules';
import type { ConsumerReportSummary } from './consumer-reports';
import { conventionalDeadLetter, deadLetterFacts } from './dead-letter-facts';
import { readsWithoutSideEffects } from './fact-reads';
import { identityFacts, withConsumerReports } from './identity-facts';
import { mapLimit } from './map-limit';
import { retryFacts, sampleDeadLetters } from './retry-facts';
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

