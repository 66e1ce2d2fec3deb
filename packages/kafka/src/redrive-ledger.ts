import { NotFoundError } from '@mailroom/core';
import type { Admin } from 'kafkajs';
import type { RawKafka, RawRecord } from './raw';

/**
 * Compacted topic recording every DLT record a redrive copied, written in the same transaction as
 * the copies. Kafka cannot delete single records, so records redriven by an `ids`/`filter` task stay
 * in the DLT; later tasks consult the ledger to skip them instead of sending them twice.
 * The `__` prefix keeps it out of Mailroom's topic list.
 */
export const LEDGER_TOPIC = '__mailroom_redrive_ledger';
const LEDGER_PARTITIONS = 8;

export interface LedgerEntry {
  key: string;
  value: Buffer;
  partition: number;
}

/** Offsets already redriven, per DLT partition, with the DLT record's timestamp (guards against a DLT deleted and recreated under the same name). */
export type RedrivenOffsets = Map<number, Map<number, string>>;

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Every entry of one DLT goes to one ledger partition, so reading a DLT's entries reads one partition. */
export function ledgerPartitionOf(source: string, partitions: number): number {
  return fnv1a(source) % partitions;
}

function ledgerKey(source: string, partition: number, offset: number): string {
  return `${source}/${partition}:${offset}`;
}

export function ledgerEntry(source: string, partition: number, record: RawRecord, taskId: string, ledgerPartitions: number): LedgerEntry {
  return {
    key: ledgerKey(source, partition, Number(record.offset)),
    value: Buffer.from(JSON.stringify({ task: taskId, ts: record.timestamp })),
    partition: ledgerPartitionOf(source, ledgerPartitions),
  };
}

/** True when the ledger says this exact record (same offset and timestamp) was redriven before. */
export function wasRedriven(known: RedrivenOffsets, partition: number, record: RawRecord): boolean {
  const ts = known.get(partition)?.get(Number(record.offset));
  return ts !== undefined && ts === record.timestamp;
}

/** Ledger partition count, or null when the ledger does not exist yet. */
export async function ledgerPartitions(raw: RawKafka): Promise<number | null> {
  try {
    return (await raw.partitions(LEDGER_TOPIC)).length;
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}

/** Creates the ledger on first use (a redrive is an explicit mutation) and returns its partition count. */
export async function ensureLedger(raw: RawKafka, admin: Admin, replicationFactor: number, timeoutMs: number): Promise<number> {
  const existing = await ledgerPartitions(raw);
  if (existing !== null) return existing;
  await admin
    .createTopics({
      topics: [{ topic: LEDGER_TOPIC, numPartitions: LEDGER_PARTITIONS, replicationFactor, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
      waitForLeaders: false,
      timeout: timeoutMs,
    })
    .catch((error: unknown) => {
      // Another redrive created it meanwhile.
      if (!/already exists/i.test(String((error as Error).message))) throw error;
    });
  for (let attempt = 0; ; attempt++) {
    try {
      await raw.leaders([LEDGER_TOPIC]);
      return (await raw.partitions(LEDGER_TOPIC)).length;
    } catch (error) {
      if (!(error instanceof NotFoundError) || attempt >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50 * (attempt + 1), 500)));
    }
  }
}

/**
 * Reads the ledger partition holding `source`'s entries (committed records only) and keeps the
 * offsets inside [starts, ends) per DLT partition: memory is bounded by the range being redriven.
 */
export async function readRedriven(raw: RawKafka, source: string, partitions: number, starts: Record<string, number>, ends: Record<string, number>): Promise<RedrivenOffsets> {
  const known: RedrivenOffsets = new Map();
  const ledgerPartition = ledgerPartitionOf(source, partitions);
  const [marks] = await raw.watermarks(LEDGER_TOPIC, [ledgerPartition]);
  if (!marks) return known;
  const prefix = `${source}/`;
  let position = marks.low;
  while (position < marks.high) {
    const [data] = await raw.fetch([{ topic: LEDGER_TOPIC, partition: ledgerPartition, offset: position }], { maxWaitMs: 0, partitionMaxBytes: 1024 * 1024 });
    // Past the last stable offset (another redrive's open transaction): its entries are not committed.
    if (!data || data.nextOffset === null) break;
    for (const record of data.records) {
      const key = record.key?.toString() ?? '';
      if (!key.startsWith(prefix)) continue;
      const match = /^(\d+):(\d+)$/.exec(key.slice(prefix.length));
      if (!match) continue;
      const p = Number(match[1]);
      const offset = Number(match[2]);
      if (offset < (starts[String(p)] ?? 0) || offset >= (ends[String(p)] ?? 0)) continue;
      let ts: string | undefined;
      try {
        ts = (JSON.parse(record.value?.toString() ?? '') as { ts?: unknown }).ts as string | undefined;
      } catch {
        continue;
      }
      if (typeof ts !== 'string') continue;
      const set = known.get(p) ?? new Map<number, string>();
      set.set(offset, ts);
      known.set(p, set);
    }
    position = data.nextOffset;
  }
  return known;
}
