export interface BackoffPolicy {
  /** Delay before the second attempt. */
  initialDelayMs: number;
  /** Growth per attempt, > 1 for exponential backoff. */
  multiplier: number;
  maxDelayMs: number;
  /** 0..1: the share of each delay that is randomised ("equal jitter"). */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialDelayMs: 100, multiplier: 2, maxDelayMs: 30_000, jitter: 0.2 };

/**
 * Delay to wait after failed attempt number `attempt` (1-based) before the next one:
 * initial × multiplier^(attempt−1), capped, with the jittered share drawn from `random`.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be a positive integer, got ${attempt}`);
  const jitter = Math.min(Math.max(policy.jitter, 0), 1);
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** (attempt - 1));
  const fixed = base * (1 - jitter);
  return Math.round(fixed + base * jitter * random());
}

/** The whole schedule of delays for `attempts` failed attempts, without jitter (for display). */
export function backoffSchedule(policy: BackoffPolicy, attempts: number): number[] {
  return Array.from({ length: attempts }, (_, i) => backoffDelay({ ...policy, jitter: 0 }, i + 1));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
