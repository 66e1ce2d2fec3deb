export interface RabbitMqConfig {
  /** amqp://user:password@host:port/vhost */
  url: string;
  /** Base URL of the management plugin's HTTP API, e.g. http://127.0.0.1:15672 */
  managementUrl: string;
  /** Management credentials; default to the AMQP URL's user and password. */
  managementUser?: string;
  managementPassword?: string;
  /** Shown as `connection_name` in the management UI, suffixed with the role (producer, consumer:<group>...). */
  connectionName?: string;
  /** TCP connect + AMQP handshake budget; an unreachable broker fails within it. Default 5000. */
  connectTimeoutMs?: number;
  /** Budget for one AMQP operation or management request. Default 8000. */
  requestTimeoutMs?: number;
  /** AMQP heartbeat in seconds. Default 20. */
  heartbeatSeconds?: number;
  /** deadLetterNameFor(topic) = topic + suffix. Default '.dlq'. */
  deadLetterSuffix?: string;
  /** A consumer group's queue is `<topic><separator><group>`. Default '::'. */
  groupSeparator?: string;
  /** Unacknowledged deliveries a consumer may hold (polled-but-uncommitted included). Default 1000. */
  consumerPrefetch?: number;
  /** Items per management API page when listing queues and exchanges. Default 500. */
  managementPageSize?: number;
  /** Most messages one browse (peek) may read to fill a page or apply a filter. Default 5000. */
  scanBudget?: number;
  /** A stream read treats this long without a delivery as the end of the stream. Default 150. */
  streamIdleMs?: number;
  /** RabbitMQ's max_message_size. Default 128 MiB (the broker's default). */
  maxMessageBytes?: number;
  /**
   * Where redrive sends a dead letter when no target is given. 'queue' (default): straight back to
   * the queue named by x-death, so other queues bound to the same exchange do not get it twice.
   * 'exchange': republish to x-death's exchange with its routing keys.
   */
  redriveOrigin?: 'queue' | 'exchange';
  /** Messages in flight (published, awaiting confirm) per redrive batch. Default 250. */
  redriveBatchSize?: number;
}

export type ResolvedConfig = Required<Omit<RabbitMqConfig, 'managementUser' | 'managementPassword'>> & {
  managementUser: string;
  managementPassword: string;
  vhost: string;
};

export function resolveConfig(config: RabbitMqConfig): ResolvedConfig {
  let parsed: URL;
  try {
    parsed = new URL(config.url);
  } catch {
    throw new TypeError(`RabbitMQ URL ${JSON.stringify(config.url)} is not a valid amqp:// URL`);
  }
  const path = parsed.pathname.replace(/^\//, '');
  const vhost = path === '' ? '/' : decodeURIComponent(path);
  return {
    url: config.url,
    managementUrl: config.managementUrl.replace(/\/+$/, ''),
    managementUser: config.managementUser ?? (parsed.username !== '' ? decodeURIComponent(parsed.username) : 'guest'),
    managementPassword: config.managementPassword ?? (parsed.password !== '' ? decodeURIComponent(parsed.password) : 'guest'),
    connectionName: config.connectionName ?? 'mailroom',
    connectTimeoutMs: config.connectTimeoutMs ?? 5000,
    requestTimeoutMs: config.requestTimeoutMs ?? 8000,
    heartbeatSeconds: config.heartbeatSeconds ?? 20,
    deadLetterSuffix: config.deadLetterSuffix ?? '.dlq',
    groupSeparator: config.groupSeparator ?? '::',
    consumerPrefetch: config.consumerPrefetch ?? 1000,
    managementPageSize: config.managementPageSize ?? 500,
    scanBudget: config.scanBudget ?? 5000,
    streamIdleMs: config.streamIdleMs ?? 150,
    maxMessageBytes: config.maxMessageBytes ?? 128 * 1024 * 1024,
    redriveOrigin: config.redriveOrigin ?? 'queue',
    redriveBatchSize: config.redriveBatchSize ?? 250,
    vhost,
  };
}

/** Reads RABBITMQ_URL and RABBITMQ_MANAGEMENT_URL, with loopback defaults. */
export function fromRabbitMqEnv(env: Record<string, string | undefined> = process.env): RabbitMqConfig {
  return {
    url: env['RABBITMQ_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672',
    managementUrl: env['RABBITMQ_MANAGEMENT_URL'] ?? 'http://127.0.0.1:15672',
  };
}
