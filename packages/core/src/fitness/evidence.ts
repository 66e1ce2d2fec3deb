import type { StoredMessage } from '../admin';
import { messageIdentity } from '../headers';
import { retryHistoryOf } from '../patterns/retry';
import type { IdentityFacts, RetryFacts } from './facts';
import { describeStages, stagesGrow, type RetryChain } from './retry-stages';

/** Identity facts from a sample of stored messages (read without side effects). */
export function identityFromSample(messages: StoredMessage[]): IdentityFacts {
  const counts = new Map<string, number>();
  let withIdentity = 0;
  for (const m of messages) {
    const id = messageIdentity(m.headers, m.properties);
    if (id === null) continue;
    withIdentity++;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  const duplicateIds = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
  return { sampled: messages.length, withIdentity, duplicateIds, consumers: null };
}

/** The retry stages of `chain` this dead letter went through: named in its broker history, or up to the stage it was dead-lettered from. */
function stagesPassed(message: StoredMessage, chain: RetryChain): RetryChain['stages'] {
  const info = message.deadLetter;
  if (!info) return [];
  const inHistory = new Set(info.history.map((h) => h.destination));
  const named = chain.stages.filter((s) => inHistory.has(s.name));
  if (named.length > 0) return named;
  const at = chain.stages.findIndex((s) => s.name === info.origin);
  return at < 0 ? [] : chain.stages.slice(0, at + 1);
}

/**
 * Was this dead letter retried with growing delays before it was dead-lettered? Judged from
 * Mailroom's retry history (delays must grow), from the retry stages of its origin that it
 * went through (their delays must grow), or, lacking both, from the broker's delivery
 * history (several attempts, but with no delays known the backoff cannot be proven).
 */
export function retriedWithBackoff(message: StoredMessage, chain?: RetryChain): { ok: boolean; why: string } {
  const history = retryHistoryOf(message.headers);
  const passed = chain && history.length === 0 ? stagesPassed(message, chain) : [];
  if (passed.length > 0) {
    const verdict = stagesGrow(passed);
    return verdict.ok
      ? { ok: true, why: `${message.id}: retried through ${describeStages(passed)}` }
      : { ok: false, why: `${message.id}: retried through stages whose ${verdict.why.replace(/^the /, '')}` };
  }
  if (history.length > 0) {
    const delays = history.slice(0, -1).map((a) => a.delayMs);
    if (history.length < 2) return { ok: false, why: `${message.id}: dead-lettered after a single attempt` };
    const growing = delays.every((d, i) => i === 0 || d > (delays[i - 1] as number));
    return growing
      ? { ok: true, why: `${message.id}: ${history.length} attempts, delays ${delays.join(', ')} ms` }
      : { ok: false, why: `${message.id}: ${history.length} attempts with delays that do not grow (${delays.join(', ')} ms)` };
  }
  if (chain && message.deadLetter?.origin === chain.origin) {
    return { ok: false, why: `${message.id}: dead-lettered from ${chain.origin} itself, not through its retry stages` };
  }
  const attempts = message.deadLetter?.attempts ?? message.deliveryCount ?? null;
  if (attempts === null) return { ok: false, why: `${message.id}: no attempt count recorded` };
  if (attempts < 2) return { ok: false, why: `${message.id}: dead-lettered after a single attempt` };
  return { ok: false, why: `${message.id}: ${attempts} attempts but no recorded delays, so backoff cannot be shown` };
}

function stagesFacts(chain: RetryChain | undefined): Pick<RetryFacts, 'stages'> {
  if (!chain) return {};
  const verdict = stagesGrow(chain.stages);
  return { stages: { description: describeStages(chain.stages), grow: verdict.ok, why: verdict.why } };
}

/** Judges each dead letter (read without side effects); `chain` is the origin's retry stages, when it has any. */
export function retryFromDeadLetters(messages: StoredMessage[], chain?: RetryChain): RetryFacts {
  let retried = 0;
  const counterExamples: string[] = [];
  for (const m of messages) {
    const verdict = retriedWithBackoff(m, chain);
    if (verdict.ok) retried++;
    else if (counterExamples.length < 5) counterExamples.push(verdict.why);
  }
  return { failures: messages.length, retriedWithBackoff: retried, counterExamples, ...stagesFacts(chain) };
}

/**
 * Where dead letters cannot be read without side effects: every one of the `deadLetters` in a
 * DLQ that only this origin (and its stages) feeds went through the origin's retry stages, so
 * the stages' delays judge them all. The evidence says the messages were not read.
 */
export function retryFromTopology(chain: RetryChain, deadLetters: number, notRead: string): RetryFacts {
  const verdict = stagesGrow(chain.stages);
  return {
    failures: deadLetters,
    retriedWithBackoff: verdict.ok ? deadLetters : 0,
    counterExamples: verdict.ok ? [] : [verdict.why],
    basis: `judged from the retry stages ${describeStages(chain.stages)}; the dead letters were not read: ${notRead}`,
    ...stagesFacts(chain),
  };
}
