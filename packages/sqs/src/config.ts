/** How to reach SQS (AWS itself or an SQS-compatible endpoint such as ElasticMQ) and the adapter's limits. */
export interface SqsAdapterConfig {
  /**
   * SQS-compatible endpoint URL, e.g. `http://127.0.0.1:9324` for ElasticMQ. Unset: AWS itself,
   * with the endpoint, region and credentials of the SDK's standard configuration chain.
   */
  endpoint?: string | null;
  /** Unset: the SDK's region chain (AWS_REGION, profile); 'us-east-1' when an endpoint is set. */
  region?: string | null;
  /**
   * Static credentials. Unset: the SDK's default chain (env, profile, SSO, IMDS...); with an
   * endpoint and no AWS credentials in the environment, dummy credentials (ElasticMQ ignores them).
   */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | null;
  /** Suffix that names a queue's dead-letter queue: `orders` → `orders-dlq`, `jobs.fifo` → `jobs-dlq.fifo`. Default '-dlq'. */
  deadLetterSuffix?: string;
  /** TCP connect timeout per attempt. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** Time one request may take (long polls add their wait). Default 5000 ms. */
  requestTimeoutMs?: number;
  /** SDK attempts per request, the first included. Default 2 so a dead endpoint fails in seconds. */
  maxAttempts?: number;
  /**
   * SQS's size limit for one message (body + attributes) and for one batch. Default 262,144
   * (256 KiB). AWS (since 2025) and ElasticMQ accept up to 1,048,576 (1 MiB) on
   * queues whose MaximumMessageSize allows it.
   */
  maxMessageBytes?: number;
  /** Visibility timeout of consumer receives; unset uses the queue's own VisibilityTimeout. */
  consumerVisibilityTimeoutSeconds?: number | null;
  /** How long a browse (and a manual redrive) keeps the messages it examined invisible. Default 30 s. */
  peekHoldSeconds?: number;
  /** Longest a browse spends receiving before it returns what it has. Default 10,000 ms. */
  browseBudgetMs?: number;
  /** Most messages one browse examines. Default 1000. */
  browseScanLimit?: number;
}

export interface ResolvedSqsConfig {
  endpoint: string | null;
  region: string | null;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | null;
  deadLetterSuffix: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  maxAttempts: number;
  maxMessageBytes: number;
  consumerVisibilityTimeoutSeconds: number | null;
  peekHoldSeconds: number;
  browseBudgetMs: number;
  browseScanLimit: number;
}

export const SQS_DEFAULT_MAX_MESSAGE_BYTES = 262_144;

export function resolveConfig(config: SqsAdapterConfig): ResolvedSqsConfig {
  const endpoint = config.endpoint === undefined || config.endpoint === null || config.endpoint === '' ? null : config.endpoint;
  return {
    endpoint,
    region: config.region ?? (endpoint !== null ? 'us-east-1' : null),
    credentials: config.credentials ?? null,
    deadLetterSuffix: config.deadLetterSuffix ?? '-dlq',
    connectTimeoutMs: config.connectTimeoutMs ?? 2000,
    requestTimeoutMs: config.requestTimeoutMs ?? 5000,
    maxAttempts: config.maxAttempts ?? 2,
    maxMessageBytes: config.maxMessageBytes ?? SQS_DEFAULT_MAX_MESSAGE_BYTES,
    consumerVisibilityTimeoutSeconds: config.consumerVisibilityTimeoutSeconds ?? null,
    peekHoldSeconds: config.peekHoldSeconds ?? 30,
    browseBudgetMs: config.browseBudgetMs ?? 10_000,
    browseScanLimit: config.browseScanLimit ?? 1000,
  };
}

function positiveInt(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * Reads the standard variables. SQS_ENDPOINT (or AWS_ENDPOINT_URL_SQS) selects an SQS-compatible
 * endpoint; without it the adapter talks to AWS with the SDK's default chain. Credentials and
 * region come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN / AWS_REGION
 * when present; for an endpoint without them, dummy credentials and 'us-east-1'.
 */
export function fromSqsEnv(env: Record<string, string | undefined> = process.env): SqsAdapterConfig {
  const endpoint = env['SQS_ENDPOINT'] || env['AWS_ENDPOINT_URL_SQS'] || null;
  const region = env['SQS_REGION'] || env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || null;
  const hasEnvCredentials = Boolean(env['AWS_ACCESS_KEY_ID'] && env['AWS_SECRET_ACCESS_KEY']);
  const config: SqsAdapterConfig = { endpoint, region };
  if (endpoint !== null && !hasEnvCredentials && !env['AWS_PROFILE']) {
    config.credentials = { accessKeyId: 'elasticmq', secretAccessKey: 'elasticmq' };
  }
  const suffix = env['SQS_DLQ_SUFFIX'];
  if (suffix) config.deadLetterSuffix = suffix;
  const maxBytes = positiveInt(env['SQS_MAX_MESSAGE_BYTES']);
  if (maxBytes !== undefined) config.maxMessageBytes = maxBytes;
  return config;
}
