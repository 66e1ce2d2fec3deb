import { Headers, type DeadLetterLink } from '@mailroom/core';
import type { MemoryBroker } from './broker';

export const DLQ_SUFFIX = '.dlq';
const ORIGIN_SAMPLE = 50;

/**
 * Which destination is whose DLQ, found three ways: links declared at creation, the
 * `<name>.dlq` naming convention, and the origin header dead letters carry.
 */
export function findDeadLetterLinks(broker: MemoryBroker): DeadLetterLink[] {
  const links = new Map<string, { origins: Set<string>; via: Set<string> }>();
  const link = (dlq: string, origin: string, via: string) => {
    const entry = links.get(dlq) ?? { origins: new Set<string>(), via: new Set<string>() };
    entry.origins.add(origin);
    entry.via.add(via);
    links.set(dlq, entry);
  };
  for (const destination of broker.destinations.values()) {
    if (destination.deadLetter) link(destination.deadLetter.destination, destination.name, 'declared dead-letter link');
    if (destination.name.endsWith(DLQ_SUFFIX)) {
      const base = destination.name.slice(0, -DLQ_SUFFIX.length);
      if (broker.destinations.has(base)) link(destination.name, base, 'naming convention');
    }
    for (const log of destination.partitions) {
      let sampled = 0;
      for (let at = log.high - 1; at >= log.low && sampled < ORIGIN_SAMPLE; at--) {
        const record = log.get(at);
        if (!record) continue;
        sampled++;
        const origin = record.headers[Headers.deadLetterOrigin];
        if (origin !== undefined && origin !== destination.name && record.headers[Headers.redrivenFrom] === undefined) {
          link(destination.name, origin, 'origin header');
        }
      }
    }
  }
  return [...links.entries()]
    .filter(([dlq]) => broker.destinations.has(dlq))
    .map(([dlq, entry]) => ({
      deadLetter: dlq,
      origins: [...entry.origins].sort(),
      depth: broker.destinations.get(dlq)?.depth ?? null,
      via: [...entry.via].join(', '),
    }))
    .sort((a, b) => a.deadLetter.localeCompare(b.deadLetter));
}
