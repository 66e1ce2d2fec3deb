import { describe, expect, it } from 'vitest';
import type { DeadLetterInfo, StoredMessage } from '../src/admin';
import { utf8 } from '../src/bytes';
import { retryFromDeadLetters, retryFromTopology } from '../src/fitness/evidence';
import type { DestinationFacts } from '../src/fitness/facts';
import { describeStages, findRetryChains, retryStageOrigin, stagesGrow } from '../src/fitness/retry-stages';
import { scoreFitness } from '../src/fitness/score';

const names = (...list: string[]) => list.map((name) => ({ name }));

function deadLetter(id: string, info: Partial<DeadLetterInfo>): StoredMessage {
  return {
    id, destination: 'orders.dlq', partition: null, position: null, key: null, value: utf8('x'), headers: {}, timestamp: new Date(0),
    deliveryCount: null, redelivered: null, properties: {},
    deadLetter: { origin: null, reason: null, attempts: null, failedAt: null, history: [], ...info },
  };
}

describe('findRetryChains', () => {
  it('reads delays from unit suffixes and orders the stages by them', () => {
    const chains = findRetryChains(names('orders', 'orders-retry-30s', 'orders-retry-500ms', 'orders-retry-2m', 'orders.DLT'));
    expect(chains.get('orders')?.stages).toEqual([
      { name: 'orders-retry-500ms', index: null, delayMs: 500 },
      { name: 'orders-retry-30s', index: null, delayMs: 30_000 },
      { name: 'orders-retry-2m', index: null, delayMs: 120_000 },
    ]);
    expect(stagesGrow(chains.get('orders')!.stages)).toEqual({ ok: true, why: 'orders-retry-500ms (500 ms) → orders-retry-30s (30 s) → orders-retry-2m (120 s)' });
  });

  it('takes plain numbers counting up from 0 or 1 as stage indices, other plain numbers as Spring-style delays in ms', () => {
    const indexed = findRetryChains(names('pay', 'pay.retry.2', 'pay.retry.1')).get('pay')!;
    expect(indexed.stages).toEqual([
      { name: 'pay.retry.1', index: 1, delayMs: null },
      { name: 'pay.retry.2', index: 2, delayMs: null },
    ]);
    expect(stagesGrow(indexed.stages).ok).toBe(false);
    expect(stagesGrow(indexed.stages).why).toMatch(/^the delays of pay\.retry\.1, pay\.retry\.2 are unknown/);
    const spring = findRetryChains(names('ship', 'ship-retry-1000', 'ship-retry-4000')).get('ship')!;
    expect(spring.stages.map((s) => s.delayMs)).toEqual([1000, 4000]);
  });

  it('prefers the delay the broker declares, keeps index order, and finds shrinking delays', () => {
    const chain = findRetryChains([{ name: 'w' }, { name: 'w_retry_1', deliveryDelayMs: 800 }, { name: 'w_retry_2', deliveryDelayMs: 200 }]).get('w')!;
    expect(chain.stages.map((s) => [s.name, s.delayMs])).toEqual([['w_retry_1', 800], ['w_retry_2', 200]]);
    expect(stagesGrow(chain.stages)).toEqual({ ok: false, why: 'the delays do not grow: w_retry_1 (800 ms) → w_retry_2 (200 ms)' });
  });

  it('ignores retry-looking names whose origin does not exist, and finds the origin of a stage', () => {
    const chains = findRetryChains(names('ghost-retry-1', 'a', 'a.retry', 'b.retry.dlq'));
    expect([...chains.keys()]).toEqual(['a']);
    expect(retryStageOrigin(chains, 'a.retry')).toBe('a');
    expect(retryStageOrigin(chains, 'ghost-retry-1')).toBeNull();
  });
});

describe('error_retry with retry stages', () => {
  const chain = { origin: 'orders', stages: [{ name: 'orders.retry.1', index: 1, delayMs: 200 }, { name: 'orders.retry.2', index: 2, delayMs: 800 }] };

  it('counts a dead letter that went through growing stages, and not one dead-lettered from the origin itself', () => {
    const facts = retryFromDeadLetters(
      [
        deadLetter('via-history', { origin: 'orders', history: [{ destination: 'orders', reason: 'rejected', count: 1, time: null }, { destination: 'orders.retry.2', reason: 'expired', count: 1, time: null }, { destination: 'orders.retry.1', reason: 'expired', count: 1, time: null }] }),
        deadLetter('from-last-stage', { origin: 'orders.retry.2' }),
        deadLetter('direct', { origin: 'orders' }),
      ],
      chain,
    );
    expect(facts).toEqual({
      failures: 3,
      retriedWithBackoff: 2,
      counterExamples: ['direct: dead-lettered from orders itself, not through its retry stages'],
      stages: { description: 'orders.retry.1 (200 ms) → orders.retry.2 (800 ms)', grow: true, why: 'orders.retry.1 (200 ms) → orders.retry.2 (800 ms)' },
    });
  });

  it('judges unread dead letters by the topology, and says so', () => {
    const grows = retryFromTopology(chain, 7, 'reads are destructive');
    expect(grows).toMatchObject({ failures: 7, retriedWithBackoff: 7, counterExamples: [] });
    expect(grows.basis).toBe('judged from the retry stages orders.retry.1 (200 ms) → orders.retry.2 (800 ms); the dead letters were not read: reads are destructive');
    const flat = retryFromTopology({ origin: 'orders', stages: [{ name: 'orders.retry.1', index: 1, delayMs: 500 }, { name: 'orders.retry.2', index: 2, delayMs: 500 }] }, 4, 'x');
    expect(flat).toMatchObject({ failures: 4, retriedWithBackoff: 0 });
    expect(describeStages(chain.stages)).toBe('orders.retry.1 (200 ms) → orders.retry.2 (800 ms)');
  });

  it('fails with a fix naming the stages when their delays do not grow, and leaves the stages themselves to their origin', () => {
    const base: Omit<DestinationFacts, 'destination'> = {
      isDeadLetter: false,
      consumed: true,
      deadLetter: { target: 'orders.dlq', reachable: true, via: 'x-dead-letter-exchange' },
      ack: { delivered: 0, overdue: 0, oldestUnackedMs: null, source: 't' },
      identity: { sampled: 0, withIdentity: 0, duplicateIds: [], consumers: null },
      retry: null,
      monitoring: { rules: [], exported: false },
    };
    const flat = { origin: 'orders', stages: [{ name: 'orders.retry.1', index: 1, delayMs: 500 }, { name: 'orders.retry.2', index: 2, delayMs: 500 }] };
    const report = scoreFitness([
      { ...base, destination: 'orders', retry: retryFromTopology(flat, 4, 'reads are destructive') },
      { ...base, destination: 'orders.retry.1', retryStageOf: 'orders', deadLetter: { target: null, reachable: false, via: null } },
    ]);
    const retry = report.criteria.find((c) => c.id === 'error_retry')!;
    expect(retry.destinations[0]).toMatchObject({ status: 'fail', score: 0 });
    expect(retry.destinations[0]!.fix).toBe('make the retry stages of orders wait longer each time, and send failures through them before dead-lettering: the delays do not grow: orders.retry.1 (500 ms) → orders.retry.2 (500 ms)');
    expect(retry.destinations[1]).toMatchObject({ status: 'not-applicable', evidence: 'is a retry stage of orders: judged with it' });
    const dl = report.criteria.find((c) => c.id === 'dead_letter_handling')!;
    expect(dl.destinations[1]).toMatchObject({ status: 'not-applicable', evidence: 'is a retry stage of orders: its messages go back to it' });
  });

  it('does not count the failures of a retry stage (judged with its origin) in the overall share', () => {
    const base: Omit<DestinationFacts, 'destination' | 'retry'> = {
      isDeadLetter: false,
      consumed: true,
      deadLetter: { target: 'orders.dlq', reachable: true, via: 'x' },
      ack: { delivered: 0, overdue: 0, oldestUnackedMs: null, source: 't' },
      identity: { sampled: 0, withIdentity: 0, duplicateIds: [], consumers: null },
      monitoring: { rules: [], exported: false },
    };
    const report = scoreFitness([
      { ...base, destination: 'orders', retry: retryFromTopology(chain, 4, 'reads are destructive') },
      { ...base, destination: 'orders.retry.2', retryStageOf: 'orders', retry: { failures: 4, retriedWithBackoff: 0, counterExamples: [] } },
    ]);
    expect(report.criteria.find((c) => c.id === 'error_retry')).toMatchObject({ status: 'pass', score: 1 });
  });
});
