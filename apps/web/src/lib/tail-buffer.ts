import type { WireMessage } from '../api/types';

/**
 * What the live tail holds: at most `capacity` messages, oldest dropped first. Counts what the
 * server skipped (reader too slow) and what this buffer dropped, so the operator knows the
 * list is not everything that arrived.
 */
export class TailBuffer {
  private items: WireMessage[] = [];
  received = 0;
  serverSkipped = 0;
  dropped = 0;
  private arrivals: { at: number; n: number }[] = [];

  constructor(readonly capacity: number) {}

  push(messages: readonly WireMessage[], skipped: number, now = Date.now()): void {
    this.received += messages.length;
    this.serverSkipped += skipped;
    for (const m of messages) this.items.push(m);
    const overflow = this.items.length - this.capacity;
    if (overflow > 0) {
      this.items.splice(0, overflow);
      this.dropped += overflow;
    }
    this.arrivals.push({ at: now, n: messages.length });
    while (this.arrivals.length > 0 && this.arrivals[0]!.at < now - 5_000) this.arrivals.shift();
  }

  clear(): void {
    this.items = [];
    this.received = 0;
    this.serverSkipped = 0;
    this.dropped = 0;
    this.arrivals = [];
  }

  get size(): number {
    return this.items.length;
  }

  /** Messages per second over the last five seconds. */
  rate(now = Date.now()): number {
    const recent = this.arrivals.filter((a) => a.at >= now - 5_000);
    return recent.reduce((n, a) => n + a.n, 0) / 5;
  }

  /** A snapshot, newest first. */
  newestFirst(): WireMessage[] {
    return this.items.slice().reverse();
  }

  /** Everything not shown: skipped by the server plus dropped here. */
  get skippedTotal(): number {
    return this.serverSkipped + this.dropped;
  }
}
