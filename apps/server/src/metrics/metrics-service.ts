import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricsSnapshot } from '@mailroom/core';
import type { Connection } from '../connections/connection';
import type { ConnectionRegistry } from '../connections/connection-registry';

export interface WireMetricsSnapshot {
  connectionId: string;
  at: string;
  destinations: MetricsSnapshot['destinations'];
  groups: MetricsSnapshot['groups'];
}

interface Collected {
  snapshot: WireMetricsSnapshot | null;
  error: string | null;
}

type SnapshotListener = (snapshot: WireMetricsSnapshot) => void;

/**
 * The server's Prometheus registry. Broker numbers come from a background collector that asks
 * each connection for a metrics snapshot every `intervalMs`; a scrape only reads the last one,
 * so a scrape storm never reaches a broker.
 */
export class MetricsService {
  readonly registry = new Registry();
  private readonly collected = new Map<string, Collected>();
  private readonly listeners = new Map<string, Set<SnapshotListener>>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly collecting = new Set<string>();
  private connections: ConnectionRegistry | null = null;

  private readonly requests = new Counter({ name: 'mailroom_trpc_requests_total', help: 'tRPC procedure calls by path, type and result code', labelNames: ['path', 'type', 'code'], registers: [this.registry] });
  private readonly durations = new Histogram({
    name: 'mailroom_trpc_request_duration_seconds',
    help: 'tRPC procedure duration (subscriptions: until the stream started)',
    labelNames: ['path', 'type'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly sseSubscribers = new Gauge({ name: 'mailroom_sse_subscribers', help: 'Open subscriptions by procedure', labelNames: ['procedure'], registers: [this.registry] });
  private readonly sseEvents = new Counter({ name: 'mailroom_sse_events_total', help: 'Subscription events sent by procedure', labelNames: ['procedure'], registers: [this.registry] });
  private readonly tailMessages = new Counter({ name: 'mailroom_tail_messages_total', help: 'Messages sent to live tails', labelNames: ['connection'], registers: [this.registry] });
  private readonly tailSkipped = new Counter({ name: 'mailroom_tail_skipped_messages_total', help: 'Messages a live tail skipped because its reader was slower than the destination', labelNames: ['connection'], registers: [this.registry] });
  readonly redriveMessages = new Counter({ name: 'mailroom_redrive_messages_total', help: 'Messages handled by redrive tasks', labelNames: ['connection', 'result'], registers: [this.registry] });
  readonly redriveTasks = new Counter({ name: 'mailroom_redrive_tasks_total', help: 'Redrive tasks finished by outcome', labelNames: ['connection', 'outcome'], registers: [this.registry] });
  readonly redriveRunning = new Gauge({ name: 'mailroom_redrive_tasks_running', help: 'Redrive tasks running now', registers: [this.registry] });

  constructor(private readonly intervalMs: number) {
    collectDefaultMetrics({ register: this.registry, prefix: 'mailroom_' });
    const collected = this.collected;
    const registry = () => this.connections;
    const each = (fn: (connection: string, snapshot: WireMetricsSnapshot) => void) => {
      for (const [connection, c] of collected) if (c.snapshot) fn(connection, c.snapshot);
    };
    const destinationGauge = (name: string, help: string, pick: (d: MetricsSnapshot['destinations'][number]) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['connection', 'destination'],
        registers: [this.registry],
        collect() {
          this.reset();
          each((connection, snapshot) => {
            for (const d of snapshot.destinations) {
              const value = pick(d);
              if (value !== null) this.set({ connection, destination: d.destination }, value);
            }
          });
        },
      });
    destinationGauge('mailroom_destination_depth', 'Messages stored on the destination', (d) => d.depth);
    destinationGauge('mailroom_destination_unacked', 'Messages delivered but not yet acknowledged (in flight, pending)', (d) => d.inFlight);
    destinationGauge('mailroom_destination_delayed', 'Messages not yet visible (delayed)', (d) => d.delayed);
    destinationGauge('mailroom_destination_consumers', 'Consumers attached', (d) => d.consumers);
    destinationGauge('mailroom_destination_publish_rate', 'Messages published per second', (d) => d.publishRate);
    destinationGauge('mailroom_destination_deliver_rate', 'Messages delivered per second', (d) => d.deliverRate);
    destinationGauge('mailroom_destination_ack_rate', 'Messages acknowledged per second', (d) => d.ackRate);
    destinationGauge('mailroom_destination_oldest_age_seconds', 'Age of the oldest stored message', (d) => (d.oldestAgeMs === null ? null : d.oldestAgeMs / 1000));
    new Gauge({
      name: 'mailroom_destination_lag',
      help: 'Messages not yet consumed, summed over the consumer groups of the destination',
      labelNames: ['connection', 'destination'],
      registers: [this.registry],
      collect() {
        this.reset();
        each((connection, snapshot) => {
          const lag = new Map<string, number>();
          for (const g of snapshot.groups) if (g.lag !== null) lag.set(g.destination, (lag.get(g.destination) ?? 0) + g.lag);
          for (const [destination, value] of lag) this.set({ connection, destination }, value);
        });
      },
    });
    const groupGauge = (name: string, help: string, pick: (g: MetricsSnapshot['groups'][number]) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['connection', 'group', 'destination'],
        registers: [this.registry],
        collect() {
          this.reset();
          each((connection, snapshot) => {
            for (const g of snapshot.groups) {
              const value = pick(g);
              if (value !== null) this.set({ connection, group: g.group, destination: g.destination }, value);
            }
          });
        },
      });
    groupGauge('mailroom_group_lag', 'Messages the consumer group has not consumed yet', (g) => g.lag);
    groupGauge('mailroom_group_pending', 'Messages delivered to the group and not acknowledged', (g) => g.pending);
    groupGauge('mailroom_group_consume_rate', 'Messages consumed by the group per second', (g) => g.consumeRate);
    new Gauge({
      name: 'mailroom_connection_up',
      help: '1 when the last health probe of the connection succeeded',
      labelNames: ['connection', 'kind'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of registry()?.all() ?? []) this.set({ connection: c.id, kind: c.kind }, c.health.status === 'up' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'mailroom_connection_ping_seconds',
      help: 'Latency of the last successful health probe',
      labelNames: ['connection'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of registry()?.all() ?? []) if (c.health.latencyMs !== null && c.health.status === 'up') this.set({ connection: c.id }, c.health.latencyMs / 1000);
      },
    });
    new Gauge({
      name: 'mailroom_metrics_collected_timestamp_seconds',
      help: 'When broker metrics of the connection were last collected',
      labelNames: ['connection'],
      registers: [this.registry],
      collect() {
        this.reset();
        each((connection, snapshot) => this.set({ connection }, Date.parse(snapshot.at) / 1000));
      },
    });
  }

  observeRequest(path: string, type: string, code: string, seconds: number): void {
    this.requests.inc({ path, type, code });
    this.durations.observe({ path, type }, seconds);
  }

  subscriberOpened(procedure: string): () => void {
    this.sseSubscribers.inc({ procedure });
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.sseSubscribers.dec({ procedure });
    };
  }

  eventSent(procedure: string): void {
    this.sseEvents.inc({ procedure });
  }

  tailDelivered(connection: string, messages: number, skipped: number): void {
    if (messages > 0) this.tailMessages.inc({ connection }, messages);
    if (skipped > 0) this.tailSkipped.inc({ connection }, skipped);
  }

  /** Starts the background collector. */
  start(connections: ConnectionRegistry): void {
    this.connections = connections;
    const tick = () => {
      for (const connection of connections.all()) void this.collect(connection);
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  /** Asks the broker now; concurrent calls for one connection share the request. */
  async collect(connection: Connection): Promise<WireMetricsSnapshot | null> {
    if (connection.adapter === null || connection.health.status === 'down') return this.latest(connection.id);
    if (this.collecting.has(connection.id)) return this.latest(connection.id);
    this.collecting.add(connection.id);
    try {
      const snapshot = await connection.call('metrics', (adapter) => adapter.metrics());
      const wire: WireMetricsSnapshot = { connectionId: connection.id, at: snapshot.at.toISOString(), destinations: snapshot.destinations, groups: snapshot.groups };
      this.collected.set(connection.id, { snapshot: wire, error: null });
      for (const listener of this.listeners.get(connection.id) ?? []) listener(wire);
      return wire;
    } catch (error) {
      const previous = this.collected.get(connection.id);
      this.collected.set(connection.id, { snapshot: previous?.snapshot ?? null, error: error instanceof Error ? error.message : String(error) });
      return previous?.snapshot ?? null;
    } finally {
      this.collecting.delete(connection.id);
    }
  }

  latest(connectionId: string): WireMetricsSnapshot | null {
    return this.collected.get(connectionId)?.snapshot ?? null;
  }

  lastError(connectionId: string): string | null {
    return this.collected.get(connectionId)?.error ?? null;
  }

  onSnapshot(connectionId: string, listener: SnapshotListener): () => void {
    let set = this.listeners.get(connectionId);
    if (!set) this.listeners.set(connectionId, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.listeners.clear();
  }
}
