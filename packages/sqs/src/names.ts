import { InvalidInputError, assertValidName, type NameRules } from '@mailroom/core';

export const FIFO_SUFFIX = '.fifo';

export const SQS_NAME_RULES: NameRules = {
  noun: 'SQS queue',
  maxLength: 80,
  pattern: /^[A-Za-z0-9_-]+(\.fifo)?$/,
  allowed: 'up to 80 letters, digits, hyphens and underscores, optionally ending in ".fifo" for a FIFO queue',
};

export function validateQueueName(name: unknown): asserts name is string {
  assertValidName(name, SQS_NAME_RULES);
}

export function isFifoName(name: string): boolean {
  return name.endsWith(FIFO_SUFFIX);
}

/** `orders` → `orders-dlq`; a FIFO queue's DLQ must be FIFO too: `jobs.fifo` → `jobs-dlq.fifo`. */
export function deadLetterName(name: string, suffix: string): string {
  validateQueueName(name);
  const base = isFifoName(name) ? name.slice(0, -FIFO_SUFFIX.length) : name;
  const dlq = `${base}${suffix}${isFifoName(name) ? FIFO_SUFFIX : ''}`;
  if (dlq.length > SQS_NAME_RULES.maxLength) {
    throw new InvalidInputError(`The dead-letter queue name for ${name} would be ${dlq.length} characters long; SQS allows 80`, {
      hint: 'Use a shorter queue name or a shorter deadLetterSuffix.',
    });
  }
  return dlq;
}

/** The queue name is the ARN's last segment: arn:aws:sqs:region:account:name. */
export function queueNameFromArn(arn: string): string {
  const name = arn.slice(arn.lastIndexOf(':') + 1);
  return name;
}

export function queueNameFromUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}
