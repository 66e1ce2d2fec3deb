/** Settings of one Kafka connection. Everything but `brokers` has a default. */
export interface KafkaAdapterConfig {
  /** `host:port` bootstrap servers. */
  brokers: string[];
  clientId?: string;
  ssl?: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** TCP connect timeout per broker. */
  connectionTimeoutMs?: number;
  /** Timeout of one request to a broker. */
  requestTimeoutMs?: number;
  /** Upper bound of every admin operation, so a dead broker fails fast instead of hanging. */
  operationTimeoutMs?: number;
  /**
   * How DLQ topics are named: `{topic}` stands for the origin topic. The first one is what
   * `deadLetterNameFor` returns.
   */
  deadLetterPatterns?: string[];
  /** `max.message.bytes` of the topics this adapter creates. */
  maxMessageBytes?: number;
  /** Replication factor of topics this adapter creates; -1 uses the broker's default. */
  replicationFactor?: number;
  /** Consumer group session timeout (kafkajs minimum on the broker side is 6 s by default). */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Receives kafkajs log entries at error level (which are otherwise silenced). */
  onLog?: (entry: { level: string; namespace: string; message: string }) => void;
}

export type ResolvedKafkaConfig = Required<Omit<KafkaAdapterConfig, 'sasl' | 'onLog'>> & Pick<KafkaAdapterConfig, 'sasl' | 'onLog'>;

export const DEFAULT_DEAD_LETTER_PATTERNS = ['{topic}.DLT', '{topic}-dlq', '{topic}.dlq'];

export function resolveConfig(config: KafkaAdapterConfig): ResolvedKafkaConfig {
  return {
    brokers: config.brokers,
    clientId: config.clientId ?? 'mailroom',
    ssl: config.ssl ?? false,
    sasl: config.sasl,
    connectionTimeoutMs: config.connectionTimeoutMs ?? 2000,
    requestTimeoutMs: config.requestTimeoutMs ?? 5000,
    operationTimeoutMs: config.operationTimeoutMs ?? 8000,
    deadLetterPatterns: config.deadLetterPatterns?.length ? config.deadLetterPatterns : DEFAULT_DEAD_LETTER_PATTERNS,
    maxMessageBytes: config.maxMessageBytes ?? 8 * 1024 * 1024,
    replicationFactor: config.replicationFactor ?? -1,
    sessionTimeoutMs: config.sessionTimeoutMs ?? 10_000,
    heartbeatIntervalMs: config.heartbeatIntervalMs ?? 500,
    onLog: config.onLog,
  };
}

/**
 * Reads KAFKA_BROKERS (comma-separated, default 127.0.0.1:9092), KAFKA_CLIENT_ID, KAFKA_SSL,
 * KAFKA_SASL_MECHANISM/KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD and KAFKA_DLQ_PATTERNS
 * (comma-separated, `{topic}` is the origin).
 */
export function fromKafkaEnv(env: Record<string, string | undefined> = process.env): KafkaAdapterConfig {
  const list = (value: string | undefined) =>
    (value ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  const brokers = list(env['KAFKA_BROKERS']);
  const config: KafkaAdapterConfig = { brokers: brokers.length > 0 ? brokers : ['127.0.0.1:9092'] };
  if (env['KAFKA_CLIENT_ID']) config.clientId = env['KAFKA_CLIENT_ID'];
  if (env['KAFKA_SSL'] === 'true' || env['KAFKA_SSL'] === '1') config.ssl = true;
  const mechanism = env['KAFKA_SASL_MECHANISM'];
  if (mechanism === 'plain' || mechanism === 'scram-sha-256' || mechanism === 'scram-sha-512') {
    config.sasl = { mechanism, username: env['KAFKA_SASL_USERNAME'] ?? '', password: env['KAFKA_SASL_PASSWORD'] ?? '' };
  }
  const patterns = list(env['KAFKA_DLQ_PATTERNS']);
  if (patterns.length > 0) config.deadLetterPatterns = patterns;
  return config;
}
