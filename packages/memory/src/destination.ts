import { PartitionLog } from './partition-log';
import type { MemoryRecord } from './record';

export interface DeadLetterConfig {
  destination: string;
  maxDeliveries: number;
}

/** FNV-1a over the key's UTF-16 code units: stable, cheap, and spreads keys evenly enough. */
export function keyHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export class MemoryDestination {
  readonly partitions: PartitionLog[];
  readonly createdAt = new Date();
  /** Called for every appended record (tails). */
  readonly listeners = new Set<(record: MemoryRecord) => void>();
  published = 0;
  delivered = 0;
  acked = 0;
  /** Delayed publishes not yet stored. */
  delayed = 0;
  private roundRobin = 0;
  /** Recent deduplication ids → when they were seen. Bounded. */
  private readonly dedupe = new Map<string, number>();

  constructor(
    readonly name: string,
    partitionCount: number,
    readonly kind: 'topic' | 'queue',
    public deadLetter: DeadLetterConfig | null,
    private readonly retentionPerPartition: number,
  ) {
    this.partitions = Array.from({ length: partitionCount }, (_, p) => new PartitionLog(p));
  }

  partitionFor(key: string | null): number {
    const count = this.partitions.length;
    if (key === null) return this.roundRobin++ % count;
    return keyHash(key) % count;
  }

  append(partition: number, record: Omit<MemoryRecord, 'partition' | 'offset'>): MemoryRecord {
    const log = this.partitions[partition];
    if (!log) throw new RangeError(`partition ${partition} of ${this.name} does not exist`);
    const stored = log.append(record);
    log.trimTo(this.retentionPerPartition);
    this.published++;
    for (const listener of this.listeners) listener(stored);
    return stored;
  }

  /** True when `id` was seen within `windowMs`; records it otherwise. */
  seenDeduplicationId(id: string, now: number, windowMs: number): boolean {
    const seen = this.dedupe.get(id);
    if (seen !== undefined && now - seen < windowMs) return true;
    this.dedupe.delete(id);
    this.dedupe.set(id, now);
    if (this.dedupe.size > 10_000) {
      const oldest = this.dedupe.keys().next();
      if (!oldest.done) this.dedupe.delete(oldest.value);
    }
    return false;
  }

  get depth(): number {
    return this.partitions.reduce((n, log) => n + log.size, 0);
  }

  get(partition: number, offset: number): MemoryRecord | null {
    return this.partitions[partition]?.get(offset) ?? null;
  }

  oldestTimestamp(): number | null {
    let oldest: number | null = null;
    for (const log of this.partitions) {
      const record = log.oldest();
      if (record && (oldest === null || record.timestamp.getTime() < oldest)) oldest = record.timestamp.getTime();
    }
    return oldest;
  }
}
