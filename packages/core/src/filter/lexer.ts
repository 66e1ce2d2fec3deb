import { FilterSyntaxError } from './errors';

export type Token =
  | { kind: 'string'; value: string; at: number }
  | { kind: 'number'; value: number; at: number }
  | { kind: 'word'; value: string; at: number }
  | { kind: 'punct'; value: string; at: number }
  | { kind: 'end'; at: number };

const PUNCT = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '!', '(', ')', '[', ']', '.', ','];
const MAX_TOKENS = 500;

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (tokens.length >= MAX_TOKENS) throw new FilterSyntaxError(`The filter is too long (more than ${MAX_TOKENS} tokens)`, i);
    if (c === '"' || c === "'") {
      const start = i;
      let text = '';
      i++;
      while (i < source.length && source[i] !== c) {
        if (source[i] === '\\') {
          const next = source[i + 1];
          if (next === undefined) break;
          // Unknown escapes keep their backslash so regular expressions like \d survive.
          text += next === 'n' ? '\n' : next === 't' ? '\t' : next === c || next === '\\' ? next : '\\' + next;
          i += 2;
        } else {
          text += source[i];
          i++;
        }
      }
      if (source[i] !== c) throw new FilterSyntaxError('Unterminated string', start);
      i++;
      tokens.push({ kind: 'string', value: text, at: start });
      continue;
    }
    const number = /^-?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+)/.exec(source.slice(i));
    if (number && (c !== '-' || /\d|\./.test(source[i + 1] ?? ''))) {
      tokens.push({ kind: 'number', value: Number(number[0]), at: i });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(source.slice(i));
    if (word) {
      tokens.push({ kind: 'word', value: word[0], at: i });
      i += word[0].length;
      continue;
    }
    const punct = PUNCT.find((p) => source.startsWith(p, i));
    if (punct) {
      tokens.push({ kind: 'punct', value: punct, at: i });
      i += punct.length;
      continue;
    }
    throw new FilterSyntaxError(`Unexpected character ${JSON.stringify(c)}`, i);
  }
  tokens.push({ kind: 'end', at: source.length });
  return tokens;
}
