import { fromRabbitMqEnv, type RabbitMqConfig } from '../src/index';

/** The real broker of this machine (RABBITMQ_URL / RABBITMQ_MANAGEMENT_URL, loopback defaults). */
export function testConfig(overrides: Partial<RabbitMqConfig> = {}): RabbitMqConfig {
  return { ...fromRabbitMqEnv(), connectionName: 'mailroom-test', ...overrides };
}

/** Nobody listens on port 1: connects are refused at once. */
export function unreachableConfig(): RabbitMqConfig {
  return { url: 'amqp://guest:guest@127.0.0.1:1', managementUrl: 'http://127.0.0.1:1', connectTimeoutMs: 3000, requestTimeoutMs: 3000 };
}

export function uniqueName(label: string): string {
  return `mr-test-${label}-${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
}
