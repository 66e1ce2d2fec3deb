import type { ConsumerStatsReport } from '@mailroom/core';

export interface ConsumerReportSummary {
  reporting: number;
  /** Groups with a fresh report ("" for consumers of a destination without groups). */
  groups: string[];
  handled: number;
  duplicates: number;
  withoutIdentity: number;
}

interface Stored {
  report: ConsumerStatsReport;
  receivedAt: number;
}

export class TooManyConsumersError extends Error {}

/**
 * The latest dedupe counters each idempotent consumer reported (POST /api/consumer-stats).
 * Counters are cumulative per consumer, so a report replaces that consumer's previous one; a
 * consumer silent for longer than `ttlMs` no longer counts. Bounded: past `capacity` fresh
 * consumers, new ones are refused.
 */
export class ConsumerReports {
  private readonly byKey = new Map<string, Stored>();

  constructor(
    private readonly ttlMs: number,
    private readonly capacity = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  record(report: ConsumerStatsReport): void {
    const key = [report.connectionId, report.destination, report.group ?? '', report.consumer].join('\u0000');
    if (!this.byKey.has(key) && this.byKey.size >= this.capacity) {
      this.expire();
      if (this.byKey.size >= this.capacity) throw new TooManyConsumersError(`Mailroom already keeps the reports of ${this.capacity} consumers; this one is refused until some go quiet`);
    }
    this.byKey.delete(key);
    this.byKey.set(key, { report, receivedAt: this.now() });
  }

  /** What the fresh reports for one destination add up to; null when no consumer reports for it. */
  summaryFor(connectionId: string, destination: string): ConsumerReportSummary | null {
    const cutoff = this.now() - this.ttlMs;
    let summary: ConsumerReportSummary | null = null;
    const groups = new Set<string>();
    for (const { report, receivedAt } of this.byKey.values()) {
      if (receivedAt < cutoff || report.connectionId !== connectionId || report.destination !== destination) continue;
      summary ??= { reporting: 0, groups: [], handled: 0, duplicates: 0, withoutIdentity: 0 };
      summary.reporting++;
      summary.handled += report.handled;
      summary.duplicates += report.duplicates;
      summary.withoutIdentity += report.withoutIdentity;
      groups.add(report.group ?? '');
    }
    if (summary) summary.groups = [...groups].sort();
    return summary;
  }

  private expire(): void {
    const cutoff = this.now() - this.ttlMs;
    for (const [key, stored] of this.byKey) if (stored.receivedAt < cutoff) this.byKey.delete(key);
  }
}
