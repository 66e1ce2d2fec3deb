import { describe, expect, it } from 'vitest';
import { CASE_NAMES, defineConformanceSuite } from '../src';
import { duplicatesOf, expectBytes, newRunId, pseudoRandomBytes } from '../src/helpers';

describe('conformance helpers', () => {
  it('run ids and case names only use characters valid on every broker', () => {
    for (let i = 0; i < 50; i++) expect(newRunId()).toMatch(/^[a-z0-9]{9,14}$/);
    for (const name of CASE_NAMES) expect(name).toMatch(/^[a-z0-9-]+$/);
    const longest = `mr-conf-${newRunId()}-${[...CASE_NAMES].sort((a, b) => b.length - a.length)[0]}-origin-dlq`;
    expect(longest.length).toBeLessThanOrEqual(80);
  });

  it('pseudo-random bytes are deterministic per seed and cover the byte range', () => {
    const a = pseudoRandomBytes(4096, 7);
    expect(Array.from(a)).toEqual(Array.from(pseudoRandomBytes(4096, 7)));
    expect(Array.from(a)).not.toEqual(Array.from(pseudoRandomBytes(4096, 8)));
    expect(new Set(a).size).toBe(256);
  });

  it('expectBytes names the first differing index instead of diffing megabytes', () => {
    expect(() => expectBytes(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]), 'same')).not.toThrow();
    expect(() => expectBytes(new Uint8Array([1, 2, 9, 4]), new Uint8Array([1, 2, 3, 4]), 'v')).toThrow(/first difference at index 2/);
    expect(() => expectBytes(new Uint8Array([1]), new Uint8Array([1, 2]), 'short')).toThrow(/expected 2 bytes, got 1/);
  });

  it('duplicatesOf lists repeated ids', () => {
    expect(duplicatesOf(['a', 'b', 'a', 'c', 'b'])).toEqual(['a', 'b']);
  });

  it('refuses skip entries that name no case', () => {
    expect(() =>
      defineConformanceSuite({
        name: 'x',
        createAdapter: () => {
          throw new Error('unused');
        },
        createUnreachableAdapter: () => {
          throw new Error('unused');
        },
        skip: { 'no-such-case': 'typo' } as never,
      }),
    ).toThrow(/unknown case names in skip: no-such-case/);
  });
});
