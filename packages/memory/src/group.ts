import type { MemoryDestination } from './destination';
import { isExpired, recordId, type MemoryRecord } from './record';

export interface InFlightEntry {
  partition: number;
  offset: number;
  /** Consumer id that holds it (a member, or a name it was claimed to). */
  owner: string;
  deliveredAt: number;
  deliveryCount: number;
}

export interface Delivery {
  record: MemoryRecord;
  deliveryCount: number;
}

/**
 * One consumer group's position on one destination, with queue semantics: members compete
 * for messages; a delivered message is in flight until committed, and goes back to the
 * group (redelivered, count + 1) when its holder closes.
 */
export class GroupCursor {
  /** Per partition: next offset never delivered to this group. */
  readonly next: number[];
  /** Per partition: every offset below is acknowledged. */
  readonly committed: number[];
  /** Per partition: acknowledged offsets at or above `committed` (competing consumers ack out of order). */
  private readonly ackedAbove: Set<number>[];
  readonly inFlight = new Map<string, InFlightEntry>();
  /** Returned to the group, delivered before fresh messages, in (partition, offset) order. */
  private redeliver: { partition: number; offset: number; deliveryCount: number }[] = [];
  /** Entries claimed to a live member, delivered on that member's next poll. */
  private readonly claimed = new Map<string, { partition: number; offset: number }[]>();
  private rotate = 0;
  delivered = 0;
  acked = 0;

  /** A new group starts at the end of a topic (like Kafka's default) and at the oldest message of a queue. */
  constructor(readonly destination: MemoryDestination) {
    this.next = destination.partitions.map((log) => (destination.kind === 'queue' ? log.low : log.high));
    this.committed = [...this.next];
    this.ackedAbove = destination.partitions.map(() => new Set<number>());
  }

  /** Up to `max` messages for `consumer`: claimed to it first, then returned ones, then fresh ones. */
  take(consumer: string, max: number, now: number): Delivery[] {
    const out: Delivery[] = [];
    const mine = this.claimed.get(consumer);
    while (mine && mine.length > 0 && out.length < max) {
      const ref = mine.shift();
      const entry = ref ? this.inFlight.get(recordId(ref.partition, ref.offset)) : undefined;
      if (!ref || !entry || entry.owner !== consumer) continue;
      const record = this.destination.get(ref.partition, ref.offset);
      if (!record) {
        this.ack(ref.partition, ref.offset);
        continue;
      }
      entry.deliveryCount++;
      entry.deliveredAt = now;
      out.push({ record, deliveryCount: entry.deliveryCount });
    }
    while (this.redeliver.length > 0 && out.length < max) {
      const ref = this.redeliver.shift();
      if (!ref) break;
      const record = this.destination.get(ref.partition, ref.offset);
      if (!record || isExpired(record, now)) {
        this.ack(ref.partition, ref.offset);
        continue;
      }
      out.push(this.deliver(record, consumer, ref.deliveryCount + 1, now));
    }
    const logs = this.destination.partitions;
    let idle = 0;
    while (out.length < max && idle < logs.length) {
      const p = this.rotate++ % logs.length;
      const log = logs[p];
      const from = this.next[p];
      if (!log || from === undefined) break;
      const at = log.nextLive(from);
      const record = log.get(at);
      if (!record) {
        this.next[p] = at;
        idle++;
        continue;
      }
      idle = 0;
      this.next[p] = at + 1;
      if (isExpired(record, now)) {
        this.ack(p, at);
        continue;
      }
      out.push(this.deliver(record, consumer, 1, now));
    }
    return out;
  }

  private deliver(record: MemoryRecord, owner: string, deliveryCount: number, now: number): Delivery {
    this.inFlight.set(recordId(record.partition, record.offset), {
      partition: record.partition,
      offset: record.offset,
      owner,
      deliveredAt: now,
      deliveryCount,
    });
    this.delivered++;
    this.destination.delivered++;
    return { record, deliveryCount };
  }

  /** Acknowledges one in-flight (or skipped) offset. Returns whether it was in flight. */
  ack(partition: number, offset: number): boolean {
    const wasInFlight = this.inFlight.delete(recordId(partition, offset));
    if (wasInFlight) {
      this.acked++;
      this.destination.acked++;
    }
    const above = this.ackedAbove[partition];
    const committed = this.committed[partition];
    if (!above || committed === undefined || offset < committed) return wasInFlight;
    above.add(offset);
    this.advance(partition);
    return wasInFlight;
  }

  private advance(partition: number): void {
    const above = this.ackedAbove[partition];
    const log = this.destination.partitions[partition];
    const next = this.next[partition];
    let committed = this.committed[partition];
    if (!above || !log || next === undefined || committed === undefined) return;
    if (committed < log.low) committed = Math.min(log.low, next);
    while (committed < next && (above.has(committed) || (log.get(committed) === null && !this.inFlight.has(recordId(partition, committed))))) {
      above.delete(committed);
      committed++;
    }
    this.committed[partition] = committed;
  }

  /** Gives `owner`'s in-flight messages back to the group; returns those that reached `maxDeliveries` instead. */
  release(owner: string, maxDeliveries: number | null): InFlightEntry[] {
    const exhausted: InFlightEntry[] = [];
    for (const entry of [...this.inFlight.values()]) {
      if (entry.owner !== owner) continue;
      if (maxDeliveries !== null && entry.deliveryCount >= maxDeliveries) {
        exhausted.push(entry);
        continue;
      }
      this.inFlight.delete(recordId(entry.partition, entry.offset));
      this.redeliver.push({ partition: entry.partition, offset: entry.offset, deliveryCount: entry.deliveryCount });
    }
    this.redeliver.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
    this.claimed.delete(owner);
    return exhausted;
  }

  claim(ids: string[], consumer: string, consumerIsMember: boolean, now: number): number {
    let claimed = 0;
    for (const id of ids) {
      const entry = this.inFlight.get(id);
      if (!entry) continue;
      entry.owner = consumer;
      entry.deliveredAt = now;
      claimed++;
      if (consumerIsMember) {
        const queue = this.claimed.get(consumer) ?? [];
        queue.push({ partition: entry.partition, offset: entry.offset });
        this.claimed.set(consumer, queue);
      }
    }
    return claimed;
  }

  get hasWaiting(): boolean {
    return this.redeliver.length > 0 || this.destination.partitions.some((log, p) => log.nextLive(this.next[p] ?? log.high) < log.high);
  }

  hasClaimedFor(consumer: string): boolean {
    return (this.claimed.get(consumer)?.length ?? 0) > 0;
  }

  /** Messages stored that this group has not acknowledged, per partition. */
  lag(partition: number): number {
    const log = this.destination.partitions[partition];
    const committed = this.committed[partition];
    if (!log || committed === undefined) return 0;
    const from = Math.max(committed, log.low);
    return Math.max(0, log.liveFrom(from) - (this.ackedAbove[partition]?.size ?? 0));
  }

  /** Moves the group to `offsets` (per partition) and forgets everything in flight. */
  reset(offsets: number[]): void {
    offsets.forEach((offset, p) => {
      this.next[p] = offset;
      this.committed[p] = offset;
      this.ackedAbove[p]?.clear();
    });
    this.inFlight.clear();
    this.redeliver = [];
    this.claimed.clear();
  }

  /** After a purge: nothing is left to deliver or acknowledge. */
  skipToEnd(): void {
    this.reset(this.destination.partitions.map((log) => log.high));
  }
}
