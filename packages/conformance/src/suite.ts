import { afterAll, beforeAll, describe, it } from 'vitest';
import type { BrokerAdapter } from '@mailroom/core';
import { admin } from './cases/admin';
import { closedClient, invalidNames, unreachable } from './cases/lifecycle';
import { commit, order, pointToPoint, pollTimeout, publishSubscribe, roundTrip } from './cases/messaging';
import { idempotentConsumer, redrive, requestReply, retryDeadLetter } from './cases/patterns';
import type { CaseDefinition } from './context';
import { CaseScope, newRunId } from './helpers';
import { CASE_NAMES, type ConformanceTarget } from './target';

const CASES: CaseDefinition[] = [
  roundTrip,
  order,
  pollTimeout,
  commit,
  pointToPoint,
  publishSubscribe,
  requestReply,
  retryDeadLetter,
  redrive,
  idempotentConsumer,
  closedClient,
  unreachable,
  invalidNames,
  admin,
];

/**
 * Registers the contract suite for one adapter (call it at the top level of a vitest file).
 * Cases run in order against one adapter from `createAdapter()`; each creates its own
 * destinations named `mr-conf-<runid>-<case>[-suffix]` and deletes them afterwards.
 */
export function defineConformanceSuite(target: ConformanceTarget): void {
  const scale = target.timeoutScale ?? 1;
  const unknown = Object.keys(target.skip ?? {}).filter((name) => !(CASE_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`conformance ${target.name}: unknown case names in skip: ${unknown.join(', ')}`);

  describe(`${target.name} conformance`, () => {
    const runId = newRunId();
    let adapter: BrokerAdapter | null = null;

    beforeAll(async () => {
      adapter = await target.createAdapter();
    }, 60_000 * scale);

    afterAll(async () => {
      await adapter?.close();
    }, 30_000 * scale);

    for (const definition of CASES) {
      const title = `${definition.name}: ${definition.title}`;
      const reason = target.skip?.[definition.name];
      if (reason !== undefined) {
        console.warn(`[conformance ${target.name}] SKIPPED ${definition.name}: ${reason}`);
        it.skip(`${title} (SKIPPED: ${reason})`, () => {});
        continue;
      }
      it(
        title,
        async (testContext) => {
          if (!adapter) throw new Error(`conformance ${target.name}: createAdapter() did not produce an adapter`);
          const warn = (line: string) => console.warn(`[conformance ${target.name}] ${definition.name}: ${line}`);
          const scope = new CaseScope(adapter, `mr-conf-${runId}-${definition.name}`, warn);
          try {
            await definition.run({
              adapter,
              target,
              scope,
              ms: (base) => Math.round(base * scale),
              warn,
              skip: (why) => {
                console.warn(`[conformance ${target.name}] SKIPPED ${definition.name}: ${why}`);
                return testContext.skip(why);
              },
            });
          } finally {
            await scope.dispose();
          }
        },
        definition.timeoutMs * scale,
      );
    }
  });
}
