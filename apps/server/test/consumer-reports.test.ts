import { describe, expect, it } from 'vitest';
import type { ConsumerStatsReport } from '@mailroom/core';
import { ConsumerReports, TooManyConsumersError } from '../src/fitness/consumer-reports';

const report = (consumer: string, handled: number): ConsumerStatsReport => ({
  connectionId: 'c', destination: 'd', group: null, consumer, handled, duplicates: 1, withoutIdentity: 0, since: '2026-11-29T00:00:00Z',
});

describe('ConsumerReports', () => {
  it('forgets a consumer that went quiet for longer than the TTL', () => {
    let now = 0;
    const reports = new ConsumerReports(1_000, 10, () => now);
    reports.record(report('a', 5));
    now = 600;
    reports.record(report('b', 7));
    expect(reports.summaryFor('c', 'd')).toEqual({ reporting: 2, groups: [''], handled: 12, duplicates: 2, withoutIdentity: 0 });
    now = 1_200;
    expect(reports.summaryFor('c', 'd')).toEqual({ reporting: 1, groups: [''], handled: 7, duplicates: 1, withoutIdentity: 0 });
    now = 5_000;
    expect(reports.summaryFor('c', 'd')).toBeNull();
  });

  it('stays bounded: refuses a new consumer past capacity until old ones expire, still taking reports of known ones', () => {
    let now = 0;
    const reports = new ConsumerReports(1_000, 2, () => now);
    reports.record(report('a', 1));
    reports.record(report('b', 1));
    expect(() => reports.record(report('c', 1))).toThrow(TooManyConsumersError);
    reports.record(report('a', 2));
    expect(reports.summaryFor('c', 'd')?.handled).toBe(3);
    now = 2_000;
    reports.record(report('c', 1));
    expect(reports.summaryFor('c', 'd')).toMatchObject({ reporting: 1, handled: 1 });
  });
});
