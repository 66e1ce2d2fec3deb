import type { Capabilities, Connection } from './types';

/**
 * Until a broker has answered once, its adapter has not declared what it can do. Assume the
 * least: no optional features, and reads treated as destructive so nothing is read unasked.
 */
export const UNKNOWN_CAPABILITIES: Capabilities = {
  partitions: false,
  consumerGroups: false,
  browseByPosition: false,
  browseByTimestamp: false,
  peekIsDestructive: true,
  peekWarning: 'This broker has not reported its capabilities yet, so Mailroom cannot tell whether reading changes messages.',
  publishSubscribe: 'unknown until the broker answers',
  nativeRedrive: false,
  resetOffsets: false,
  pendingEntries: false,
  purge: false,
  createDestination: false,
  deleteDestination: false,
  publishProperties: [],
  maxMessageBytes: null,
};

export function capabilitiesOf(connection: Connection): Capabilities {
  return connection.capabilities ?? UNKNOWN_CAPABILITIES;
}
