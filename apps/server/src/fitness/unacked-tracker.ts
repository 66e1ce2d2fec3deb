/** One look at a destination's delivered-but-unacknowledged count. */
export interface UnackedObservation {
  at: number;
  inFlight: number;
  /** Acknowledgements per second the broker reported with it; null when it does not count them. */
  ackRate: number | null;
}

/** What can be said about unacknowledged messages that were already there `deadlineMs` ago. */
export type UnackedVerdict =
  | { kind: 'overdue'; overdue: number; heldSince: number; unackedThen: number; acknowledgedSince: number; observations: number }
  | { kind: 'too-short'; watchedMs: number }
  | { kind: 'acks-unknown' }
  | { kind: 'acks-flowing'; unackedThen: number; acknowledgedSince: number; watchedMs: number };

/**
 * Brokers such as RabbitMQ and SQS report how many messages are delivered and unacknowledged,
 * but not since when. Watching the count over time gives an honest lower bound: of the U
 * messages unacknowledged at time t (at least `deadline` ago, with the count never at 0 since),
 * at most A (acknowledgements counted since t) can have been acknowledged, so at least
 * min(U − A, unacked now) are still unacknowledged after more than the deadline.
 */
export class UnackedTracker {
  /** connection → destination → observations of the current run of non-zero counts, oldest first. */
  private readonly runs = new Map<string, Map<string, UnackedObservation[]>>();

  constructor(private readonly keepMs: () => number) {}

  observe(connection: string, destination: string, observation: UnackedObservation): void {
    let byDestination = this.runs.get(connection);
    if (!byDestination) this.runs.set(connection, (byDestination = new Map()));
    if (observation.inFlight <= 0) {
      byDestination.delete(destination);
      return;
    }
    const run = byDestination.get(destination) ?? [];
    const last = run[run.length - 1];
    if (last && observation.at <= last.at) return;
    run.push(observation);
    // Keep what a verdict can use: everything within the window, plus the newest one before it.
    const horizon = observation.at - this.keepMs();
    let firstKept = 0;
    while (firstKept + 1 < run.length && (run[firstKept + 1] as UnackedObservation).at <= horizon) firstKept++;
    byDestination.set(destination, firstKept > 0 ? run.slice(firstKept) : run);
  }

  /** Forgets destinations that were not observed in the last look (deleted, out of scope). */
  retain(connection: string, destinations: Set<string>): void {
    const byDestination = this.runs.get(connection);
    if (!byDestination) return;
    for (const name of byDestination.keys()) if (!destinations.has(name)) byDestination.delete(name);
  }

  verdict(connection: string, destination: string, deadlineMs: number, now: number): UnackedVerdict {
    const run = this.runs.get(connection)?.get(destination) ?? [];
    const newest = run[run.length - 1];
    if (!newest) return { kind: 'too-short', watchedMs: 0 };
    // A broker that does not count acknowledgements never will: say so at once rather than after the deadline.
    if (newest.ackRate === null) return { kind: 'acks-unknown' };
    // The newest observation at least a deadline old is the tightest start.
    let start = -1;
    for (let i = run.length - 1; i >= 0; i--) {
      if (now - (run[i] as UnackedObservation).at >= deadlineMs) {
        start = i;
        break;
      }
    }
    if (start < 0 || start === run.length - 1) return { kind: 'too-short', watchedMs: now - (run[0] as UnackedObservation).at };
    const then = run[start] as UnackedObservation;
    let acknowledged = 0;
    for (let i = start + 1; i < run.length; i++) {
      const o = run[i] as UnackedObservation;
      if (o.ackRate === null) return { kind: 'acks-unknown' };
      // A rate reported at an observation stands for the interval before it.
      acknowledged += (o.ackRate * (o.at - (run[i - 1] as UnackedObservation).at)) / 1000;
    }
    const acknowledgedSince = Math.ceil(acknowledged);
    const overdue = Math.min(newest.inFlight, then.inFlight - acknowledgedSince);
    if (overdue > 0) {
      return { kind: 'overdue', overdue, heldSince: then.at, unackedThen: then.inFlight, acknowledgedSince, observations: run.length - start };
    }
    return { kind: 'acks-flowing', unackedThen: then.inFlight, acknowledgedSince, watchedMs: now - then.at };
  }
}
