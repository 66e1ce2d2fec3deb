import { describe, expect, it } from 'vitest';
import { formatNumber, median, percentile, perSecond } from '../src/stats';

describe('percentile (nearest rank)', () => {
  const values = [15, 20, 35, 40, 50];

  it('picks the nearest-rank element', () => {
    expect(percentile(values, 30)).toBe(20);
    expect(percentile(values, 40)).toBe(20);
    expect(percentile(values, 50)).toBe(35);
    expect(percentile(values, 100)).toBe(50);
    expect(percentile(values, 0)).toBe(15);
  });

  it('p99 of 1..1000 is 990, and it does not reorder the input', () => {
    const input = Array.from({ length: 1000 }, (_, i) => 1000 - i);
    expect(percentile(input, 99)).toBe(990);
    expect(input[0]).toBe(1000);
  });

  it('is NaN for no values', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(median([])).toBeNaN();
  });
});

describe('rates and formatting', () => {
  it('per second', () => {
    expect(perSecond(500, 250)).toBe(2000);
    expect(perSecond(10, 0)).toBe(0);
  });

  it('formats with grouping and a dash for missing values', () => {
    expect(formatNumber(1234567)).toBe('1,234,567');
    expect(formatNumber(12.345, 1)).toBe('12.3');
    expect(formatNumber(null)).toBe('—');
    expect(formatNumber(Number.NaN)).toBe('—');
  });
});
