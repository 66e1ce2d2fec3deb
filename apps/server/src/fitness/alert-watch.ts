import type { DestinationSummary } from '@mailroom/core';
import type { Connection } from '../connections/connection';
import type { WireMetricsSnapshot } from '../metrics/metrics-service';
import { firingAlerts, type AlertRule, type FiringAlert } from './alert-rules';

/** How long a destination listing is reused to judge alerts; depths and lag come from each snapshot. */
const LISTING_TTL_MS = 60_000;

/**
 * Judges the alert rules on every metrics snapshot, so firing alerts (and /metrics) stay as fresh
 * as the metrics themselves rather than waiting for the next fitness measurement. The listing
 * (names, DLQ links) is refreshed at most every minute; depth, in-flight and lag are the snapshot's.
 * Connections no rule applies to cost nothing.
 */
export class AlertWatch {
  private readonly listings = new Map<string, { at: number; destinations: DestinationSummary[] }>();
  private readonly fetching = new Set<string>();
  private readonly firing = new Map<string, FiringAlert[]>();

  constructor(private readonly rules: AlertRule[]) {}

  appliesTo(connectionId: string): boolean {
    return this.rules.some((r) => r.connection === '*' || r.connection === connectionId);
  }

  /** A listing just read elsewhere (a fitness measurement) is reused here. */
  remember(connectionId: string, destinations: DestinationSummary[], alerts: FiringAlert[]): void {
    this.listings.set(connectionId, { at: Date.now(), destinations });
    this.firing.set(connectionId, alerts);
  }

  observe(connection: Connection, snapshot: WireMetricsSnapshot): void {
    if (!this.appliesTo(connection.id)) return;
    const listing = this.listings.get(connection.id);
    if ((!listing || Date.now() - listing.at > LISTING_TTL_MS) && !this.fetching.has(connection.id)) {
      this.fetching.add(connection.id);
      void connection
        .call('list destinations for alert rules', (adapter) => adapter.listDestinations())
        .then(
          (destinations) => {
            this.listings.set(connection.id, { at: Date.now(), destinations });
            this.judge(connection.id, snapshot);
          },
          () => undefined,
        )
        .finally(() => this.fetching.delete(connection.id));
    }
    if (listing) this.judge(connection.id, snapshot);
  }

  current(connectionId: string): FiringAlert[] | undefined {
    return this.firing.get(connectionId);
  }

  all(): FiringAlert[] {
    return [...this.firing.values()].flat();
  }

  private judge(connectionId: string, snapshot: WireMetricsSnapshot): void {
    const listing = this.listings.get(connectionId);
    if (!listing) return;
    const metrics = new Map(snapshot.destinations.map((m) => [m.destination, m]));
    const lag = new Map<string, number>();
    for (const g of snapshot.groups) if (g.lag !== null) lag.set(g.destination, (lag.get(g.destination) ?? 0) + g.lag);
    const current = listing.destinations.map((d) => {
      const m = metrics.get(d.name);
      return { ...d, depth: m?.depth ?? d.depth, inFlight: m?.inFlight ?? d.inFlight, lag: lag.get(d.name) ?? d.lag };
    });
    this.firing.set(connectionId, firingAlerts(this.rules, connectionId, current, { at: new Date(snapshot.at), destinations: snapshot.destinations, groups: snapshot.groups }));
  }
}
