import { scoreFitness, type DestinationFacts, type FitnessHints, type FitnessReport } from '@mailroom/core';
import type { FitnessSettings } from '../config/settings';
import type { Connection } from '../connections/connection';
import type { ConnectionRegistry } from '../connections/connection-registry';
import type { MetricsService } from '../metrics/metrics-service';
import { firingAlerts, globToRegExp, type AlertRule, type FiringAlert } from './alert-rules';
import { AlertWatch } from './alert-watch';
import { ConsumerReports } from './consumer-reports';
import { registerFitnessMetrics } from './fitness-metrics';
import { gatherFacts } from './gather';
import { UnackedTracker } from './unacked-tracker';

export interface ConnectionFitness {
  connectionId: string;
  connectionName: string;
  /** 'unavailable': the broker could not be read; every criterion is unknown for it. */
  status: 'measured' | 'unavailable';
  error: string | null;
  at: string;
  /** The destination glob the report is limited to; null for every destination. */
  scope: string | null;
  report: FitnessReport;
  facts: DestinationFacts[];
  alerts: FiringAlert[];
}

/** Most destinations examined in depth per connection (the rest are judged on the listing). */
const MAX_EXAMINED = 200;

/**
 * Measures and caches each connection's fitness. Facts come from the adapters' generic admin
 * contract (gatherFacts); scoring is core's pure scoreFitness with the adapter's fix hints.
 * Unacknowledged counts are also watched on every metrics snapshot, so brokers that do not
 * report message ages (RabbitMQ, SQS) can still show messages held past the ack deadline.
 */
export class FitnessService {
  private readonly cache = new Map<string, { at: number; value: Promise<ConnectionFitness> }>();
  /** The last full (unscoped) measurement per connection: what /metrics exports. */
  private readonly latestFull = new Map<string, ConnectionFitness>();
  private readonly tracker: UnackedTracker;
  /** What idempotent consumers report (POST /api/consumer-stats). */
  readonly consumerReports: ConsumerReports;
  private readonly alertWatch: AlertWatch;
  private readonly unsubscribe: (() => void)[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly settings: FitnessSettings,
    private readonly rules: AlertRule[],
    private readonly metrics: MetricsService,
  ) {
    this.tracker = new UnackedTracker(() => this.settings.ackDeadlineMs);
    this.consumerReports = new ConsumerReports(settings.consumerReportTtlMs);
    this.alertWatch = new AlertWatch(rules);
    registerFitnessMetrics(metrics.registry, () => [...this.latestFull.values()], () => this.alertWatch.all());
  }

  /** Watches unacknowledged counts on every metrics snapshot and measures every connection in the background. */
  start(connections: ConnectionRegistry): void {
    for (const connection of connections.all()) {
      this.unsubscribe.push(
        this.metrics.onSnapshot(connection.id, (snapshot) => {
          const at = Date.parse(snapshot.at);
          for (const d of snapshot.destinations) {
            if (d.inFlight !== null) this.tracker.observe(connection.id, d.destination, { at, inFlight: d.inFlight, ackRate: d.ackRate });
          }
          this.alertWatch.observe(connection, snapshot);
        }),
      );
    }
    if (this.settings.refreshIntervalMs > 0) {
      this.timer = setInterval(() => {
        for (const connection of connections.all()) {
          if (connection.health.status === 'up') void this.forConnection(connection, { maxAgeMs: this.settings.refreshIntervalMs / 2 }).catch(() => undefined);
        }
      }, this.settings.refreshIntervalMs);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const off of this.unsubscribe.splice(0)) off();
  }

  forConnection(connection: Connection, options: { maxAgeMs?: number; scope?: string | null } = {}): Promise<ConnectionFitness> {
    const scope = options.scope ?? null;
    const key = `${connection.id}\u0000${scope ?? ''}`;
    const cached = this.cache.get(key);
    if (cached && Date.now() - cached.at <= (options.maxAgeMs ?? this.settings.cacheTtlMs)) return cached.value;
    const value = this.measure(connection, scope);
    this.cache.set(key, { at: Date.now(), value });
    value.then(
      (result) => {
        if (scope === null) this.latestFull.set(connection.id, result);
      },
      () => this.cache.delete(key),
    );
    return value;
  }

  /** The broker's own wording for fixes (e.g. "set x-dead-letter-exchange"), when its adapter declares it. */
  hintsOf(connection: Connection): FitnessHints {
    return connection.adapter?.capabilities.fitnessHints ?? {};
  }

  private async measure(connection: Connection, scope: string | null): Promise<ConnectionFitness> {
    const at = new Date().toISOString();
    const base = { connectionId: connection.id, connectionName: connection.name, at, scope };
    const matcher = scope === null ? null : globToRegExp(scope);
    try {
      const gathered = await connection.call(
        'fitness',
        (adapter) =>
          gatherFacts(adapter, {
            connection: connection.id,
            ackDeadlineMs: this.settings.ackDeadlineMs,
            sampleSize: this.settings.sampleSize,
            deadLetterSampleSize: this.settings.sampleSize,
            maxDestinations: MAX_EXAMINED,
            rules: this.rules,
            exported: (destination) => this.metrics.latest(connection.id)?.destinations.some((d) => d.destination === destination) ?? false,
            tracker: this.tracker,
            consumerReports: (destination) => this.consumerReports.summaryFor(connection.id, destination),
            ...(matcher ? { inScope: (name: string) => matcher.test(name) } : {}),
          }),
        60_000,
      );
      const snapshot = this.metrics.latest(connection.id);
      const metrics = snapshot ? { at: new Date(snapshot.at), destinations: snapshot.destinations, groups: snapshot.groups } : gathered.metrics;
      const all = firingAlerts(this.rules, connection.id, gathered.destinations, metrics);
      this.alertWatch.remember(connection.id, gathered.destinations, all);
      const alerts = all.filter((a) => matcher === null || matcher.test(a.destination));
      return { ...base, status: 'measured', error: null, report: scoreFitness(gathered.facts, this.hintsOf(connection)), facts: gathered.facts, alerts };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const empty = scoreFitness([]);
      const report = { ...empty, criteria: empty.criteria.map((c) => ({ ...c, summary: `could not be measured: ${message}` })) };
      return { ...base, status: 'unavailable', error: message, report, facts: [], alerts: [] };
    }
  }

  /** Drops cached reports, e.g. after the operator changed a setup and wants to see the effect. */
  invalidate(connectionId?: string): void {
    if (connectionId === undefined) this.cache.clear();
    else for (const key of this.cache.keys()) if (key.startsWith(`${connectionId}\u0000`)) this.cache.delete(key);
  }
}

/**
 * One report over every connection: destination names are prefixed with the connection id,
 * and each destination keeps its own broker's fix wording.
 */
export function overallReport(all: ConnectionFitness[], hintsOf: (connectionId: string) => FitnessHints = () => ({})): FitnessReport {
  const owner = new Map<string, string>();
  const facts = all.flatMap((c) =>
    c.facts.map((f) => {
      const destination = `${c.connectionId}/${f.destination}`;
      owner.set(destination, c.connectionId);
      return { ...f, destination };
    }),
  );
  return scoreFitness(facts, (f) => hintsOf(owner.get(f.destination) ?? ''));
}
