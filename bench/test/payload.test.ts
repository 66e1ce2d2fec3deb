import { describe, expect, it } from 'vitest';
import { NEEDLE, VALUE_BYTES, isNeedle, messageValue, rawMatches, sentAtOf } from '../src/payload';

describe('benchmark messages', () => {
  it('are exactly VALUE_BYTES of JSON', () => {
    for (const n of [0, 7, 123_456, 999_999]) {
      const value = messageValue(n, { needleEvery: 1000, sentAt: 1_790_000_000_123.25 });
      expect(Buffer.byteLength(value)).toBe(VALUE_BYTES);
      expect((JSON.parse(value) as { n: number }).n).toBe(n);
    }
  });

  it('mark one in needleEvery as the needle, which rawMatches finds', () => {
    const kinds = Array.from({ length: 3000 }, (_, n) => (JSON.parse(messageValue(n, { needleEvery: 1000 })) as { kind: string }).kind);
    expect(kinds.filter((k) => k === NEEDLE)).toHaveLength(3);
    expect(isNeedle(999, 1000)).toBe(true);
    expect(isNeedle(1000, 1000)).toBe(false);
    expect(rawMatches(Buffer.from(messageValue(999, { needleEvery: 1000 })))).toBe(true);
    expect(rawMatches(messageValue(998, { needleEvery: 1000 }))).toBe(false);
    expect(rawMatches(Buffer.from([0xff, 0x00]))).toBe(false);
    expect(rawMatches(null)).toBe(false);
  });

  it('carry the send time, negative for probes', () => {
    expect(sentAtOf(messageValue(1, { sentAt: 1_790_000_000_123.25 }))).toBe(1_790_000_000_123.25);
    expect(sentAtOf(messageValue(-1, { sentAt: -1 }))).toBe(-1);
    expect(sentAtOf('{"other":1}')).toBeNull();
  });
});
