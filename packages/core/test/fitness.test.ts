import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '../src/admin';
import { utf8 } from '../src/bytes';
import type { DestinationFacts } from '../src/fitness/facts';
import { identityFromSample, retryFromDeadLetters } from '../src/fitness/evidence';
import { scoreFitness } from '../src/fitness/score';
import { Headers } from '../src/headers';

function facts(overrides: Partial<DestinationFacts> & { destination: string }): DestinationFacts {
  return {
    isDeadLetter: false,
    consumed: true,
    deadLetter: { target: `${overrides.destination}.dlq`, reachable: true, via: 'naming convention' },
    ack: { delivered: 10, overdue: 0, oldestUnackedMs: null, source: 'test' },
    identity: { sampled: 10, withIdentity: 10, duplicateIds: [], consumers: null },
    retry: null,
    monitoring: { rules: ['max lag 100'], exported: true },
    ...overrides,
  };
}

function stored(id: string, headers: Record<string, string>): StoredMessage {
  return {
    id, destination: 'd', partition: null, position: null, key: null, value: utf8('x'), headers, timestamp: new Date(0),
    deliveryCount: null, redelivered: null, deadLetter: null, properties: {},
  };
}

describe('scoreFitness', () => {
  it('passes a healthy setup on every criterion it can judge', () => {
    const report = scoreFitness([facts({ destination: 'orders' })]);
    const byId = Object.fromEntries(report.criteria.map((c) => [c.id, c]));
    expect(byId['message_acknowledgment']!.status).toBe('pass');
    expect(byId['dead_letter_handling']!.score).toBe(1);
    expect(byId['idempotent_consumers']!.status).toBe('pass');
    expect(byId['error_retry']!.status).toBe('unknown');
    expect(byId['monitoring']!.status).toBe('pass');
    expect(report.failing).toEqual([]);
  });

  it('names the destination without a DLQ and the fix, using the broker hint', () => {
    const report = scoreFitness(
      [facts({ destination: 'orders' }), facts({ destination: 'payments', deadLetter: { target: null, reachable: false, via: null } })],
      { deadLetter: 'set x-dead-letter-exchange on {destination}' },
    );
    const dlq = report.criteria.find((c) => c.id === 'dead_letter_handling')!;
    expect(dlq.score).toBe(0.5);
    expect(dlq.status).toBe('fail');
    expect(report.failing).toEqual([{ criterion: 'dead_letter_handling', destination: 'payments', fix: 'set x-dead-letter-exchange on payments' }]);
  });

  it('weights acknowledgment by message counts and reports unknown, never a pass, when nothing is measurable', () => {
    const report = scoreFitness([
      facts({ destination: 'a', ack: { delivered: 90, overdue: 0, oldestUnackedMs: null, source: 't' } }),
      facts({ destination: 'b', ack: { delivered: 10, overdue: 5, oldestUnackedMs: 60_000, source: 't' } }),
    ]);
    expect(report.criteria.find((c) => c.id === 'message_acknowledgment')!.score).toBeCloseTo(0.95);
    const unknown = scoreFitness([facts({ destination: 'a', ack: { unknown: 'the broker does not report unacked ages' } })]);
    const ack = unknown.criteria.find((c) => c.id === 'message_acknowledgment')!;
    expect(ack.status).toBe('unknown');
    expect(ack.score).toBeNull();
    expect(ack.summary).toContain('does not report unacked ages');
  });

  it('does not judge DLQs for dead-letter handling or destinations without consumers', () => {
    const report = scoreFitness([
      facts({ destination: 'orders.dlq', isDeadLetter: true, deadLetter: { target: null, reachable: false, via: null } }),
      facts({ destination: 'idle', consumed: false, deadLetter: { target: null, reachable: false, via: null } }),
    ]);
    expect(report.criteria.find((c) => c.id === 'dead_letter_handling')!.status).toBe('unknown');
  });

  it('fills {destination} into every hint, and takes hints per destination', () => {
    const report = scoreFitness(
      [
        facts({ destination: 'a', identity: { sampled: 2, withIdentity: 1, duplicateIds: [], consumers: null } }),
        facts({ destination: 'b', deadLetter: { target: null, reachable: false, via: null }, ack: { delivered: 2, overdue: 1, oldestUnackedMs: 5_000, source: 't' } }),
      ],
      (f) => (f.destination === 'a' ? { identity: 'set a message id on {destination} ({destination})' } : { deadLetter: 'x-dlx on {destination}', acknowledgment: 'ack {destination}' }),
    );
    expect(report.failing).toEqual([
      { criterion: 'message_acknowledgment', destination: 'b', fix: 'ack b' },
      { criterion: 'dead_letter_handling', destination: 'b', fix: 'x-dlx on b' },
      { criterion: 'idempotent_consumers', destination: 'a', fix: 'set a message id on a (a)' },
    ]);
  });

  it('without a broker hint, names the conventional DLQ to create', () => {
    const report = scoreFitness([facts({ destination: 'orders', deadLetter: { target: null, reachable: false, via: null, conventionalName: 'orders.DLT' } })]);
    expect(report.failing).toEqual([
      {
        criterion: 'dead_letter_handling',
        destination: 'orders',
        fix: "create orders.DLT (the dead-letter naming convention) and have the consumers of orders dead-letter failed messages there, e.g. with core's handleWithRetry",
      },
    ]);
  });

  it('explains a dead-letter target that exists but cannot receive, and monitoring without exported metrics', () => {
    const report = scoreFitness([
      facts({
        destination: 'orders',
        deadLetter: { target: 'dlx', reachable: false, via: 'policy p', unreachable: { evidence: 'exchange dlx routes to no queue', fix: 'bind a queue to dlx' } },
        monitoring: { rules: ['lag ≤ 5'], exported: false },
      }),
    ]);
    const dl = report.criteria.find((c) => c.id === 'dead_letter_handling')!.destinations[0]!;
    expect(dl).toMatchObject({ status: 'fail', evidence: 'exchange dlx routes to no queue', fix: 'bind a queue to dlx' });
    const mon = report.criteria.find((c) => c.id === 'monitoring')!.destinations[0]!;
    expect(mon.status).toBe('fail');
    expect(mon.fix).toContain('not exported');
  });

  it('passes error_retry at 90% and fails below', () => {
    const at = (retried: number) =>
      scoreFitness([facts({ destination: 'o', retry: { failures: 10, retriedWithBackoff: retried, counterExamples: [] } })]).criteria.find(
        (c) => c.id === 'error_retry',
      )!.status;
    expect(at(9)).toBe('pass');
    expect(at(8)).toBe('fail');
  });
});

describe('evidence', () => {
  it('finds identities and duplicates in a sample', () => {
    const sample = [
      stored('1', { [Headers.messageId]: 'a' }),
      stored('2', { [Headers.messageId]: 'a' }),
      stored('3', { [Headers.idempotencyKey]: 'b' }),
      stored('4', {}),
    ];
    expect(identityFromSample(sample)).toEqual({ sampled: 4, withIdentity: 3, duplicateIds: ['a'], consumers: null });
  });

  it('accepts only growing recorded delays as backoff', () => {
    const history = (delays: number[]) =>
      JSON.stringify(delays.map((delayMs, i) => ({ attempt: i + 1, at: '2026-01-01T00:00:00Z', error: 'e', delayMs })));
    const facts = retryFromDeadLetters([
      stored('grow', { [Headers.retryHistory]: history([100, 200, 400, 0]) }),
      stored('flat', { [Headers.retryHistory]: history([100, 100, 0]) }),
      stored('once', { [Headers.retryHistory]: history([0]) }),
      stored('none', {}),
    ]);
    expect(facts.failures).toBe(4);
    expect(facts.retriedWithBackoff).toBe(1);
    expect(facts.counterExamples).toHaveLength(3);
  });
});
