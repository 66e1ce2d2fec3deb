import type { BenchConfig, Broker } from './config';
import type { BenchRow } from './report';

export interface BenchContext {
  config: BenchConfig;
  log(message: string): void;
  add(row: BenchRow): void;
  fail(benchmark: string, broker: Broker | null, error: unknown): void;
}

/** Runs `body` for each broker the run includes; a failure is recorded and the next broker runs. */
export async function forEachBroker(ctx: BenchContext, benchmark: string, brokers: readonly Broker[], body: (broker: Broker) => Promise<void>): Promise<void> {
  for (const broker of brokers) {
    if (!ctx.config.brokers.includes(broker)) continue;
    ctx.log(`${benchmark}: ${broker}`);
    try {
      await body(broker);
    } catch (error) {
      ctx.fail(benchmark, broker, error);
    }
  }
}

export function ratioOf(mailroom: number | null, raw: number | null): number | null {
  if (mailroom === null || raw === null || raw <= 0) return null;
  return mailroom / raw;
}
