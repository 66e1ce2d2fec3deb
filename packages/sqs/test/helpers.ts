import { createSqsAdapter, type SqsAdapter, type SqsAdapterConfig } from '../src';

export const SQS_ENDPOINT = process.env['SQS_ENDPOINT'] || 'http://127.0.0.1:9324';

/** ElasticMQ ignores credentials; AWS would use the test runner's. */
export function testConfig(extra: SqsAdapterConfig = {}): SqsAdapterConfig {
  return { endpoint: SQS_ENDPOINT, region: 'elasticmq', credentials: { accessKeyId: 'elasticmq', secretAccessKey: 'elasticmq' }, ...extra };
}

export function testAdapter(extra: SqsAdapterConfig = {}): SqsAdapter {
  return createSqsAdapter(testConfig(extra));
}

export function uniqueName(label: string): string {
  return `mr-test-${label}-${Date.now().toString(36)}-${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
}
