import type { BrokerAdapter } from '@mailroom/core';

/** What the server needs from one adapter package. */
export interface AdapterModule {
  /** Builds the adapter from a connection's `config` object (from the config file or `fromEnv`). */
  create(config: Record<string, unknown>): BrokerAdapter;
  /** The adapter's config from environment variables (loopback defaults for what is unset). */
  fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown>;
  /** Starts demo traffic on a fresh adapter; returns how to stop it. */
  startDemoTraffic?: (adapter: BrokerAdapter) => () => Promise<void>;
}

export interface AdapterFactory {
  /**
   * Loads the adapter package on first use, so a server without Kafka connections never loads
   * kafkajs, and one broken adapter package only fails the connections of its kind.
   */
  load(): Promise<AdapterModule>;
  /**
   * Setting any of these (or the same name prefixed with MAILROOM_) creates a default connection
   * of this kind. Empty for kinds that only come from the config file.
   */
  envTriggers: string[];
}

/** Accepts a package written against its own typed config. */
function lazy<C>(
  envTriggers: string[],
  loader: () => Promise<{
    create: (config: C) => BrokerAdapter;
    fromEnv: (env: NodeJS.ProcessEnv) => C;
    startDemoTraffic?: (adapter: BrokerAdapter) => () => Promise<void>;
  }>,
): AdapterFactory {
  let loaded: Promise<AdapterModule> | null = null;
  return {
    envTriggers,
    load() {
      loaded ??= loader().then((m) => ({
        create: (config) => m.create(config as C),
        fromEnv: (env) => m.fromEnv(env) as Record<string, unknown>,
        ...(m.startDemoTraffic ? { startDemoTraffic: m.startDemoTraffic } : {}),
      }));
      return loaded;
    },
  };
}

/**
 * The one place that maps a connection `kind` to its adapter package. Nothing else in the
 * server branches on the kind: everything else reads the adapter's capabilities.
 */
export const ADAPTER_FACTORIES: Record<string, AdapterFactory> = {
  memory: lazy([], async () => {
    const m = await import('@mailroom/memory');
    return {
      create: m.createMemoryAdapter,
      fromEnv: () => ({}),
      startDemoTraffic: (adapter) => {
        const controller = new AbortController();
        const running = m.startDemoTraffic(adapter, { signal: controller.signal, log: (line) => console.warn(`[demo traffic] ${line}`) });
        running.catch((error: unknown) => console.warn(`[demo traffic] could not start: ${error instanceof Error ? error.message : String(error)}`));
        return async () => {
          controller.abort();
          await running.then((demo) => demo.done).catch(() => undefined);
        };
      },
    };
  }),
  kafka: lazy(['KAFKA_BROKERS'], async () => {
    const m = await import('@mailroom/kafka');
    return { create: m.createKafkaAdapter, fromEnv: m.fromKafkaEnv };
  }),
  rabbitmq: lazy(['RABBITMQ_URL'], async () => {
    const m = await import('@mailroom/rabbitmq');
    return { create: m.createRabbitMqAdapter, fromEnv: m.fromRabbitMqEnv };
  }),
  sqs: lazy(['SQS_ENDPOINT', 'AWS_ENDPOINT_URL_SQS'], async () => {
    const m = await import('@mailroom/sqs');
    return { create: m.createSqsAdapter, fromEnv: m.fromSqsEnv };
  }),
  redis: lazy(['REDIS_URL'], async () => {
    const m = await import('@mailroom/redis');
    return { create: m.createRedisAdapter, fromEnv: m.fromRedisEnv };
  }),
};

export function knownKinds(): string[] {
  return Object.keys(ADAPTER_FACTORIES).sort();
}
