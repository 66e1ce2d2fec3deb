import { isMailroomError, type BrokerAdapter, type DestinationSummary } from '@mailroom/core';

/** 500 → "500 ms", 30000 → "30 s", 1500 → "1.5 s". */
export const duration = (ms: number) => (ms < 1_000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 100) / 10} s`);

export const errorText = (e: unknown) => (isMailroomError(e) || e instanceof Error ? e.message : String(e));

/**
 * Reads of a stream destination are by position and leave nothing behind even where other
 * reads are destructive (RabbitMQ stream queues); everything else follows the capability.
 */
export function readsWithoutSideEffects(adapter: BrokerAdapter, d: DestinationSummary): boolean {
  return !adapter.capabilities.peekIsDestructive || d.kind === 'stream';
}

export function destructiveReason(adapter: BrokerAdapter, what: string): string {
  const warning = adapter.capabilities.peekWarning ?? 'reads are destructive on this broker';
  return `${what} would change them, so it is not done: ${warning.replace(/\.$/, '')}`;
}
