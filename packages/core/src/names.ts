import { InvalidInputError } from './errors';

export interface NameRules {
  /** What the broker calls it: 'topic', 'queue', 'stream'. */
  noun: string;
  maxLength: number;
  pattern: RegExp;
  /** The allowed characters, for the error message. */
  allowed: string;
}

/** Throws InvalidInputError naming the rule the name breaks. */
export function assertValidName(name: unknown, rules: NameRules): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidInputError(`A ${rules.noun} name must be a non-empty string`);
  }
  if (name.length > rules.maxLength) {
    throw new InvalidInputError(`${rules.noun} name is ${name.length} characters long; the limit is ${rules.maxLength}`);
  }
  if (!rules.pattern.test(name)) {
    throw new InvalidInputError(`${rules.noun} name ${JSON.stringify(name)} is invalid: use ${rules.allowed}`);
  }
}
