import { FIELD_ROOTS, type CompareOp, type FieldPath, type FieldRoot, type Literal, type Node } from './ast';
import { FilterSyntaxError } from './errors';
import { tokenize, type Token } from './lexer';

const WORD_OPS: Record<string, CompareOp> = {
  contains: 'contains',
  startsWith: 'startsWith',
  endsWith: 'endsWith',
  matches: 'matches',
  in: 'in',
};
const SYMBOL_OPS = new Set(['==', '!=', '<', '<=', '>', '>=']);
const MAX_DEPTH = 32;
export const MAX_FILTER_LENGTH = 2000;

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private isPunct(value: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.value === value;
  }

  private isWord(value: string): boolean {
    const t = this.peek();
    return t.kind === 'word' && t.value === value;
  }

  private expectPunct(value: string): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.value !== value) throw new FilterSyntaxError(`Expected "${value}"`, t.at);
  }

  parse(): Node {
    const node = this.or();
    const t = this.peek();
    if (t.kind !== 'end') throw new FilterSyntaxError('Unexpected input after the end of the expression', t.at);
    return node;
  }

  private nest<T>(at: number, f: () => T): T {
    if (++this.depth > MAX_DEPTH) throw new FilterSyntaxError(`Nesting deeper than ${MAX_DEPTH} levels`, at);
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private or(): Node {
    let left = this.and();
    while (this.isPunct('||') || this.isWord('or')) {
      this.next();
      left = { type: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): Node {
    let left = this.unary();
    while (this.isPunct('&&') || this.isWord('and')) {
      this.next();
      left = { type: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): Node {
    if (this.isPunct('!') || this.isWord('not')) {
      const at = this.next().at;
      return this.nest(at, () => ({ type: 'not', operand: this.unary() }));
    }
    return this.comparison();
  }

  private comparison(): Node {
    const left = this.operand();
    const t = this.peek();
    if (t.kind === 'word' && t.value === 'exists') {
      this.next();
      if (left.type !== 'field') throw new FilterSyntaxError('"exists" applies to a field, e.g. headers.trace-id exists', t.at);
      return { type: 'exists', field: left.field };
    }
    let op: CompareOp | undefined;
    if (t.kind === 'punct' && SYMBOL_OPS.has(t.value)) op = t.value as CompareOp;
    if (t.kind === 'word') op = WORD_OPS[t.value];
    if (op === undefined) return left;
    this.next();
    const right = this.operand();
    if (op === 'in' && right.type !== 'list') throw new FilterSyntaxError('"in" needs a list, e.g. key in ["a", "b"]', t.at);
    if (op === 'matches' && !(right.type === 'literal' && typeof right.value === 'string')) {
      throw new FilterSyntaxError('"matches" needs a regular expression in quotes', t.at);
    }
    return { type: 'compare', op, left, right };
  }

  private operand(): Node {
    const t = this.next();
    switch (t.kind) {
      case 'string':
      case 'number':
        return { type: 'literal', value: t.value };
      case 'word':
        if (t.value === 'true' || t.value === 'false') return { type: 'literal', value: t.value === 'true' };
        if (t.value === 'null') return { type: 'literal', value: null };
        return { type: 'field', field: this.fieldPath(t) };
      case 'punct':
        if (t.value === '(') {
          return this.nest(t.at, () => {
            const inner = this.or();
            this.expectPunct(')');
            return inner;
          });
        }
        if (t.value === '[') return this.list(t.at);
        throw new FilterSyntaxError(`Unexpected "${t.value}"`, t.at);
      case 'end':
        throw new FilterSyntaxError('The expression ends too early', t.at);
    }
  }

  private list(at: number): Node {
    const items: Literal[] = [];
    while (!this.isPunct(']')) {
      const t = this.next();
      if (t.kind === 'string' || t.kind === 'number') items.push(t.value);
      else if (t.kind === 'word' && (t.value === 'true' || t.value === 'false')) items.push(t.value === 'true');
      else if (t.kind === 'word' && t.value === 'null') items.push(null);
      else throw new FilterSyntaxError('A list holds only strings, numbers, true, false and null', t.at);
      if (!this.isPunct(',')) break;
      this.next();
    }
    this.expectPunct(']');
    if (items.length > 1000) throw new FilterSyntaxError('A list holds at most 1000 items', at);
    return { type: 'list', items };
  }

  private fieldPath(word: Token & { kind: 'word' }): FieldPath {
    if (!(FIELD_ROOTS as readonly string[]).includes(word.value)) {
      throw new FilterSyntaxError(`Unknown field "${word.value}"; fields are ${FIELD_ROOTS.join(', ')}`, word.at);
    }
    const root = word.value as FieldRoot;
    const path: (string | number)[] = [];
    for (;;) {
      if (this.isPunct('.')) {
        this.next();
        const name = this.next();
        if (name.kind !== 'word' && name.kind !== 'number') throw new FilterSyntaxError('Expected a name after "."', name.at);
        path.push(name.kind === 'word' ? name.value : name.value);
      } else if (this.isPunct('[')) {
        this.next();
        const index = this.next();
        if (index.kind !== 'string' && index.kind !== 'number') throw new FilterSyntaxError('Expected a quoted name or a number inside [ ]', index.at);
        path.push(index.value);
        this.expectPunct(']');
      } else break;
    }
    if (path.length > 0 && !['json', 'headers', 'properties'].includes(root)) {
      throw new FilterSyntaxError(`"${root}" has no sub-fields; only json, headers and properties do`, word.at);
    }
    if ((root === 'headers' || root === 'properties') && path.length > 1) {
      throw new FilterSyntaxError(`${root} take one name, e.g. ${root}["content-type"]`, word.at);
    }
    return { root, path };
  }
}

export function parseFilter(source: string): Node {
  if (source.length > MAX_FILTER_LENGTH) throw new FilterSyntaxError(`The filter is longer than ${MAX_FILTER_LENGTH} characters`, MAX_FILTER_LENGTH);
  return new Parser(tokenize(source)).parse();
}
