import { describe, expect, it } from 'vitest';
import { fromSqsEnv, sqsCapabilities } from '../src';
import { resolveConfig } from '../src/config';

describe('configuration', () => {
  it('SQS_ENDPOINT selects an SQS-compatible endpoint with dummy credentials and a default region', () => {
    const config = fromSqsEnv({ SQS_ENDPOINT: 'http://127.0.0.1:9324' });
    expect(config).toEqual({ endpoint: 'http://127.0.0.1:9324', region: null, credentials: { accessKeyId: 'elasticmq', secretAccessKey: 'elasticmq' } });
    expect(resolveConfig(config).region).toBe('us-east-1');
  });

  it('without SQS_ENDPOINT it leaves endpoint, region and credentials to the SDK default chain', () => {
    const config = fromSqsEnv({ AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's' });
    expect(config).toEqual({ endpoint: null, region: 'eu-west-1' });
    const resolved = resolveConfig(config);
    expect([resolved.endpoint, resolved.credentials]).toEqual([null, null]);
    expect(resolveConfig(fromSqsEnv({})).region).toBeNull();
  });

  it('an endpoint with real credentials in the environment uses them (SDK chain), and limits are configurable', () => {
    const config = fromSqsEnv({ SQS_ENDPOINT: 'http://x:1', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', SQS_MAX_MESSAGE_BYTES: '1048576', SQS_DLQ_SUFFIX: '_dead' });
    expect(config.credentials).toBeUndefined();
    expect(config.maxMessageBytes).toBe(1_048_576);
    expect(config.deadLetterSuffix).toBe('_dead');
  });

  it('declares the largest value that always fits, base64 included', () => {
    expect(sqsCapabilities(262_144).maxMessageBytes).toBe(193_536);
    expect(((193_536 * 4) / 3) + 4096).toBeLessThanOrEqual(262_144);
    expect(sqsCapabilities(1_048_576).maxMessageBytes).toBe(783_360);
  });
});
