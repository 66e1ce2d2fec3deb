import type { MemoryRecord } from './record';

/**
 * One partition: an append-only log with offsets, bounded by a retention count. Single records
 * can be removed (redrive out of a DLQ), which leaves a hole: offsets never move.
 */
export class PartitionLog {
  private items: (MemoryRecord | null)[] = [];
  /** Offset of items[0]. */
  private start = 0;
  /** Index of the oldest retained slot. */
  private head = 0;
  private liveCount = 0;

  constructor(readonly partition: number) {}

  /** Oldest retained offset. */
  get low(): number {
    return this.start + this.head;
  }

  /** The next offset to be written. */
  get high(): number {
    return this.start + this.items.length;
  }

  /** Records stored (holes excluded). */
  get size(): number {
    return this.liveCount;
  }

  append(record: Omit<MemoryRecord, 'partition' | 'offset'>): MemoryRecord {
    const stored: MemoryRecord = { ...record, partition: this.partition, offset: this.high };
    this.items.push(stored);
    this.liveCount++;
    return stored;
  }

  /** The record at `offset`, or null when it was removed, trimmed or not yet written. */
  get(offset: number): MemoryRecord | null {
    if (offset < this.low || offset >= this.high) return null;
    return this.items[offset - this.start] ?? null;
  }

  remove(offset: number): boolean {
    if (offset < this.low || offset >= this.high) return false;
    const index = offset - this.start;
    if (this.items[index] === null || this.items[index] === undefined) return false;
    this.items[index] = null;
    this.liveCount--;
    this.skipHoles();
    return true;
  }

  /** Drops the oldest records until at most `max` remain; returns how many were dropped. */
  trimTo(max: number): number {
    let dropped = 0;
    while (this.liveCount > max) {
      if (this.items[this.head] !== null) {
        this.liveCount--;
        dropped++;
      }
      this.items[this.head] = null;
      this.head++;
    }
    if (dropped > 0) this.skipHoles();
    return dropped;
  }

  /** Removes every record; returns how many there were. */
  purge(): number {
    const removed = this.liveCount;
    this.start = this.high;
    this.items = [];
    this.head = 0;
    this.liveCount = 0;
    return removed;
  }

  /** First offset at or after `offset` holding a record, or `high`. */
  nextLive(offset: number): number {
    let at = Math.max(offset, this.low);
    while (at < this.high && this.get(at) === null) at++;
    return at;
  }

  /** Last offset at or before `offset` holding a record, or -1. */
  prevLive(offset: number): number {
    let at = Math.min(offset, this.high - 1);
    while (at >= this.low && this.get(at) === null) at--;
    return at >= this.low ? at : -1;
  }

  /** First offset whose record's timestamp is at or after `time`, or `high`. */
  offsetForTime(time: number): number {
    for (let at = this.low; at < this.high; at++) {
      const record = this.get(at);
      if (record && record.timestamp.getTime() >= time) return at;
    }
    return this.high;
  }

  /** Records stored at or after `offset`. */
  liveFrom(offset: number): number {
    const from = Math.max(offset, this.low);
    if (from >= this.high) return 0;
    if (this.liveCount === this.high - this.low) return this.high - from;
    let count = 0;
    for (let at = from; at < this.high; at++) if (this.get(at) !== null) count++;
    return count;
  }

  oldest(): MemoryRecord | null {
    const at = this.nextLive(this.low);
    return this.get(at);
  }

  private skipHoles(): void {
    while (this.head < this.items.length && this.items[this.head] === null) this.head++;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.start += this.head;
      this.head = 0;
    }
  }
}
