import { assertValidName, type NameRules } from '@mailroom/core';

/** Stream names are Redis keys: binary-safe there, but Mailroom keeps them printable and bounded. */
export const STREAM_NAME_RULES: NameRules = {
  noun: 'stream',
  maxLength: 255,
  // eslint-disable-next-line no-control-regex
  pattern: /^[^\u0000-\u001f\u007f]+$/u,
  allowed: 'up to 255 characters without control characters',
};

export const GROUP_NAME_RULES: NameRules = {
  noun: 'consumer group',
  maxLength: 256,
  // eslint-disable-next-line no-control-regex
  pattern: /^[^\u0000-\u0020\u007f]+$/u,
  allowed: 'up to 256 characters without spaces or control characters',
};

export const CONSUMER_NAME_RULES: NameRules = { ...GROUP_NAME_RULES, noun: 'consumer' };

export function validateStreamName(name: unknown): asserts name is string {
  assertValidName(name, STREAM_NAME_RULES);
}

export function validateGroupName(name: unknown): asserts name is string {
  assertValidName(name, GROUP_NAME_RULES);
}

export function validateConsumerName(name: unknown): asserts name is string {
  assertValidName(name, CONSUMER_NAME_RULES);
}

/** The `{stream}` template both ways: stream → DLQ name, and DLQ name → stream. */
export class DeadLetterConvention {
  private readonly prefix: string;
  private readonly suffix: string;

  constructor(readonly template: string) {
    const [prefix, suffix] = template.split('{stream}');
    this.prefix = prefix ?? '';
    this.suffix = suffix ?? '';
  }

  nameFor(stream: string): string {
    return this.prefix + stream + this.suffix;
  }

  /** The stream whose DLQ `name` is by convention, or null when `name` is not DLQ-shaped. */
  originOf(name: string): string | null {
    if (name.length <= this.prefix.length + this.suffix.length) return null;
    if (!name.startsWith(this.prefix) || !name.endsWith(this.suffix)) return null;
    return name.slice(this.prefix.length, name.length - this.suffix.length);
  }
}
