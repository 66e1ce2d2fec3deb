import type { BrokerAdapter } from '@mailroom/core';

/** Every case of the contract suite, in the order they run. */
export const CASE_NAMES = [
  'round-trip',
  'order',
  'poll-timeout',
  'commit',
  'point-to-point',
  'publish-subscribe',
  'request-reply',
  'retry-dead-letter',
  'redrive',
  'idempotent',
  'closed-client',
  'unreachable',
  'invalid-names',
  'admin',
] as const;

export type CaseName = (typeof CASE_NAMES)[number];

export interface ConformanceTarget {
  /** Shown in the suite title, e.g. 'kafka'. */
  name: string;
  /** A fresh adapter against the real broker. Created once for the suite and closed at the end. */
  createAdapter(): BrokerAdapter | Promise<BrokerAdapter>;
  /** An adapter pointed at an endpoint where nobody listens (e.g. 127.0.0.1:1). */
  createUnreachableAdapter(): BrokerAdapter;
  /** Cases this broker truly cannot pass, with the reason (printed when the case is skipped). */
  skip?: Partial<Record<CaseName, string>>;
  /** Multiplies every deadline and test timeout (slow CI, JVM brokers). Default 1. */
  timeoutScale?: number;
}
