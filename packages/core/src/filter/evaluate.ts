import type { StoredMessage } from '../admin';
import { fromUtf8 } from '../bytes';
import type { CompareOp, FieldPath, Literal, Node } from './ast';
import { FilterSyntaxError } from './errors';
import { parseFilter } from './parser';
import type { MessagePredicate } from './predicate';
import { compileSafeRegex } from './safe-regex';

/** Only the first MiB of a value is searched as text or parsed as JSON. */
const MAX_TEXT_BYTES = 1024 * 1024;

type Value = Literal | undefined | object;

/** Per-message lazily decoded views, so a filter on `key` never decodes the value. */
class MessageView {
  private text: string | undefined;
  private json: { value: unknown } | undefined;

  constructor(readonly message: StoredMessage) {}

  getText(): string {
    this.text ??= fromUtf8(this.message.value.subarray(0, MAX_TEXT_BYTES));
    return this.text;
  }

  getJson(): unknown {
    if (this.json === undefined) {
      try {
        this.json = { value: JSON.parse(this.getText()) };
      } catch {
        this.json = { value: undefined };
      }
    }
    return this.json.value;
  }
}

function resolve(view: MessageView, field: FieldPath): Value {
  const m = view.message;
  switch (field.root) {
    case 'key':
      return m.key;
    case 'value':
    case 'text':
      return view.getText();
    case 'json': {
      let current: unknown = view.getJson();
      for (const step of field.path) {
        if (current === null || typeof current !== 'object') return undefined;
        current = Object.prototype.hasOwnProperty.call(current, step) ? (current as Record<string | number, unknown>)[step] : undefined;
      }
      return current as Value;
    }
    case 'headers':
    case 'properties': {
      const bag = field.root === 'headers' ? m.headers : m.properties;
      const name = field.path[0];
      if (name === undefined) return bag;
      return Object.prototype.hasOwnProperty.call(bag, String(name)) ? bag[String(name)] : undefined;
    }
    case 'timestamp':
      return m.timestamp.getTime();
    case 'partition':
      return m.partition;
    case 'position':
      return m.position;
    case 'id':
      return m.id;
    case 'size':
      return m.value.byteLength;
    case 'deliveryCount':
      return m.deliveryCount;
    case 'redelivered':
      return m.redelivered;
    case 'reason':
      return m.deadLetter?.reason ?? null;
    case 'attempts':
      return m.deadLetter?.attempts ?? null;
    case 'origin':
      return m.deadLetter?.origin ?? null;
  }
}

function asNumber(v: Value, timestamps: boolean): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    if (!Number.isNaN(n)) return n;
    if (timestamps) {
      const t = Date.parse(v);
      if (!Number.isNaN(t)) return t;
    }
  }
  return undefined;
}

function equals(a: Value, b: Value): boolean {
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (typeof a === 'number' || typeof b === 'number') {
    const x = asNumber(a, false);
    const y = asNumber(b, false);
    return x !== undefined && y !== undefined && x === y;
  }
  return a === b;
}

function order(op: CompareOp, a: Value, b: Value, timestamps: boolean): boolean {
  const x = asNumber(a, timestamps);
  const y = asNumber(b, timestamps);
  let cmp: number;
  if (x !== undefined && y !== undefined) cmp = x - y;
  else if (typeof a === 'string' && typeof b === 'string') cmp = a < b ? -1 : a > b ? 1 : 0;
  else return false;
  switch (op) {
    case '<':
      return cmp < 0;
    case '<=':
      return cmp <= 0;
    case '>':
      return cmp > 0;
    default:
      return cmp >= 0;
  }
}

function truthy(v: Value): boolean {
  return v !== null && v !== undefined && v !== false && v !== 0 && v !== '';
}

type Compiled = (view: MessageView) => Value;

function compileNode(node: Node): Compiled {
  switch (node.type) {
    case 'literal':
      return () => node.value;
    case 'list':
      return () => node.items;
    case 'field':
      return (view) => resolve(view, node.field);
    case 'exists':
      return (view) => resolve(view, node.field) !== undefined;
    case 'not': {
      const operand = compileNode(node.operand);
      return (view) => !truthy(operand(view));
    }
    case 'and': {
      const left = compileNode(node.left);
      const right = compileNode(node.right);
      return (view) => truthy(left(view)) && truthy(right(view));
    }
    case 'or': {
      const left = compileNode(node.left);
      const right = compileNode(node.right);
      return (view) => truthy(left(view)) || truthy(right(view));
    }
    case 'compare':
      return compileCompare(node);
  }
}

function compileCompare(node: Node & { type: 'compare' }): Compiled {
  const left = compileNode(node.left);
  const right = compileNode(node.right);
  const timestamps = node.left.type === 'field' && node.left.field.root === 'timestamp';
  switch (node.op) {
    case '==':
      return (v) => equals(left(v), right(v));
    case '!=':
      return (v) => !equals(left(v), right(v));
    case '<':
    case '<=':
    case '>':
    case '>=':
      return (v) => order(node.op, left(v), right(v), timestamps);
    case 'contains':
      return (v) => {
        const a = left(v);
        const b = right(v);
        if (Array.isArray(a)) return a.some((item) => equals(item as Value, b));
        return typeof a === 'string' && typeof b === 'string' && a.includes(b);
      };
    case 'startsWith':
      return (v) => {
        const a = left(v);
        const b = right(v);
        return typeof a === 'string' && typeof b === 'string' && a.startsWith(b);
      };
    case 'endsWith':
      return (v) => {
        const a = left(v);
        const b = right(v);
        return typeof a === 'string' && typeof b === 'string' && a.endsWith(b);
      };
    case 'matches': {
      const pattern = node.right.type === 'literal' ? String(node.right.value) : '';
      const regex = compileSafeRegex(pattern, 0);
      return (v) => {
        const a = left(v);
        return typeof a === 'string' && regex.test(a);
      };
    }
    case 'in': {
      const items = node.right.type === 'list' ? node.right.items : [];
      return (v) => {
        const a = left(v);
        return items.some((item) => equals(a, item));
      };
    }
  }
}

/**
 * Compiles a filter expression into a predicate. The language is parsed and interpreted here:
 * it can read fields of the message and nothing else (no code, no I/O).
 * Throws FilterSyntaxError (an InvalidInputError) with the position of the problem.
 */
export function compileFilter(expression: string): MessagePredicate {
  const compiled = compileNode(parseFilter(expression));
  return (message) => truthy(compiled(new MessageView(message)));
}

export type FilterValidation = { ok: true } | { ok: false; error: string; position: number };

export function validateFilter(expression: string): FilterValidation {
  try {
    compileFilter(expression);
    return { ok: true };
  } catch (error) {
    if (error instanceof FilterSyntaxError) return { ok: false, error: error.message, position: error.position };
    throw error;
  }
}
