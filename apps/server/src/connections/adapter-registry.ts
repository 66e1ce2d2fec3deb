import type { BrokerAdapter } from '@mailroom/core';
import { createRedisAdapter, fromRedisEnv } from '@mailroom/redis';

/** How the server builds adapters of one kind. */
export interface AdapterFactory {
  /** Builds the adapter from a connection's `config` object (from the config file or `fromEnv`). */
  create(config: Record<string, unknown>): BrokerAdapter;
  /** The adapter's config from environment variables (loopback defaults for what is unset). */
  fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown>;
  /**
   * Setting any of these (or the same name prefixed with MAILROOM_) creates a default connection
   * of this kind. Empty for kinds that only come from the config file.
   */
  envTriggers: string[];
  /** Starts demo traffic on a fresh adapter; returns how to stop it. */
  startDemoTraffic?: (adapter: BrokerAdapter) => () => Promise<void> | void;
}

/** Accepts a factory written against the adapter's own typed config. */
function factory<C>(entry: {
  create: (config: C) => BrokerAdapter;
  fromEnv: (env: NodeJS.ProcessEnv) => C;
  envTriggers: string[];
  startDemoTraffic?: (adapter: BrokerAdapter) => () => Promise<void> | void;
}): AdapterFactory {
  return {
    create: (config) => entry.create(config as C),
    fromEnv: (env) => entry.fromEnv(env) as Record<string, unknown>,
    envTriggers: entry.envTriggers,
    ...(entry.startDemoTraffic ? { startDemoTraffic: entry.startDemoTraffic } : {}),
  };
}

/**
 * The one place that maps a connection `kind` to its adapter factory. Nothing else in the
 * server branches on the kind: everything else reads the adapter's capabilities.
 */
export const ADAPTER_FACTORIES: Record<string, AdapterFactory> = {
  redis: factory({ create: createRedisAdapter, fromEnv: fromRedisEnv, envTriggers: ['REDIS_URL'] }),
};

export function knownKinds(): string[] {
  return Object.keys(ADAPTER_FACTORIES).sort();
}
