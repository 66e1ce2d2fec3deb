import type { DestinationSummary, MetricsSnapshot } from '@mailroom/core';

/** An alert rule from the config file. `destination` is an exact name or a glob with `*`. */
export interface AlertRule {
  connection: string;
  destination: string;
  maxLag?: number | undefined;
  maxDepth?: number | undefined;
  maxDeadLetterDepth?: number | undefined;
  maxUnackedAgeMs?: number | undefined;
}

export interface FiringAlert {
  connection: string;
  destination: string;
  rule: string;
  value: number;
  limit: number;
}

/** `*` matches any run of characters; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

export function rulesFor(rules: AlertRule[], connection: string, destination: string): AlertRule[] {
  return rules.filter((r) => (r.connection === '*' || r.connection === connection) && globToRegExp(r.destination).test(destination));
}

/** Human-readable names of the limits a rule sets, for the evidence line. */
export function describeRule(rule: AlertRule): string[] {
  const parts: string[] = [];
  if (rule.maxLag !== undefined) parts.push(`lag ≤ ${rule.maxLag}`);
  if (rule.maxDepth !== undefined) parts.push(`depth ≤ ${rule.maxDepth}`);
  if (rule.maxDeadLetterDepth !== undefined) parts.push(`DLQ depth ≤ ${rule.maxDeadLetterDepth}`);
  if (rule.maxUnackedAgeMs !== undefined) parts.push(`unacked age ≤ ${rule.maxUnackedAgeMs} ms`);
  return parts;
}

/** Rules that fire now, judged on the latest destination list and metrics snapshot. */
export function firingAlerts(
  rules: AlertRule[],
  connection: string,
  destinations: DestinationSummary[],
  snapshot: MetricsSnapshot | null,
): FiringAlert[] {
  const byName = new Map(destinations.map((d) => [d.name, d]));
  const metricsByName = new Map((snapshot?.destinations ?? []).map((m) => [m.destination, m]));
  const alerts: FiringAlert[] = [];
  for (const d of destinations) {
    for (const rule of rulesFor(rules, connection, d.name)) {
      const check = (name: string, value: number | null | undefined, limit: number | undefined) => {
        if (limit !== undefined && value !== null && value !== undefined && value > limit) {
          alerts.push({ connection, destination: d.name, rule: name, value, limit });
        }
      };
      check('max lag', d.lag, rule.maxLag);
      check('max depth', d.depth, rule.maxDepth);
      const dlq = d.deadLetter === null ? undefined : byName.get(d.deadLetter);
      check('max DLQ depth', d.isDeadLetter ? d.depth : dlq?.depth, rule.maxDeadLetterDepth);
      check('max unacked age', metricsByName.get(d.name)?.oldestAgeMs, rule.maxUnackedAgeMs);
    }
  }
  return alerts;
}
