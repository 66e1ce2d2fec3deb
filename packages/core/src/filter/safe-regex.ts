import { RE2JS } from 're2js';
import { FilterSyntaxError } from './errors';

const MAX_PATTERN_LENGTH = 200;

/** A compiled filter regular expression: `test` finds a match anywhere in the text. */
export interface SafeRegex {
  test(text: string): boolean;
}

/**
 * Compiles a user's regular expression for a linear-time engine (RE2JS): V8's backtracking
 * engine takes minutes on patterns as plain as `.*.*x` or `(a|a)*c` over a large value, which
 * would let one filter stall the server. Backreferences and lookarounds (which RE2 cannot run)
 * and nested quantifiers such as `(a+)+` are refused with a clear message.
 */
export function compileSafeRegex(pattern: string, at: number): SafeRegex {
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
    new RegExp(pattern, 'u'); // the syntax the filter help documents
    const re2 = RE2JS.compile(pattern);
    return { test: (text) => re2.matcher(text).find() };
  } catch (error) {
    throw new FilterSyntaxError(`Invalid regular expression: ${(error as Error).message}`, at);
  }
}

function markOuter(stack: boolean[]): void {
  if (stack.length > 0) stack[stack.length - 1] = true;
}
