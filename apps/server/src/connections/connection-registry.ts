import { NotFoundError } from '@mailroom/core';
import type { ConnectionConfig } from '../config/schema';
import type { ServerSettings } from '../config/settings';
import { ADAPTER_FACTORIES } from './adapter-registry';
import { Connection, type ConnectionInfo } from './connection';
import { HealthMonitor } from './health-monitor';

type Listener = (connections: ConnectionInfo[]) => void;

/** The named connections this server was configured with, their adapters and health. */
export class ConnectionRegistry {
  private readonly connections = new Map<string, Connection>();
  private readonly demoStops: (() => Promise<void> | void)[] = [];
  private readonly listeners = new Set<Listener>();
  private readonly probeListeners = new Set<(connection: Connection) => void>();
  readonly monitor: HealthMonitor;

  /** Builds every configured connection (loading adapter packages as needed) and starts probing them. */
  static async create(settings: ServerSettings): Promise<ConnectionRegistry> {
    const registry = new ConnectionRegistry(settings);
    for (const config of settings.connections) await registry.add(config);
    return registry;
  }

  private constructor(private readonly settings: ServerSettings) {
    this.monitor = new HealthMonitor({
      ...settings.health,
      onChange: () => this.emit(),
      onProbe: (connection) => {
        for (const listener of this.probeListeners) listener(connection);
      },
    });
  }

  private async add(config: ConnectionConfig): Promise<void> {
    const factory = ADAPTER_FACTORIES[config.kind];
    let connection: Connection;
    const timeout = this.settings.callTimeoutMs;
    const firstProbeWait = this.settings.health.timeoutMs + 500;
    try {
      if (!factory) throw new Error(`no adapter for kind ${config.kind}`);
      const module = await factory.load().catch((error: unknown) => {
        throw new Error(`the ${config.kind} adapter could not be loaded (${error instanceof Error ? error.message : String(error)})`);
      });
      const adapter = module.create(config.config);
      connection = new Connection(config.id, config.name ?? config.id, config.kind, config.readOnly, adapter, null, timeout, firstProbeWait);
      if (config.demoTraffic && module.startDemoTraffic) this.demoStops.push(module.startDemoTraffic(adapter));
    } catch (error) {
      const reason = `the connection could not be created: ${error instanceof Error ? error.message : String(error)}`;
      connection = new Connection(config.id, config.name ?? config.id, config.kind, config.readOnly, null, reason, timeout, firstProbeWait);
    }
    connection.onUnreachable = () => this.monitor.probeSoon(connection);
    this.connections.set(config.id, connection);
    this.monitor.watch(connection);
  }

  get(id: string): Connection {
    const connection = this.connections.get(id);
    if (!connection) {
      throw new NotFoundError(`No connection named ${JSON.stringify(id)}`, { hint: `Known connections: ${[...this.connections.keys()].join(', ') || '(none)'}` });
    }
    return connection;
  }

  has(id: string): boolean {
    return this.connections.has(id);
  }

  all(): Connection[] {
    return [...this.connections.values()];
  }

  list(): ConnectionInfo[] {
    return this.all().map((c) => c.info());
  }

  /** Called whenever a connection's status or reason changes. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called after every probe (for latency metrics). */
  onProbe(listener: (connection: Connection) => void): () => void {
    this.probeListeners.add(listener);
    return () => this.probeListeners.delete(listener);
  }

  private emit(): void {
    const list = this.list();
    for (const listener of this.listeners) listener(list);
  }

  async close(): Promise<void> {
    this.monitor.stop();
    await Promise.allSettled(this.demoStops.map(async (stop) => stop()));
    await Promise.allSettled(this.all().map(async (c) => c.adapter?.close()));
    this.listeners.clear();
    this.probeListeners.clear();
  }
}
