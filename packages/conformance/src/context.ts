import type { BrokerAdapter } from '@mailroom/core';
import type { CaseScope } from './helpers';
import type { CaseName, ConformanceTarget } from './target';

export interface CaseContext {
  adapter: BrokerAdapter;
  target: ConformanceTarget;
  scope: CaseScope;
  /** A deadline or timeout in ms, scaled by target.timeoutScale. */
  ms(base: number): number;
  /** Prints one line naming the broker and the case. */
  warn(line: string): void;
  /** Skips the rest of the case, printing the reason. Throws (vitest's skip). */
  skip(reason: string): never;
}

export interface CaseDefinition {
  name: CaseName;
  title: string;
  /** Unscaled vitest timeout for the whole case, cleanup included. */
  timeoutMs: number;
  run(context: CaseContext): Promise<void>;
}
