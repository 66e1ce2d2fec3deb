export interface RateTrackerOptions {
  /** Clock in milliseconds. Default Date.now. */
  now?: () => number;
  /** A rate is measured over about this trailing window. Default 5 s. */
  windowMs?: number;
  /** A span shorter than this gives no rate (only just after the first observation or a reset). Default 100 ms. */
  minSpanMs?: number;
  /** Within the window, a baseline younger than this is passed over for an older sample if there is one. Default 1 s. */
  preferredSpanMs?: number;
  /** A sample older than this is never a baseline: after a longer silence the rate is unknown. Default 60 s. */
  maxSpanMs?: number;
  /** At most one sample is kept per key per this interval, so callers close together cannot crowd out the window. Default 250 ms. */
  sampleEveryMs?: number;
}

interface Sample {
  at: number;
  value: number;
}

/**
 * Turns monotonically growing counters (messages in, acked...) into per-second rates over a
 * trailing window. Each key keeps a few timestamped samples, so every caller gets the rate
 * over the last few seconds no matter who else observed the same key and when.
 */
export class RateTracker {
  private readonly series = new Map<string, Sample[]>();
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly minSpanMs: number;
  private readonly preferredSpanMs: number;
  private readonly maxSpanMs: number;
  private readonly sampleEveryMs: number;
  private readonly capacity: number;

  constructor(options: RateTrackerOptions | (() => number) = {}) {
    const o = typeof options === 'function' ? { now: options } : options;
    this.now = o.now ?? (() => Date.now());
    this.windowMs = o.windowMs ?? 5000;
    this.minSpanMs = o.minSpanMs ?? 100;
    this.preferredSpanMs = Math.min(o.preferredSpanMs ?? 1000, this.windowMs);
    this.maxSpanMs = Math.max(o.maxSpanMs ?? 60_000, this.windowMs);
    this.sampleEveryMs = Math.max(1, o.sampleEveryMs ?? 250);
    // Samples inside the window, plus the newest one before it.
    this.capacity = Math.ceil(this.windowMs / this.sampleEveryMs) + 2;
  }

  /**
   * The rate of `key` over the trailing window ending at `at` (when the counter was read; default
   * now), or null when there is no sample old enough, or the counter went down (a reset).
   * Readings may arrive out of order: one older than the newest sample is measured, not recorded.
   */
  observe(key: string, counter: number, at: number = this.now()): number | null {
    let samples = this.series.get(key);
    if (!samples) {
      samples = [];
      this.series.set(key, samples);
    }
    const earlier = samples.filter((s) => s.at < at);
    const latest = earlier[earlier.length - 1];
    if (latest && counter < latest.value) {
      if (at >= (samples[samples.length - 1]?.at ?? -Infinity)) samples.splice(0, samples.length, { at, value: counter });
      return null;
    }
    const baseline = this.baseline(earlier, at);
    this.record(samples, counter, at);
    if (!baseline || at - baseline.at < this.minSpanMs) return null;
    return ((counter - baseline.value) * 1000) / (at - baseline.at);
  }

  /** Forgets every key `keep` rejects (e.g. destinations that no longer exist) and every key silent for longer than maxSpanMs. */
  retain(keep: (key: string) => boolean): void {
    const oldest = this.now() - this.maxSpanMs;
    for (const [key, samples] of this.series) {
      const newest = samples[samples.length - 1];
      if (!keep(key) || !newest || newest.at < oldest) this.series.delete(key);
    }
  }

  /** Samples held over all keys; bounded by keys × (windowMs / sampleEveryMs + 2). */
  get sampleCount(): number {
    let n = 0;
    for (const samples of this.series.values()) n += samples.length;
    return n;
  }

  /** The oldest sample in the window at least preferredSpanMs old; else the newest before the window; else the oldest there is. */
  private baseline(earlier: Sample[], at: number): Sample | undefined {
    const windowStart = at - this.windowMs;
    const usable = earlier.filter((s) => s.at >= at - this.maxSpanMs);
    const inWindow = usable.find((s) => s.at >= windowStart);
    if (inWindow && at - inWindow.at >= this.preferredSpanMs) return inWindow;
    const beforeWindow = usable.filter((s) => s.at < windowStart).pop();
    return beforeWindow ?? inWindow;
  }

  private record(samples: Sample[], value: number, at: number): void {
    const newest = samples[samples.length - 1];
    if (newest && at - newest.at < this.sampleEveryMs) return;
    samples.push({ at, value });
    const windowStart = at - this.windowMs;
    // Of the samples before the window only the newest can still be a baseline.
    let drop = 0;
    while (drop + 1 < samples.length && (samples[drop + 1]?.at ?? Infinity) < windowStart) drop++;
    while (drop < samples.length && (samples[drop]?.at ?? Infinity) < at - this.maxSpanMs) drop++;
    drop = Math.max(drop, samples.length - this.capacity);
    if (drop > 0) samples.splice(0, drop);
  }
}
