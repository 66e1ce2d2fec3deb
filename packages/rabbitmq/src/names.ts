import { InvalidInputError } from '@mailroom/core';

const MAX_NAME_BYTES = 255;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * RabbitMQ queue and exchange names are UTF-8 short strings: at most 255 bytes. Control
 * characters are refused here because they cannot be shown or typed back by an operator.
 */
export function assertValidRabbitName(name: unknown, noun = 'queue or exchange'): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidInputError(`A RabbitMQ ${noun} name must be a non-empty string`);
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_NAME_BYTES) {
    throw new InvalidInputError(`RabbitMQ ${noun} name is ${bytes} bytes long in UTF-8; the limit is ${MAX_NAME_BYTES}`);
  }
  if (CONTROL.test(name)) {
    throw new InvalidInputError(`RabbitMQ ${noun} name ${JSON.stringify(name)} contains control characters`);
  }
}

/** Names starting with `amq.` are reserved by the broker for its own objects. */
export function assertCreatableName(name: string): void {
  assertValidRabbitName(name);
  if (name.startsWith('amq.')) {
    throw new InvalidInputError(`RabbitMQ reserves names starting with "amq." for its own queues and exchanges: ${JSON.stringify(name)}`);
  }
}

/** Routing keys are short strings too: at most 255 bytes. */
export function assertRoutingKey(key: string): void {
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_NAME_BYTES) {
    throw new InvalidInputError(`A RabbitMQ routing key is at most ${MAX_NAME_BYTES} bytes; this message key is ${bytes} bytes`, {
      hint: 'Use a shorter key, or put the long value in a header.',
    });
  }
}
