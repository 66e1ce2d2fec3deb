import { fromKafkaEnv, createKafkaAdapter, type KafkaAdapter } from '../src';

export function brokers(): string[] {
  return fromKafkaEnv().brokers;
}

export function newAdapter(): KafkaAdapter {
  return createKafkaAdapter(fromKafkaEnv());
}

/** Unique lower-case names per run: tests never see each other's topics. */
export function uniqueName(label: string): string {
  const random = Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0');
  return `mr-test-${label}-${Date.now().toString(36)}${random}`;
}
