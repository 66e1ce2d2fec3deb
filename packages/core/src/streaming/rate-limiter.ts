import { sleep } from '../patterns/backoff';

/** Token bucket for redrive and publish loops: `take(n)` waits until n more operations are allowed. */
export class RateLimiter {
  private tokens: number;
  private last: number;

  /** `perSecond` null or ≤ 0 means unlimited. */
  constructor(
    private readonly perSecond: number | null,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = perSecond !== null && perSecond > 0 ? Math.min(perSecond, 1) : 0;
    this.last = now();
  }

  async take(count: number, signal?: AbortSignal): Promise<void> {
    const rate = this.perSecond;
    if (rate === null || rate <= 0) return;
    const burst = Math.max(1, rate);
    while (!signal?.aborted) {
      const t = this.now();
      this.tokens = Math.min(burst, this.tokens + ((t - this.last) / 1000) * rate);
      this.last = t;
      if (this.tokens >= Math.min(count, burst)) {
        this.tokens -= count;
        return;
      }
      await sleep(((Math.min(count, burst) - this.tokens) / rate) * 1000, signal);
    }
  }
}
