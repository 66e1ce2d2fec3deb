import type { StoredMessage } from '../admin';
import { messageIdentity } from '../headers';
import { retryHistoryOf } from '../patterns/retry';
import type { IdentityFacts, RetryFacts } from './facts';

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
  return { sampled: messages.length, withIdentity, duplicateIds, dedupedByConsumers: null };
}

/**
 * Was this dead letter retried with growing delays before it was dead-lettered? Judged from
 * Mailroom's retry history (delays must grow) or, lacking one, from the broker's delivery
 * history (several attempts, but with no delays known the backoff cannot be proven).
 */
export function retriedWithBackoff(message: StoredMessage): { ok: boolean; why: string } {
  const history = retryHistoryOf(message.headers);
  if (history.length > 0) {
    const delays = history.slice(0, -1).map((a) => a.delayMs);
    if (history.length < 2) return { ok: false, why: `${message.id}: dead-lettered after a single attempt` };
    const growing = delays.every((d, i) => i === 0 || d > (delays[i - 1] as number));
    return growing
      ? { ok: true, why: `${message.id}: ${history.length} attempts, delays ${delays.join(', ')} ms` }
      : { ok: false, why: `${message.id}: ${history.length} attempts with delays that do not grow (${delays.join(', ')} ms)` };
  }
  const attempts = message.deadLetter?.attempts ?? message.deliveryCount ?? null;
  if (attempts === null) return { ok: false, why: `${message.id}: no attempt count recorded` };
  if (attempts < 2) return { ok: false, why: `${message.id}: dead-lettered after a single attempt` };
  return { ok: false, why: `${message.id}: ${attempts} attempts but no recorded delays, so backoff cannot be shown` };
}

export function retryFromDeadLetters(messages: StoredMessage[]): RetryFacts {
  let retried = 0;
  const counterExamples: string[] = [];
  for (const m of messages) {
    const verdict = retriedWithBackoff(m);
    if (verdict.ok) retried++;
    else if (counterExamples.length < 5) counterExamples.push(verdict.why);
  }
  return { failures: messages.length, retriedWithBackoff: retried, counterExamples };
}
