/**
 * What the server gathers about one destination, through the generic admin contract, for
 * scoring. A fact that could not be measured is `{ unknown: reason }`, never a guess.
 */
export type Measured<T> = T | { unknown: string };

export function isUnknown<T extends object>(value: Measured<T>): value is { unknown: string } {
  return 'unknown' in value;
}

export interface AckFacts {
  /** Deliveries observed (in flight + acknowledged in the window the broker reports). */
  delivered: number;
  /** Delivered and still unacknowledged past the ack deadline. */
  overdue: number;
  oldestUnackedMs: number | null;
  /** Where the figures come from, for the evidence line. */
  source: string;
}

export interface IdentityFacts {
  sampled: number;
  withIdentity: number;
  /** Identities seen more than once in the sample. */
  duplicateIds: string[];
  /** Why nothing was sampled when messages exist (reads would have side effects); the consumers' reports may still judge it. */
  notSampled?: string;
  /** What consumers built on core's idempotent wrapper report for this destination; null when none does. */
  consumers: ConsumerDedupeFacts | null;
}

export interface ConsumerDedupeFacts {
  /** Consumer instances whose latest report is fresh. */
  reporting: number;
  /** Groups they belong to ("" for a destination without groups). */
  groups: string[];
  /** Groups consuming the destination that no idempotent consumer reports for: their duplicates go unchecked. */
  groupsNotReporting: string[];
  handled: number;
  duplicates: number;
  withoutIdentity: number;
}

export interface RetryFacts {
  /** Dead letters (or failed deliveries) examined. */
  failures: number;
  /** Of those, retried more than once with non-decreasing, growing delays. */
  retriedWithBackoff: number;
  /** Short descriptions of failures that were not retried with backoff. */
  counterExamples: string[];
  /** How the failures were judged when not one by one (e.g. from the retry topology), for the evidence line. */
  basis?: string;
  /** The destination's retry stages, when it has any: described, and whether their delays grow. */
  stages?: { description: string; grow: boolean; why: string };
}

export interface DestinationFacts {
  destination: string;
  isDeadLetter: boolean;
  /** The destination this one is a retry stage of (its messages wait here and go back); null otherwise. */
  retryStageOf?: string | null;
  /** Has consumers or consumer groups: it carries work someone processes. */
  consumed: boolean;
  deadLetter: {
    target: string | null;
    reachable: boolean;
    via: string | null;
    /** The DLQ name the broker's naming convention gives this destination, for the fix when there is none. */
    conventionalName?: string | null;
    /** Why an existing target cannot receive dead letters, and the fix (e.g. an exchange no queue is bound to). */
    unreachable?: { evidence: string; fix: string };
  };
  ack: Measured<AckFacts>;
  identity: Measured<IdentityFacts>;
  /** Null when no failure was observed: nothing to judge. */
  retry: Measured<RetryFacts> | null;
  monitoring: { rules: string[]; exported: boolean };
}

/** Broker-specific wording of the fix, declared by the adapter (e.g. "set x-dead-letter-exchange"). */
export interface FitnessHints {
  deadLetter?: string;
  acknowledgment?: string;
  identity?: string;
  retry?: string;
}
