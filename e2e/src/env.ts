/**
 * Endpoints of the real brokers (the same variables and loopback defaults as every other test
 * package) and the per-run values playwright.config.ts fixes before any worker starts.
 */
export const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((s) => s.trim()).filter(Boolean);
export const SQS_ENDPOINT = process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:9324';
export const SQS_REGION = 'elasticmq';
export const SQS_CREDENTIALS = { accessKeyId: 'elasticmq', secretAccessKey: 'elasticmq' };
export const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const RABBITMQ_MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set: run the suite through playwright.config.ts`);
  return value;
}

/** Unique per run: every destination, group and queue the suite creates starts with it. */
export const runId = (): string => required('MAILROOM_E2E_RUN');
export const serverPort = (): number => Number(required('MAILROOM_E2E_PORT'));
export const serverUrl = (): string => `http://127.0.0.1:${serverPort()}`;
/** The throwaway redis-server the availability journey stops and restarts (never a shared broker). */
export const volatileRedisPort = (): number => Number(required('MAILROOM_E2E_VOLATILE_REDIS_PORT'));
/** Folder of this run's server config, data dir, logs and pid files. */
export const runDir = (): string => required('MAILROOM_E2E_RUN_DIR');

/** The server's one local account: a viewer everywhere (anonymous loopback access stays admin). */
export const signInAccount = (): { username: string; password: string } => ({ username: 'e2e-viewer', password: required('MAILROOM_E2E_PASSWORD') });

/** Connection ids and display names as the generated server config declares them. */
export const CONNECTIONS = {
  memory: { id: 'memory', name: 'E2E Embedded' },
  kafka: { id: 'kafka', name: 'E2E Kafka' },
  rabbitmq: { id: 'rabbitmq', name: 'E2E RabbitMQ' },
  sqs: { id: 'sqs', name: 'E2E SQS' },
  redis: { id: 'redis', name: 'E2E Redis Streams' },
  volatile: { id: 'redis-volatile', name: 'E2E Throwaway Redis' },
} as const;

export type BrokerName = 'memory' | 'kafka' | 'rabbitmq' | 'sqs' | 'redis';
