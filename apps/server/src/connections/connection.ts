import { BrokerUnavailableError, isMailroomError, withTimeout, type BrokerAdapter, type Capabilities } from '@mailroom/core';
import { redactSecrets } from '../errors';

export type HealthStatus = 'up' | 'down' | 'connecting';

export interface ConnectionHealth {
  status: HealthStatus;
  /** Why the broker is down (or why the connection could not be built). */
  reason: string | null;
  checkedAt: string | null;
  latencyMs: number | null;
  version: string | null;
  /** Failed probes in a row. */
  failures: number;
}

export interface ConnectionInfo {
  id: string;
  name: string;
  kind: string;
  /** Changes are refused for the caller: the connection or the server is read-only, or the caller's role is viewer. */
  readOnly: boolean;
  /** Why readOnly is set (null when it is not). */
  readOnlyReason: string | null;
  /** The caller's role on this connection (null for server-side listings). */
  role: 'viewer' | 'operator' | 'admin' | null;
  capabilities: Capabilities | null;
  health: ConnectionHealth;
}

const NETWORK_ERROR = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|socket hang up|connect(ion)? (refused|closed|timed out)/i;

/**
 * One named broker connection: its adapter (when it could be built) and its current health.
 * Every adapter call made for a procedure goes through `call`, which bounds it in time and
 * turns an unreachable broker into one clear BrokerUnavailableError.
 */
export class Connection {
  health: ConnectionHealth = { status: 'connecting', reason: null, checkedAt: null, latencyMs: null, version: null, failures: 0 };
  /** Called when a call found the broker unreachable, so the monitor re-probes at once. */
  onUnreachable: (() => void) | null = null;
  /** Resolves after the first health probe settles. */
  readonly firstProbe: Promise<void>;
  private settleFirstProbe!: () => void;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly kind: string,
    readonly readOnly: boolean,
    /** Null when the factory threw (bad config); `buildError` says why. */
    readonly adapter: BrokerAdapter | null,
    readonly buildError: string | null,
    private readonly defaultTimeoutMs: number,
    private readonly firstProbeWaitMs: number,
  ) {
    this.firstProbe = new Promise((resolve) => (this.settleFirstProbe = resolve));
    if (buildError !== null) {
      this.health = { ...this.health, status: 'down', reason: buildError, checkedAt: new Date().toISOString() };
      this.settleFirstProbe();
    }
  }

  get label(): string {
    return this.name === this.id ? this.id : `${this.name} (${this.id})`;
  }

  info(): ConnectionInfo {
    return {
      id: this.id,
      name: this.name,
      kind: this.kind,
      readOnly: this.readOnly,
      readOnlyReason: this.readOnly ? 'the connection is read-only in the Mailroom config' : null,
      role: null,
      capabilities: this.adapter?.capabilities ?? null,
      health: { ...this.health },
    };
  }

  /** Records a probe result; returns true when the visible health changed. */
  recordProbe(result: { ok: true; latencyMs: number; version: string | null } | { ok: false; reason: string }): boolean {
    const before = this.health;
    const checkedAt = new Date().toISOString();
    this.health = result.ok
      ? { status: 'up', reason: null, checkedAt, latencyMs: result.latencyMs, version: result.version, failures: 0 }
      : { status: 'down', reason: redactSecrets(result.reason), checkedAt, latencyMs: null, version: before.version, failures: before.failures + 1 };
    this.settleFirstProbe();
    return before.status !== this.health.status || before.reason !== this.health.reason;
  }

  unreachable(reason: string | null): BrokerUnavailableError {
    return new BrokerUnavailableError(`broker ${this.label} is unreachable: ${reason ?? 'no answer'}`, {
      hint: `Check that the ${this.kind} broker is running and reachable from the Mailroom server; the connection is retried automatically.`,
    });
  }

  /** The adapter, or the reason there is none. */
  requireAdapter(): BrokerAdapter {
    if (this.adapter === null) throw this.unreachable(this.buildError);
    return this.adapter;
  }

  /** The adapter, after the first probe (bounded wait); throws when the broker is known to be down. */
  async reachableAdapter(): Promise<BrokerAdapter> {
    const adapter = this.requireAdapter();
    if (this.health.status === 'connecting') await withTimeout(this.firstProbe, this.firstProbeWaitMs, `${this.label} health probe`).catch(() => undefined);
    if (this.health.status === 'down') throw this.unreachable(this.health.reason);
    return adapter;
  }

  /**
   * Runs one adapter call for a procedure. Fails fast when the last probe found the broker
   * down; otherwise bounds the call by `timeoutMs` and maps unreachable-broker errors.
   */
  async call<T>(what: string, fn: (adapter: BrokerAdapter) => Promise<T>, timeoutMs = this.defaultTimeoutMs): Promise<T> {
    const adapter = await this.reachableAdapter();
    try {
      return await withTimeout(fn(adapter), timeoutMs, `${this.label}: ${what}`);
    } catch (error) {
      throw this.mapError(error);
    }
  }

  mapError(error: unknown): unknown {
    if (isMailroomError(error)) {
      if (error.code !== 'UNAVAILABLE') return error;
      this.onUnreachable?.();
      return error.message.startsWith('broker ') ? error : this.unreachable(error.message);
    }
    const message = error instanceof Error ? error.message : String(error);
    if (!NETWORK_ERROR.test(message)) return error;
    this.onUnreachable?.();
    return this.unreachable(message);
  }
}
