import { describe, expect, it } from 'vitest';
import { headerCount, headerDate, mailroomDeadLetterHeaders, retryHistoryEntries } from '../src/dead-letter-headers';
import { Headers } from '../src/headers';

describe("Mailroom's dead-letter headers", () => {
  it('reads origin, reason, attempts, time and retry history, each null or empty when absent or malformed', () => {
    const history = JSON.stringify([{ attempt: 1, at: '2026-11-29T01:00:00.000Z', error: 'timeout', delayMs: 100 }, { attempt: 2, at: 'not a time', error: 'timeout', delayMs: 0 }]);
    const h = mailroomDeadLetterHeaders({
      [Headers.deadLetterOrigin]: 'orders',
      [Headers.deadLetterReason]: 'timeout',
      [Headers.deadLetterAttempts]: '2',
      [Headers.deadLetterFailedAt]: '1764378000000',
      [Headers.retryHistory]: history,
    });
    expect(h).toMatchObject({ origin: 'orders', reason: 'timeout', attempts: 2, failedAt: new Date(1764378000000) });
    expect(retryHistoryEntries(h.retries, 'orders')).toEqual([
      { destination: 'orders', reason: 'timeout', count: 1, time: new Date('2026-11-29T01:00:00.000Z') },
      { destination: 'orders', reason: 'timeout', count: 1, time: null },
    ]);
    expect(mailroomDeadLetterHeaders({ [Headers.deadLetterAttempts]: '2.5', [Headers.deadLetterFailedAt]: 'soon' })).toEqual({ origin: null, reason: null, attempts: null, failedAt: null, retries: [] });
  });

  it('parses counts strictly and times as ISO or epoch milliseconds', () => {
    expect([headerCount('07'), headerCount('-1'), headerCount(''), headerCount(undefined)]).toEqual([7, null, null, null]);
    expect(headerDate('2026-11-29T00:00:00Z')?.toISOString()).toBe('2026-11-29T00:00:00.000Z');
    expect(headerDate('0')?.toISOString()).toBe('1970-01-01T00:00:00.000Z');
    expect([headerDate(''), headerDate('yesterday')]).toEqual([null, null]);
  });
});
