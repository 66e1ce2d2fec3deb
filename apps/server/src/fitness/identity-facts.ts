import { identityFromSample, isUnknown, type BrokerAdapter, type DestinationFacts, type DestinationSummary, type IdentityFacts, type Measured } from '@mailroom/core';
import type { ConsumerReportSummary } from './consumer-reports';
import { destructiveReason, errorText, readsWithoutSideEffects } from './fact-reads';
import type { GatherOptions } from './gather';

/** A sample of the newest messages, read only where reading leaves no trace. */
export async function identityFacts(adapter: BrokerAdapter, d: DestinationSummary, options: GatherOptions): Promise<DestinationFacts['identity']> {
  if (!readsWithoutSideEffects(adapter, d)) return { unknown: destructiveReason(adapter, 'sampling its messages') };
  if (d.depth === 0) return { sampled: 0, withIdentity: 0, duplicateIds: [], consumers: null };
  try {
    const page = await adapter.browse({ destination: d.name, start: { from: 'newest' }, limit: options.sampleSize });
    if (page.destructive) return { unknown: `sampling its messages had side effects (${page.warnings.join('; ') || 'destructive read'}), so it is not used` };
    return identityFromSample(page.messages);
  } catch (e) {
    return { unknown: `could not sample messages: ${errorText(e)}` };
  }
}

/** Adds what idempotent consumers report; a destination that could not be sampled is then judged on the reports. */
export function withConsumerReports(identity: Measured<IdentityFacts>, reports: ConsumerReportSummary | null, groups: string[]): Measured<IdentityFacts> {
  if (reports === null) return identity;
  const consumers = { ...reports, groupsNotReporting: groups.filter((g) => !reports.groups.includes(g)).sort() };
  if (isUnknown(identity)) return { sampled: 0, withIdentity: 0, duplicateIds: [], notSampled: identity.unknown, consumers };
  return { ...identity, consumers };
}
