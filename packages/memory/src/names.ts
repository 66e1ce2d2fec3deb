import { InvalidInputError, assertValidName, type NameRules } from '@mailroom/core';

export const DESTINATION_NAME_RULES: NameRules = {
  noun: 'destination',
  maxLength: 200,
  pattern: /^[A-Za-z0-9._:-]+$/,
  allowed: 'letters, digits, ".", "_", ":" and "-" (at most 200)',
};

export function assertValidDestinationName(name: unknown): asserts name is string {
  assertValidName(name, DESTINATION_NAME_RULES);
}

/** Consumer group names: any printable text up to 200 characters. */
export function assertValidGroupName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200 || [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    throw new InvalidInputError('A consumer group name must be 1 to 200 printable characters');
  }
}
