/** One stored message. Immutable once appended; copies are handed out so callers cannot change the log. */
export interface MemoryRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: Uint8Array;
  headers: Record<string, string>;
  properties: Record<string, string>;
  timestamp: Date;
  /** Epoch ms after which the message is no longer delivered or browsed; null when it never expires. */
  expiresAt: number | null;
}

export function recordId(partition: number, offset: number): string {
  return `${partition}:${offset}`;
}

/** Parses `partition:offset`; null when `id` is not one. */
export function parseRecordId(id: string): { partition: number; offset: number } | null {
  const match = /^(\d{1,9}):(\d{1,15})$/.exec(id);
  if (!match) return null;
  return { partition: Number(match[1]), offset: Number(match[2]) };
}

export function isExpired(record: MemoryRecord, now: number): boolean {
  return record.expiresAt !== null && record.expiresAt <= now;
}
