// Broker endpoints for the infra smoke tests: the same env vars every Mailroom package reads,
// with the loopback defaults that infra/brokers.sh serves.
import { randomBytes } from 'node:crypto';

export const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
export const SQS_ENDPOINT = process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:9324';
export const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const RABBITMQ_MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A name no other run (or concurrent helper) uses: mr-test-infra-<time>-<random>. */
export function uniqueName(label: string): string {
  return `mr-test-infra-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Bytes that are not valid UTF-8 and include NUL, so a text round trip would corrupt them. */
export function binaryPayload(): Buffer {
  return Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x0a, 0x00, 0x7f]);
}
