import {
  retryFromDeadLetters,
  retryFromTopology,
  type BrokerAdapter,
  type DeadLetterLink,
  type DestinationSummary,
  type Measured,
  type RetryChain,
  type RetryFacts,
  type StoredMessage,
} from '@mailroom/core';
import { destructiveReason, readsWithoutSideEffects } from './fact-reads';
import type { GatherOptions } from './gather';
import { mapLimit } from './map-limit';

/** The newest dead letters of each DLQ, by the origin each names (or the DLQ's only origin). */
export async function sampleDeadLetters(adapter: BrokerAdapter, dlqs: string[], links: DeadLetterLink[], options: GatherOptions): Promise<Map<string, StoredMessage[]>> {
  const byOrigin = new Map<string, StoredMessage[]>();
  const add = (origin: string, m: StoredMessage) => {
    const list = byOrigin.get(origin) ?? [];
    list.push(m);
    byOrigin.set(origin, list);
  };
  await mapLimit(dlqs, 4, async (dlq) => {
    try {
      const page = await adapter.browse({ destination: dlq, start: { from: 'newest' }, limit: options.deadLetterSampleSize });
      const origins = links.find((l) => l.deadLetter === dlq)?.origins ?? [];
      for (const m of page.messages) {
        const origin = m.deadLetter?.origin ?? (origins.length === 1 ? origins[0] : null);
        if (origin !== null && origin !== undefined) add(origin, m);
      }
    } catch {
      // A DLQ that cannot be read leaves its origins' retry facts at "no failures observed".
    }
  });
  return byOrigin;
}

export function retryFacts(
  adapter: BrokerAdapter,
  d: DestinationSummary,
  target: string | null,
  byName: Map<string, DestinationSummary>,
  deadLettersByOrigin: Map<string, StoredMessage[]>,
  notExamined: string | null,
  chain: RetryChain | undefined,
  links: DeadLetterLink[],
): Measured<RetryFacts> | null {
  const dlq = target === null ? undefined : byName.get(target);
  // Without a DLQ there are no dead letters to judge; dead_letter_handling reports that.
  if (!dlq || dlq.kind === 'exchange') return null;
  if (notExamined !== null) return { unknown: notExamined };
  const family = new Set([d.name, ...(chain?.stages.map((s) => s.name) ?? [])]);
  if (!readsWithoutSideEffects(adapter, dlq)) {
    const notRead = destructiveReason(adapter, `reading the dead letters in ${dlq.name}`);
    if (!chain) return { unknown: notRead };
    // Unread dead letters are judged by the retry stages only when nothing else feeds the DLQ.
    const feeders = [...new Set([...(links.find((l) => l.deadLetter === dlq.name)?.origins ?? []), ...dlq.deadLetterSources])];
    const others = feeders.filter((o) => !family.has(o));
    if (others.length > 0) return { unknown: `${notRead}; ${dlq.name} also holds dead letters of ${others.join(', ')}, so its depth is not ${d.name}'s alone` };
    if (dlq.depth === null) return { unknown: `${notRead}; the broker does not report how many dead letters ${dlq.name} holds` };
    if (dlq.depth === 0) return null;
    return retryFromTopology(chain, dlq.depth, (adapter.capabilities.peekWarning ?? 'reads are destructive on this broker').replace(/\.$/, ''));
  }
  const dead = [...family].flatMap((name) => deadLettersByOrigin.get(name) ?? []);
  if (dead.length === 0) return null;
  return retryFromDeadLetters(dead, chain);
}
