import { withTimeout } from '@mailroom/core';
import type { Connection } from './connection';

export interface HealthMonitorOptions {
  intervalMs: number;
  timeoutMs: number;
  maxBackoffMs: number;
  onChange: (connection: Connection) => void;
  onProbe?: (connection: Connection) => void;
}

/**
 * Pings every connection continuously: every `intervalMs` while it answers; after a failure,
 * again after a backoff (1 s, 2 s, 4 s ... up to `maxBackoffMs`), so a broker that comes back
 * is seen as up without anyone asking.
 */
export class HealthMonitor {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private stopped = false;

  constructor(private readonly options: HealthMonitorOptions) {}

  watch(connection: Connection): void {
    if (connection.adapter === null) return;
    void this.probe(connection);
  }

  /** Probes now instead of waiting for the next tick (e.g. after a call failed). */
  probeSoon(connection: Connection): void {
    if (this.stopped || connection.adapter === null) return;
    const timer = this.timers.get(connection.id);
    if (timer === undefined) return; // a probe is running
    clearTimeout(timer);
    this.timers.delete(connection.id);
    void this.probe(connection);
  }

  private async probe(connection: Connection): Promise<void> {
    const adapter = connection.adapter;
    if (this.stopped || adapter === null) return;
    const started = performance.now();
    let changed: boolean;
    try {
      const health = await withTimeout(adapter.ping(), this.options.timeoutMs, `ping of ${connection.label}`);
      changed = connection.recordProbe({ ok: true, latencyMs: Math.round(health.latencyMs ?? performance.now() - started), version: health.version });
    } catch (error) {
      changed = connection.recordProbe({ ok: false, reason: error instanceof Error ? error.message : String(error) });
    }
    if (this.stopped) return;
    this.options.onProbe?.(connection);
    if (changed) this.options.onChange(connection);
    const failures = connection.health.failures;
    const delay = failures === 0 ? this.options.intervalMs : Math.min(this.options.maxBackoffMs, 1000 * 2 ** (failures - 1));
    this.timers.set(connection.id, setTimeout(() => {
      this.timers.delete(connection.id);
      void this.probe(connection);
    }, delay));
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
