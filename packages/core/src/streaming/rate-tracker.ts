/** Turns monotonically growing counters (messages in, acked...) into per-second rates between calls. */
export class RateTracker {
  private readonly last = new Map<string, { value: number; at: number }>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** The rate since the previous observation of `key`, or null on the first one (or after a counter reset). */
  observe(key: string, counter: number): number | null {
    const at = this.now();
    const previous = this.last.get(key);
    this.last.set(key, { value: counter, at });
    if (!previous || at <= previous.at || counter < previous.value) return null;
    return ((counter - previous.value) * 1000) / (at - previous.at);
  }
}
