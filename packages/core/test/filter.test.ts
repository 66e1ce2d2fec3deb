import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '../src/admin';
import { utf8 } from '../src/bytes';
import { compileFilter, validateFilter } from '../src/filter/evaluate';
import { FilterSyntaxError } from '../src/filter/errors';

function message(overrides: Partial<StoredMessage> = {}): StoredMessage {
  return {
    id: '0:42',
    destination: 'orders',
    partition: 0,
    position: '42',
    key: 'order-1',
    value: utf8(JSON.stringify({ amount: 250, customer: { tier: 'gold' }, tags: ['a', 'b'] })),
    headers: { type: 'refund', 'content-type': 'application/json' },
    timestamp: new Date('2026-11-01T10:00:00Z'),
    deliveryCount: 3,
    redelivered: true,
    deadLetter: { origin: 'orders', reason: 'timeout talking to db', attempts: 5, failedAt: null, history: [] },
    properties: { messageId: 'm-1' },
    ...overrides,
  };
}

const cases: [string, boolean][] = [
  ['key == "order-1"', true],
  ['key != "order-1"', false],
  ['json.amount > 100', true],
  ['json.amount >= 250 && json.amount <= 250', true],
  ['json.customer.tier == "gold"', true],
  ['json["customer"]["tier"] in ["gold", "platinum"]', true],
  ['json.tags contains "b"', true],
  ['json.tags[0] == "a"', true],
  ['json.missing == null', true],
  ['json.missing exists', false],
  ['headers.type == "refund" and not redelivered', false],
  ['headers["content-type"] startsWith "application/"', true],
  ['headers.trace exists', false],
  ['value contains "gold"', true],
  ['text matches "amount\\":\\s*2\\d\\d"', true],
  ['timestamp > "2026-10-31T00:00:00Z"', true],
  ['timestamp < "2026-10-31T00:00:00Z"', false],
  ['partition == 0 && position == "42"', true],
  ['position > 41', true],
  ['size > 10', true],
  ['deliveryCount >= 3 || false', true],
  ['reason contains "timeout" && attempts == 5 && origin == "orders"', true],
  ['properties.messageId == "m-1"', true],
  ['!(key == "order-1")', false],
  ['(key == "x" || key == "order-1") && json.amount == "250"', true],
  ['redelivered', true],
];

describe('compileFilter', () => {
  it.each(cases)('%s -> %s', (expression, expected) => {
    expect(compileFilter(expression)(message())).toBe(expected);
  });

  it('treats a non-JSON value as having no json fields', () => {
    const binary = message({ value: new Uint8Array([0xff, 0xfe, 0x00]) });
    expect(compileFilter('json.amount > 1')(binary)).toBe(false);
    expect(compileFilter('size == 3')(binary)).toBe(true);
  });

  it('does not read inherited properties of JSON objects', () => {
    expect(compileFilter('json.constructor exists')(message())).toBe(false);
    expect(compileFilter('json.__proto__ exists')(message())).toBe(false);
  });

  it.each([
    ['key ==', 'ends too early'],
    ['key = "a"', 'Unexpected character'],
    ['process.exit(1)', 'Unknown field "process"'],
    ['require("fs")', 'Unknown field "require"'],
    ['constructor.constructor("return 1")()', 'Unknown field'],
    ['key.length > 1', 'no sub-fields'],
    ['key in "a"', 'needs a list'],
    ['text matches "(a+)+$"', 'Nested quantifiers'],
    ['text matches "(a|a)*\\\\1"', 'Backreferences'],
    ['"unterminated', 'Unterminated string'],
    ['key == "a" )', 'after the end'],
    ['(' .repeat(40) + 'key' + ')'.repeat(40), 'Nesting deeper'],
    ['key == "' + 'x'.repeat(3000) + '"', 'longer than'],
  ])('rejects %s', (expression, fragment) => {
    expect(() => compileFilter(expression)).toThrow(FilterSyntaxError);
    expect(() => compileFilter(expression)).toThrow(fragment);
  });

  it('reports the position of a syntax error', () => {
    expect(validateFilter('key == "a" && ~')).toEqual({ ok: false, error: expect.stringContaining('Unexpected character') as string, position: 14 });
    expect(validateFilter('key == "a"')).toEqual({ ok: true });
  });
});
