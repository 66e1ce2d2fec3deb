import { describe, expect, it } from 'vitest';
import { utf8 } from '../src/bytes';
import type { DestinationFacts, IdentityFacts } from '../src/fitness/facts';
import { scoreFitness } from '../src/fitness/score';
import { Headers } from '../src/headers';
import type { ReceivedMessage } from '../src/message';
import { startStatsReporter, type ConsumerStatsReport } from '../src/patterns/consumer-stats';
import { idempotent } from '../src/patterns/idempotent';

const who = { connectionId: 'kafka', destination: 'orders', group: 'billing', consumer: 'host-1:42' };

function received(id: string | null): ReceivedMessage {
  return { topic: 'orders', id: `m-${id}`, partition: 0, deliveryCount: 1, key: null, value: utf8('v'), headers: id === null ? {} : { [Headers.messageId]: id }, timestamp: new Date(0) };
}

function identityOf(identity: IdentityFacts): DestinationFacts {
  return {
    destination: 'orders',
    isDeadLetter: false,
    consumed: true,
    deadLetter: { target: 'orders.DLT', reachable: true, via: 'naming convention' },
    ack: { delivered: 0, overdue: 0, oldestUnackedMs: null, source: 't' },
    identity,
    retry: null,
    monitoring: { rules: [], exported: false },
  };
}

const judge = (identity: IdentityFacts) => scoreFitness([identityOf(identity)]).criteria.find((c) => c.id === 'idempotent_consumers')!.destinations[0]!;

describe('consumer stats reporting', () => {
  it('reports the idempotent wrapper counters on flush and once more on stop', async () => {
    const sent: ConsumerStatsReport[] = [];
    const handler = idempotent(async () => undefined);
    const reporter = startStatsReporter({ who, stats: handler.stats, send: async (r) => void sent.push(r), intervalMs: 60_000 });
    for (const id of ['a', 'b', 'a', null]) await handler(received(id));
    await reporter.flush();
    await handler(received('b'));
    await reporter.stop();
    await reporter.stop();
    expect(sent.map(({ handled, duplicates, withoutIdentity }) => ({ handled, duplicates, withoutIdentity }))).toEqual([
      { handled: 3, duplicates: 1, withoutIdentity: 1 },
      { handled: 3, duplicates: 2, withoutIdentity: 1 },
    ]);
    expect(sent[0]).toMatchObject(who);
    expect(sent[0]!.since).toBe(sent[1]!.since);
  });

  it('keeps reporting after a failed send, handing the error to onError', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const reporter = startStatsReporter({
      who,
      stats: { handled: 1, duplicates: 0, withoutIdentity: 0 },
      send: async () => {
        calls++;
        if (calls === 1) throw new Error('mailroom unreachable');
      },
      onError: (e) => errors.push(e),
    });
    await reporter.flush();
    await reporter.stop();
    expect(calls).toBe(2);
    expect(errors.map((e) => (e as Error).message)).toEqual(['mailroom unreachable']);
  });

  it('refuses an interval that would flood the server', () => {
    expect(() => startStatsReporter({ who, stats: { handled: 0, duplicates: 0, withoutIdentity: 0 }, send: async () => undefined, intervalMs: 10 })).toThrow(RangeError);
  });
});

describe('idempotent_consumers with consumer reports', () => {
  const consumers = { reporting: 2, groups: ['billing'], groupsNotReporting: [], handled: 90, duplicates: 4, withoutIdentity: 0 };

  it('passes sampled duplicates that every consuming group deduplicates, and says so', () => {
    const r = judge({ sampled: 5, withIdentity: 5, duplicateIds: ['x'], consumers });
    expect(r.status).toBe('pass');
    expect(r.evidence).toBe('5 of 5 sampled messages carry an id; 1 ids seen twice (e.g. x), skipped by the idempotent consumers; 2 idempotent consumer(s) in group billing report 90 handled, 4 duplicate(s) skipped, 0 without an id');
  });

  it('fails duplicates a consuming group does not deduplicate, naming that group in the fix', () => {
    const r = judge({ sampled: 5, withIdentity: 5, duplicateIds: ['x'], consumers: { ...consumers, groupsNotReporting: ['audit'] } });
    expect(r.status).toBe('fail');
    expect(r.score).toBe(0.8);
    expect(r.evidence).toContain('group audit reports no deduplication');
    expect(r.fix).toBe("deduplicate by message id in group audit of orders (core's idempotent wrapper, reporting to Mailroom); find why producers send duplicates");
  });

  it('fails when consumers report duplicates that another consuming group does not deduplicate', () => {
    const r = judge({ sampled: 0, withIdentity: 0, duplicateIds: [], notSampled: 'not readable', consumers: { ...consumers, handled: 8, duplicates: 2, groupsNotReporting: ['audit'] } });
    expect(r).toMatchObject({ status: 'fail', score: 0.8 });
    expect(r.fix).toMatch(/^deduplicate by message id in group audit of orders/);
  });

  it('judges a destination that cannot be sampled from the reports alone', () => {
    const notSampled = 'sampling its messages would change them';
    expect(judge({ sampled: 0, withIdentity: 0, duplicateIds: [], notSampled, consumers: null })).toMatchObject({ status: 'unknown', evidence: notSampled });
    const missing = judge({ sampled: 0, withIdentity: 0, duplicateIds: [], notSampled, consumers: { ...consumers, reporting: 1, handled: 10, duplicates: 0, withoutIdentity: 4 } });
    expect(missing).toMatchObject({ status: 'fail', score: 0.6 });
    expect(missing.evidence).toBe(`not sampled (${notSampled}); 1 idempotent consumer(s) in group billing report 10 handled, 0 duplicate(s) skipped, 4 without an id`);
    expect(missing.fix).toMatch(/^producers to orders must set a message-id/);
    const fixed = judge({ sampled: 0, withIdentity: 0, duplicateIds: [], notSampled, consumers });
    expect(fixed).toMatchObject({ status: 'pass', score: 1, fix: null });
  });
});
