import { MAX_PAGE_SIZE, type AckFacts, type BrokerAdapter, type ConsumerGroupSummary, type DestinationMetrics, type DestinationSummary, type Measured } from '@mailroom/core';
import { duration, errorText } from './fact-reads';
import type { GatherOptions } from './gather';

/**
 * Delivered-but-unacknowledged work past the deadline: from pending entries' idle time where the
 * broker keeps them, else from the in-flight count watched over time.
 */
export async function ackFacts(
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
