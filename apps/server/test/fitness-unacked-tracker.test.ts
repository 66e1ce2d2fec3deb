import { describe, expect, it } from 'vitest';
import { UnackedTracker } from '../src/fitness/unacked-tracker';

describe('UnackedTracker (ages of unacknowledged messages from counts over time)', () => {
  const deadline = 1_000;

  it('needs a deadline of watching before it says anything', () => {
    const t = new UnackedTracker(() => deadline);
    t.observe('c', 'q', { at: 0, inFlight: 3, ackRate: 0 });
    t.observe('c', 'q', { at: 400, inFlight: 3, ackRate: 0 });
    expect(t.verdict('c', 'q', deadline, 400)).toEqual({ kind: 'too-short', watchedMs: 400 });
  });

  it('counts messages held past the deadline with no acknowledgement meanwhile as overdue', () => {
    const t = new UnackedTracker(() => deadline);
    t.observe('c', 'q', { at: 0, inFlight: 3, ackRate: 0 });
    t.observe('c', 'q', { at: 600, inFlight: 5, ackRate: 0 });
    t.observe('c', 'q', { at: 1_200, inFlight: 5, ackRate: 0 });
    expect(t.verdict('c', 'q', deadline, 1_200)).toEqual({ kind: 'overdue', overdue: 3, heldSince: 0, unackedThen: 3, acknowledgedSince: 0, observations: 3 });
  });

  it('subtracts acknowledgements counted since, and gives up when they cover what was unacknowledged', () => {
    const t = new UnackedTracker(() => deadline);
    t.observe('c', 'q', { at: 0, inFlight: 10, ackRate: 0 });
    t.observe('c', 'q', { at: 1_000, inFlight: 10, ackRate: 4 });
    expect(t.verdict('c', 'q', deadline, 1_000)).toMatchObject({ kind: 'overdue', overdue: 6, acknowledgedSince: 4 });
    t.observe('c', 'q', { at: 2_000, inFlight: 10, ackRate: 20 });
    expect(t.verdict('c', 'q', deadline, 2_000)).toEqual({ kind: 'acks-flowing', unackedThen: 10, acknowledgedSince: 20, watchedMs: 1_000 });
  });

  it('starts over when the count reaches 0, and cannot judge without acknowledgement counts', () => {
    const t = new UnackedTracker(() => deadline);
    t.observe('c', 'q', { at: 0, inFlight: 2, ackRate: 0 });
    t.observe('c', 'q', { at: 500, inFlight: 0, ackRate: 0 });
    t.observe('c', 'q', { at: 900, inFlight: 2, ackRate: 0 });
    t.observe('c', 'q', { at: 1_500, inFlight: 2, ackRate: 0 });
    expect(t.verdict('c', 'q', deadline, 1_500)).toEqual({ kind: 'too-short', watchedMs: 600 });
    t.observe('c', 's', { at: 0, inFlight: 2, ackRate: null });
    expect(t.verdict('c', 's', deadline, 0)).toEqual({ kind: 'acks-unknown' });
    t.observe('c', 's', { at: 2_000, inFlight: 2, ackRate: null });
    expect(t.verdict('c', 's', deadline, 2_000)).toEqual({ kind: 'acks-unknown' });
  });

  it('keeps only what a verdict can use', () => {
    const t = new UnackedTracker(() => deadline);
    for (let at = 0; at <= 100_000; at += 100) t.observe('c', 'q', { at, inFlight: 1, ackRate: 0 });
    const verdict = t.verdict('c', 'q', deadline, 100_000);
    expect(verdict).toMatchObject({ kind: 'overdue', heldSince: 99_000, observations: 11 });
  });
});
