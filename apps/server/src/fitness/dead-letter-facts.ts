import type { BrokerAdapter, DeadLetterLink, DestinationFacts, DestinationSummary } from '@mailroom/core';

/** The DLQ name the broker's convention gives `name`, or null when it has none for it. */
export function conventionalDeadLetter(adapter: BrokerAdapter, name: string): string | null {
  try {
    return adapter.deadLetterNameFor(name);
  } catch {
    return null;
  }
}

/** Where a destination's dead letters go, how that was found, and whether they can arrive there. */
export function deadLetterFacts(
  d: DestinationSummary,
  target: string | null,
  link: DeadLetterLink | undefined,
  byName: Map<string, DestinationSummary>,
  throughStage: string | null,
): DestinationFacts['deadLetter'] {
  const configured = link?.via ?? (d.deadLetter !== null ? 'destination configuration' : null);
  const via = throughStage ? `from its last retry stage ${throughStage}${configured ? `, ${configured}` : ''}` : configured;
  if (target === null) return { target, reachable: false, via };
  const found = byName.get(target);
  if (!found) return { target, reachable: false, via };
  if (found.kind === 'exchange') {
    // An exchange only routes: with no queue bound to it the dead letters are dropped.
    return {
      target,
      reachable: false,
      via,
      unreachable: {
        evidence: `dead letters go to ${target} (${via ?? 'configured'}), which routes to no queue, so they are dropped`,
        fix: `bind a queue to ${target} that keeps the dead letters of ${d.name}`,
      },
    };
  }
  return { target, reachable: true, via };
}
