import { scoreFitness, type DestinationFacts, type FitnessReport } from '@mailroom/core';
import type { FitnessSettings } from '../config/settings';
import type { Connection } from '../connections/connection';
import type { MetricsService } from '../metrics/metrics-service';
import { firingAlerts, type AlertRule, type FiringAlert } from './alert-rules';
import { gatherFacts } from './gather';

export interface ConnectionFitness {
  connectionId: string;
  connectionName: string;
  /** 'unavailable': the broker could not be read; every criterion is unknown for it. */
  status: 'measured' | 'unavailable';
  error: string | null;
  at: string;
  report: FitnessReport;
  facts: DestinationFacts[];
  alerts: FiringAlert[];
}

/**
 * Measures and caches each connection's fitness. Facts come from the adapters' generic admin
 * contract (gatherFacts); scoring is core's pure scoreFitness with the adapter's fix hints.
 */
export class FitnessService {
  private readonly cache = new Map<string, { at: number; value: Promise<ConnectionFitness> }>();

  constructor(
    private readonly settings: FitnessSettings,
    private readonly rules: AlertRule[],
    private readonly metrics: MetricsService,
  ) {}

  forConnection(connection: Connection, maxAgeMs = this.settings.cacheTtlMs): Promise<ConnectionFitness> {
    const cached = this.cache.get(connection.id);
    if (cached && Date.now() - cached.at <= maxAgeMs) return cached.value;
    const value = this.measure(connection);
    this.cache.set(connection.id, { at: Date.now(), value });
    value.catch(() => this.cache.delete(connection.id));
    return value;
  }

  private async measure(connection: Connection): Promise<ConnectionFitness> {
    const at = new Date().toISOString();
    const base = { connectionId: connection.id, connectionName: connection.name, at };
    try {
      const facts = await connection.call(
        'fitness',
        (adapter) =>
          gatherFacts(adapter, {
            connection: connection.id,
            ackDeadlineMs: this.settings.ackDeadlineMs,
            sampleSize: this.settings.sampleSize,
            deadLetterSampleSize: this.settings.sampleSize,
            maxDestinations: 200,
            rules: this.rules,
            exported: (destination) => this.metrics.latest(connection.id)?.destinations.some((d) => d.destination === destination) ?? false,
          }),
        30_000,
      );
      const hints = connection.adapter?.capabilities.fitnessHints ?? {};
      const destinations = await connection.call('list destinations', (adapter) => adapter.listDestinations());
      const snapshot = this.metrics.latest(connection.id);
      const alerts = firingAlerts(
        this.rules,
        connection.id,
        destinations,
        snapshot ? { at: new Date(snapshot.at), destinations: snapshot.destinations, groups: snapshot.groups } : null,
      );
      return { ...base, status: 'measured', error: null, report: scoreFitness(facts, hints), facts, alerts };
    } catch (error) {
      return { ...base, status: 'unavailable', error: error instanceof Error ? error.message : String(error), report: scoreFitness([]), facts: [], alerts: [] };
    }
  }

  /** Drops cached reports, e.g. after the operator changed a setup and wants to see the effect. */
  invalidate(connectionId?: string): void {
    if (connectionId === undefined) this.cache.clear();
    else this.cache.delete(connectionId);
  }
}

/** One report over every connection: destination names are prefixed with the connection id. */
export function overallReport(all: ConnectionFitness[]): FitnessReport {
  const facts = all.flatMap((c) => c.facts.map((f) => ({ ...f, destination: `${c.connectionId}/${f.destination}` })));
  return scoreFitness(facts);
}
