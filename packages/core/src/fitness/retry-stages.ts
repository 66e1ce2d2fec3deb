/**
 * Retry topology: destinations a failed message waits in before it is tried again, named
 * after the destination they retry (`orders.retry.1`, `orders-retry-2`, `orders_retry_5s`,
 * Spring Kafka's `orders-retry-1000`). A stage's delay is the one its broker declares (a
 * delay queue, a message TTL that dead-letters back) or, lacking one, the one its name gives.
 */

export interface RetryStage {
  name: string;
  /** The stage number its name carries (`.retry.2` → 2); null when the name gives a delay or nothing. */
  index: number | null;
  delayMs: number | null;
}

export interface RetryChain {
  origin: string;
  /** In the order a failing message goes through them. */
  stages: RetryStage[];
}

export interface StageCandidate {
  name: string;
  /** What the broker declares (SQS DelaySeconds, RabbitMQ x-message-ttl into a dead-letter exchange). */
  deliveryDelayMs?: number | null;
}

const STAGE_NAME = /^(.+)[._-]retry(?:[._-](\d{1,9})(ms|s|m|h)?)?$/i;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

interface Parsed {
  name: string;
  origin: string;
  number: number | null;
  unitMs: number | null;
  brokerDelayMs: number | null;
}

function parse(candidate: StageCandidate): Parsed | null {
  const match = STAGE_NAME.exec(candidate.name);
  if (!match) return null;
  const [, origin, digits, unit] = match;
  const broker = candidate.deliveryDelayMs;
  return {
    name: candidate.name,
    origin: origin as string,
    number: digits === undefined ? null : Number(digits),
    unitMs: unit === undefined ? null : (UNIT_MS[unit.toLowerCase()] ?? null),
    brokerDelayMs: typeof broker === 'number' && broker > 0 ? broker : null,
  };
}

/** Plain numbers are stage indices when they count up from 0 or 1 (`-retry-0`, `-retry-1`), else delays in ms (`-retry-1000`). */
function numbersAreIndices(numbers: number[]): boolean {
  if (numbers.length === 0) return false;
  const sorted = [...numbers].sort((a, b) => a - b);
  const first = sorted[0] as number;
  return (first === 0 || first === 1) && sorted.every((n, i) => n === first + i);
}

function chainOf(origin: string, parsed: Parsed[]): RetryChain {
  const plain = parsed.filter((p) => p.number !== null && p.unitMs === null).map((p) => p.number as number);
  const indices = numbersAreIndices(plain);
  const stages = parsed.map((p): RetryStage => {
    const isIndex = p.number !== null && p.unitMs === null && indices;
    const nameDelay = p.number === null || isIndex ? null : p.number * (p.unitMs ?? 1);
    return { name: p.name, index: isIndex ? p.number : null, delayMs: p.brokerDelayMs ?? nameDelay };
  });
  const rank = (s: RetryStage) => s.index ?? s.delayMs ?? Number.MAX_SAFE_INTEGER;
  stages.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  return { origin, stages };
}

/** The retry chain of every destination that has retry stages; stages of a destination that does not exist are ignored. */
export function findRetryChains(candidates: StageCandidate[]): Map<string, RetryChain> {
  const names = new Set(candidates.map((c) => c.name));
  const byOrigin = new Map<string, Parsed[]>();
  for (const candidate of candidates) {
    const parsed = parse(candidate);
    if (!parsed || !names.has(parsed.origin)) continue;
    const list = byOrigin.get(parsed.origin) ?? [];
    list.push(parsed);
    byOrigin.set(parsed.origin, list);
  }
  return new Map([...byOrigin].map(([origin, parsed]) => [origin, chainOf(origin, parsed)]));
}

/** The origin whose retry stage `name` is, in `chains`. */
export function retryStageOrigin(chains: Map<string, RetryChain>, name: string): string | null {
  for (const chain of chains.values()) if (chain.stages.some((s) => s.name === name)) return chain.origin;
  return null;
}

const delayText = (ms: number | null) => (ms === null ? 'delay unknown' : ms < 1_000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`);

/** "orders.retry.1 (200 ms) → orders.retry.2 (800 ms)". */
export function describeStages(stages: RetryStage[]): string {
  return stages.map((s) => `${s.name} (${delayText(s.delayMs)})`).join(' → ');
}

/** Do these stages, in order, wait longer each time? Every delay must be known and positive. */
export function stagesGrow(stages: RetryStage[]): { ok: boolean; why: string } {
  if (stages.length === 0) return { ok: false, why: 'no retry stages' };
  const unknown = stages.filter((s) => s.delayMs === null).map((s) => s.name);
  if (unknown.length > 0) {
    return { ok: false, why: `the delays of ${unknown.join(', ')} are unknown: set one on the broker or name each stage after its delay (e.g. a "-retry-5s" suffix)` };
  }
  const delays = stages.map((s) => s.delayMs as number);
  if (delays.some((d) => d <= 0)) return { ok: false, why: `a retry stage has no delay: ${describeStages(stages)}` };
  const grows = delays.every((d, i) => i === 0 || d > (delays[i - 1] as number));
  return grows ? { ok: true, why: describeStages(stages) } : { ok: false, why: `the delays do not grow: ${describeStages(stages)}` };
}
