import { FilterSyntaxError } from './errors';

const MAX_PATTERN_LENGTH = 200;

/**
 * Compiles a user's regular expression only if it cannot backtrack catastrophically:
 * no quantified group that itself contains a quantifier (e.g. `(a+)+`), no backreferences,
 * no lookarounds. Matching a message then stays linear enough to run on every message.
 */
export function compileSafeRegex(pattern: string, at: number): RegExp {
  if (pattern.length > MAX_PATTERN_LENGTH) throw new FilterSyntaxError(`A regular expression may be at most ${MAX_PATTERN_LENGTH} characters`, at);
  if (/\\[1-9]|\\k</.test(pattern)) throw new FilterSyntaxError('Backreferences are not allowed in filters', at);
  if (/\(\?[=!<]/.test(pattern)) throw new FilterSyntaxError('Lookarounds are not allowed in filters', at);
  const groupHasQuantifier: boolean[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') groupHasQuantifier.push(false);
    else if (c === ')') {
      const inner = groupHasQuantifier.pop() ?? false;
      const after = pattern[i + 1];
      const quantified = after === '*' || after === '+' || after === '{' || after === '?';
      if (inner && quantified && after !== '?') {
        throw new FilterSyntaxError('Nested quantifiers such as (a+)+ are not allowed: they can take exponential time', at);
      }
      if (inner || quantified) markOuter(groupHasQuantifier);
    } else if (c === '*' || c === '+' || c === '{') markOuter(groupHasQuantifier);
  }
  try {
    return new RegExp(pattern, 'u');
  } catch (error) {
    throw new FilterSyntaxError(`Invalid regular expression: ${(error as Error).message}`, at);
  }
}

function markOuter(stack: boolean[]): void {
  if (stack.length > 0) stack[stack.length - 1] = true;
}
