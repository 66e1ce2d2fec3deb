/** The pattern card's fitness criteria and thresholds. */
export type CriterionId = 'message_acknowledgment' | 'dead_letter_handling' | 'idempotent_consumers' | 'error_retry' | 'monitoring';

export interface Criterion {
  id: CriterionId;
  title: string;
  /** Share (0..1) a setup must reach to pass. */
  threshold: number;
  description: string;
}

export const CRITERIA: readonly Criterion[] = [
  {
    id: 'message_acknowledgment',
    title: 'Message acknowledgment',
    threshold: 1,
    description: 'Delivered messages are acknowledged within the ack deadline.',
  },
  {
    id: 'dead_letter_handling',
    title: 'Dead-letter handling',
    threshold: 1,
    description: 'Every consumed work destination has a reachable dead-letter queue.',
  },
  {
    id: 'idempotent_consumers',
    title: 'Idempotent consumers',
    threshold: 1,
    description:
      'Messages carry a stable identity and no duplicate is processed twice by the same group: judged from a sample of messages and from what idempotent consumers report (POST /api/consumer-stats).',
  },
  {
    id: 'error_retry',
    title: 'Error retry',
    threshold: 0.9,
    description:
      'Failed deliveries are retried with growing (exponential) delays before dead-lettering: judged from retry histories and retry stages (e.g. orders.retry.1, orders-retry-5s) with growing delays.',
  },
  {
    id: 'monitoring',
    title: 'Monitoring',
    threshold: 1,
    description: 'Destinations are covered by alert rules and their metrics are exported.',
  },
];

export function criterion(id: CriterionId): Criterion {
  const found = CRITERIA.find((c) => c.id === id);
  if (!found) throw new RangeError(`unknown criterion ${id}`);
  return found;
}
