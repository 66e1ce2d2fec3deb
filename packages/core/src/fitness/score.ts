import { CRITERIA, type Criterion, type CriterionId } from './criteria';
import { isUnknown, type ConsumerDedupeFacts, type DestinationFacts, type FitnessHints } from './facts';

export type FitnessStatus = 'pass' | 'fail' | 'unknown';

export interface DestinationResult {
  destination: string;
  status: FitnessStatus | 'not-applicable';
  /** 0..1, null when unknown or not applicable. */
  score: number | null;
  evidence: string;
  /** What to change so it passes; null when it passes. */
  fix: string | null;
}

export interface CriterionScore {
  id: CriterionId;
  title: string;
  threshold: number;
  score: number | null;
  status: FitnessStatus;
  summary: string;
  destinations: DestinationResult[];
}

export interface FitnessReport {
  criteria: CriterionScore[];
  /** Every destination that fails a criterion, with the fix: the operator's to-do list. */
  failing: { criterion: CriterionId; destination: string; fix: string }[];
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

/** A hint's `{destination}` placeholders filled in, so every fix names what to change. */
function hinted(hint: string | undefined, destination: string): string | undefined {
  return hint?.replaceAll('{destination}', destination);
}

function na(destination: string, evidence: string): DestinationResult {
  return { destination, status: 'not-applicable', score: null, evidence, fix: null };
}

function judged(destination: string, score: number, threshold: number, evidence: string, fix: string): DestinationResult {
  const pass = score >= threshold;
  return { destination, status: pass ? 'pass' : 'fail', score, evidence, fix: pass ? null : fix };
}

function ackResult(f: DestinationFacts, c: Criterion, hints: FitnessHints): DestinationResult {
  if (!f.consumed) return na(f.destination, 'no consumers: nothing is delivered');
  if (isUnknown(f.ack)) return { destination: f.destination, status: 'unknown', score: null, evidence: f.ack.unknown, fix: null };
  const { delivered, overdue, oldestUnackedMs, source } = f.ack;
  if (delivered === 0) return { destination: f.destination, status: 'pass', score: 1, evidence: `nothing delivered and unacknowledged (${source})`, fix: null };
  const oldest = oldestUnackedMs === null ? '' : `, oldest unacked ${Math.round(oldestUnackedMs / 1000)} s`;
  return judged(
    f.destination,
    (delivered - overdue) / delivered,
    c.threshold,
    `${overdue} of ${delivered} delivered messages unacknowledged past the deadline${oldest} (${source})`,
    hinted(hints.acknowledgment, f.destination) ?? `consumers of ${f.destination} must acknowledge (commit) each message after processing it, within the ack deadline`,
  );
}

function deadLetterResult(f: DestinationFacts, c: Criterion, hints: FitnessHints): DestinationResult {
  if (f.isDeadLetter) return na(f.destination, 'is itself a dead-letter queue');
  if (f.retryStageOf) return na(f.destination, `is a retry stage of ${f.retryStageOf}: its messages go back to it`);
  if (!f.consumed) return na(f.destination, 'no consumers: not a work destination');
  const { target, reachable, via, unreachable } = f.deadLetter;
  if (target !== null && reachable) return judged(f.destination, 1, c.threshold, `dead letters go to ${target} (${via ?? 'configured'})`, '');
  if (target !== null && unreachable) return judged(f.destination, 0, c.threshold, unreachable.evidence, unreachable.fix);
  const evidence = target === null ? 'no dead-letter queue configured' : `dead-letter target ${target} does not exist`;
  const conventional = f.deadLetter.conventionalName;
  const generic = conventional
    ? `create ${conventional} (the dead-letter naming convention) and have the consumers of ${f.destination} dead-letter failed messages there, e.g. with core's handleWithRetry`
    : `configure a dead-letter queue for ${f.destination}`;
  const fix = target === null ? (hinted(hints.deadLetter, f.destination) ?? generic) : `create ${target}, the dead-letter target of ${f.destination}`;
  return judged(f.destination, 0, c.threshold, evidence, fix);
}

function consumersText(c: ConsumerDedupeFacts): string {
  const groups = c.groups.filter((g) => g !== '');
  const of = groups.length > 0 ? ` in group${groups.length > 1 ? 's' : ''} ${groups.join(', ')}` : '';
  const silent = c.groupsNotReporting.length > 0 ? `; group${c.groupsNotReporting.length > 1 ? 's' : ''} ${c.groupsNotReporting.join(', ')} report${c.groupsNotReporting.length > 1 ? '' : 's'} no deduplication` : '';
  return `${c.reporting} idempotent consumer(s)${of} report ${c.handled} handled, ${c.duplicates} duplicate(s) skipped, ${c.withoutIdentity} without an id${silent}`;
}

function identityResult(f: DestinationFacts, c: Criterion, hints: FitnessHints): DestinationResult {
  if (f.isDeadLetter) return na(f.destination, 'is a dead-letter queue');
  if (isUnknown(f.identity)) return { destination: f.destination, status: 'unknown', score: null, evidence: f.identity.unknown, fix: null };
  const { sampled, withIdentity, duplicateIds, consumers, notSampled } = f.identity;
  const reported = consumers === null ? 0 : consumers.handled + consumers.duplicates;
  if (sampled === 0 && reported === 0) {
    if (notSampled !== undefined) return { destination: f.destination, status: 'unknown', score: null, evidence: notSampled, fix: null };
    return na(f.destination, 'no messages to sample');
  }
  // Duplicates in the sample are handled when every group consuming it deduplicates (and says so).
  const deduplicated = consumers !== null && consumers.reporting > 0 && consumers.groupsNotReporting.length === 0;
  const sampleShare = sampled > 0 ? withIdentity / sampled : 1;
  const reportShare = reported > 0 && consumers !== null ? (reported - consumers.withoutIdentity) / reported : 1;
  const duplicateShare = duplicateIds.length > 0 && !deduplicated ? 1 - duplicateIds.length / sampled : 1;
  const silentGroups = consumers?.groupsNotReporting ?? [];
  // Duplicates one group skipped reach the groups that do not deduplicate too.
  const reportedDuplicateShare = consumers !== null && consumers.duplicates > 0 && silentGroups.length > 0 ? 1 - consumers.duplicates / reported : 1;
  const score = Math.min(sampleShare, reportShare, duplicateShare, reportedDuplicateShare);
  const parts: string[] = [];
  if (sampled > 0) {
    const dupes = duplicateIds.length > 0 ? `; ${duplicateIds.length} ids seen twice (e.g. ${duplicateIds.slice(0, 3).join(', ')})${deduplicated ? ', skipped by the idempotent consumers' : ''}` : '';
    parts.push(`${withIdentity} of ${sampled} sampled messages carry an id${dupes}`);
  } else if (notSampled !== undefined) {
    parts.push(`not sampled (${notSampled})`);
  }
  if (consumers !== null) parts.push(consumersText(consumers));
  const missingIds = sampleShare < 1 || reportShare < 1;
  const fix = missingIds
    ? (hinted(hints.identity, f.destination) ?? `producers to ${f.destination} must set a message-id (or idempotency-key) header on every message`)
    : silentGroups.length > 0
      ? `deduplicate by message id in group${silentGroups.length > 1 ? 's' : ''} ${silentGroups.join(', ')} of ${f.destination} (core's idempotent wrapper, reporting to Mailroom); find why producers send duplicates`
      : `deduplicate by message id in the consumers of ${f.destination} (e.g. core's idempotent wrapper); find why producers send duplicates`;
  return judged(f.destination, score, c.threshold, parts.join('; '), fix);
}

function retryResult(f: DestinationFacts, c: Criterion, hints: FitnessHints): DestinationResult {
  if (f.retryStageOf) return na(f.destination, `is a retry stage of ${f.retryStageOf}: judged with it`);
  if (f.retry === null) return na(f.destination, 'no failed deliveries observed');
  if (isUnknown(f.retry)) return { destination: f.destination, status: 'unknown', score: null, evidence: f.retry.unknown, fix: null };
  const { failures, retriedWithBackoff, counterExamples, basis, stages } = f.retry;
  if (failures === 0) return na(f.destination, 'no failed deliveries observed');
  const examples = counterExamples.length > 0 ? `; e.g. ${counterExamples.slice(0, 2).join('; ')}` : '';
  const how = basis !== undefined ? ` (${basis})` : '';
  const fix =
    stages !== undefined && !stages.grow
      ? `make the retry stages of ${f.destination} wait longer each time, and send failures through them before dead-lettering: ${stages.why}`
      : (hinted(hints.retry, f.destination) ?? `retry failures of ${f.destination} with exponential backoff and jitter before dead-lettering (e.g. core's handleWithRetry)`);
  return judged(f.destination, retriedWithBackoff / failures, c.threshold, `${retriedWithBackoff} of ${failures} failed messages were retried with growing delays before dead-lettering${examples}${how}`, fix);
}

function monitoringResult(f: DestinationFacts, c: Criterion): DestinationResult {
  const { rules, exported } = f.monitoring;
  const covered = rules.length > 0 && exported;
  const evidence = rules.length > 0 ? `alert rules: ${rules.join(', ')}; metrics ${exported ? 'exported on /metrics' : 'not exported'}` : 'no alert rule covers it';
  const fix =
    rules.length > 0
      ? `metrics of ${f.destination} are not exported on /metrics: check that the broker reports metrics for it (a destination that stores nothing, e.g. an exchange, has none)`
      : `add an alert rule for ${f.destination} (max lag, max DLQ depth or max unacked age) to the config file`;
  return judged(f.destination, covered ? 1 : 0, c.threshold, evidence, fix);
}

type Scorer = (f: DestinationFacts, c: Criterion, hints: FitnessHints) => DestinationResult;

/** One set of hints for every destination, or per destination (e.g. an overall report over several brokers). */
export type HintSource = FitnessHints | ((facts: DestinationFacts) => FitnessHints);

const SCORERS: Record<CriterionId, Scorer> = {
  message_acknowledgment: ackResult,
  dead_letter_handling: deadLetterResult,
  idempotent_consumers: identityResult,
  error_retry: retryResult,
  monitoring: monitoringResult,
};

/** Aggregates per-destination results; count-weighted for ack and retry, destination share otherwise. */
function aggregate(c: Criterion, facts: DestinationFacts[], results: DestinationResult[]): Pick<CriterionScore, 'score' | 'status' | 'summary'> {
  const judgedResults = results.filter((r) => r.status === 'pass' || r.status === 'fail');
  const unknown = results.filter((r) => r.status === 'unknown');
  if (judgedResults.length === 0) {
    if (unknown.length > 0) {
      return { score: null, status: 'unknown', summary: `could not be measured: ${unknown[0]?.evidence ?? 'no data'}${unknown.length > 1 ? ` (and ${unknown.length - 1} more)` : ''}` };
    }
    return { score: null, status: 'unknown', summary: 'no destination this criterion applies to' };
  }
  let score: number;
  if (c.id === 'message_acknowledgment' || c.id === 'error_retry') {
    let total = 0;
    let good = 0;
    // Only destinations this criterion judged count (not a retry stage judged with its origin).
    const counted = facts.filter((_, i) => results[i]?.status === 'pass' || results[i]?.status === 'fail');
    for (const f of counted) {
      if (c.id === 'message_acknowledgment' && f.consumed && !isUnknown(f.ack)) {
        total += f.ack.delivered;
        good += f.ack.delivered - f.ack.overdue;
      }
      if (c.id === 'error_retry' && f.retry !== null && !isUnknown(f.retry)) {
        total += f.retry.failures;
        good += f.retry.retriedWithBackoff;
      }
    }
    score = total === 0 ? 1 : good / total;
  } else {
    score = judgedResults.filter((r) => r.status === 'pass').length / judgedResults.length;
  }
  const failing = judgedResults.filter((r) => r.status === 'fail').length;
  const unknownNote = unknown.length > 0 ? `; ${unknown.length} destination(s) could not be measured` : '';
  return {
    score,
    status: score >= c.threshold ? 'pass' : 'fail',
    summary: `${pct(score)} (threshold ${pct(c.threshold)}): ${failing} of ${judgedResults.length} destination(s) failing${unknownNote}`,
  };
}

export function scoreFitness(facts: DestinationFacts[], hints: HintSource = {}): FitnessReport {
  const hintsOf = typeof hints === 'function' ? hints : () => hints;
  const criteria = CRITERIA.map((c): CriterionScore => {
    const destinations = facts.map((f) => SCORERS[c.id](f, c, hintsOf(f)));
    return { id: c.id, title: c.title, threshold: c.threshold, destinations, ...aggregate(c, facts, destinations) };
  });
  const failing = criteria.flatMap((c) =>
    c.destinations.filter((d) => d.status === 'fail' && d.fix !== null).map((d) => ({ criterion: c.id, destination: d.destination, fix: d.fix as string })),
  );
  return { criteria, failing };
}
