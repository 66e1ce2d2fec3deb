import {
  ConflictError,
  InvalidInputError,
  NotFoundError,
  type ConsumerGroupDetail,
  type ConsumerGroupMember,
  type ConsumerGroupSummary,
  type GroupPartitionLag,
  type OffsetResetTarget,
  type PendingEntry,
} from '@mailroom/core';
import type { Arg, Connection } from './connection';
import { asArray, asString, numberOrNull, parseEntries } from './codec';
import { RELEASED_CONSUMER } from './consumer';
import { validateEntryId } from './browse';
import { validateConsumerName, validateGroupName, validateStreamName } from './names';
import { consumersOf, consumersOfMany, streamInfo, type ConsumerInfo, type StreamInfo } from './streams';

export const MAX_PENDING_LIST = 10_000;

function groupState(members: ConsumerInfo[], activeMs: number): string {
  const real = members.filter((m) => m.name !== RELEASED_CONSUMER);
  if (real.length === 0) return 'empty';
  return real.some((m) => m.idleMs < activeMs) ? 'active' : 'idle';
}

function sumOrNull(values: (number | null)[]): number | null {
  if (values.some((v) => v === null)) return null;
  return values.reduce<number>((a, v) => a + (v ?? 0), 0);
}

/**
 * A Redis group lives on one stream; a Mailroom consumer subscribed to several streams has a
 * group of the same name on each. Groups are therefore merged by name across streams.
 */
export async function describeGroups(
  connection: Connection,
  streams: StreamInfo[],
  activeMs: number,
  only?: string,
): Promise<ConsumerGroupDetail[]> {
  const byName = new Map<string, { stream: StreamInfo; group: StreamInfo['groups'][number]; members: ConsumerInfo[] }[]>();
  const pairs = streams.flatMap((stream) => stream.groups.filter((g) => only === undefined || g.name === only).map((group) => ({ stream, group })));
  const members = await consumersOfMany(
    connection,
    pairs.map((p) => [p.stream.name, p.group.name]),
  );
  pairs.forEach(({ stream, group }, i) => {
    const list = byName.get(group.name) ?? [];
    list.push({ stream, group, members: members[i] ?? [] });
    byName.set(group.name, list);
  });
  const out: ConsumerGroupDetail[] = [];
  for (const [name, parts] of byName) {
    const allMembers = parts.flatMap((p) => p.members);
    const merged = new Map<string, ConsumerGroupMember>();
    for (const m of allMembers) {
      const seen = merged.get(m.name);
      merged.set(m.name, {
        id: m.name,
        host: null,
        pending: (seen?.pending ?? 0) + m.pending,
        idleMs: seen?.idleMs === null || seen?.idleMs === undefined ? m.idleMs : Math.min(seen.idleMs, m.idleMs),
      });
    }
    const partitions: GroupPartitionLag[] = parts.map((p) => ({
      destination: p.stream.name,
      partition: null,
      committed: p.group.lastDeliveredId,
      end: p.stream.lastGeneratedId,
      lag: p.group.lag,
    }));
    out.push({
      name,
      destinations: parts.map((p) => p.stream.name),
      state: groupState(allMembers, activeMs),
      members: [...merged.keys()].filter((n) => n !== RELEASED_CONSUMER).length,
      lag: sumOrNull(parts.map((p) => p.group.lag)),
      pending: parts.reduce((a, p) => a + p.group.pending, 0),
      partitions,
      membersDetail: [...merged.values()],
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export function summaryOf(detail: ConsumerGroupDetail): ConsumerGroupSummary {
  const { name, destinations, state, members, lag, pending } = detail;
  return { name, destinations, state, members, lag, pending };
}

/** The id to SETID so that delivery resumes with the first entry at or after `target`. */
async function lastDeliveredFor(connection: Connection, stream: StreamInfo, target: OffsetResetTarget): Promise<{ id: string; entriesRead: number | null }> {
  const before = async (bound: string): Promise<string> => {
    const reply = await connection.callBuffer(`resetting offsets on ${stream.name}`, 'XREVRANGE', [stream.name, `(${bound}`, '-', 'COUNT', 1]);
    return parseEntries(reply)[0]?.id ?? '0-0';
  };
  switch (target.kind) {
    case 'earliest':
      return { id: '0-0', entriesRead: 0 };
    case 'latest':
      return { id: stream.lastGeneratedId, entriesRead: stream.entriesAdded };
    case 'timestamp': {
      const ms = target.timestamp instanceof Date ? target.timestamp.getTime() : Number.NaN;
      if (!Number.isFinite(ms) || ms < 0) throw new InvalidInputError('timestamp must be a valid date');
      return { id: await before(`${Math.floor(ms)}-0`), entriesRead: null };
    }
    case 'offset':
      if (target.partition !== 0) throw new InvalidInputError('A Redis stream has one partition: 0');
      validateEntryId(target.offset, 'offset');
      return { id: await before(target.offset.includes('-') ? target.offset : `${target.offset}-0`), entriesRead: null };
    default:
      throw new InvalidInputError('Unknown offset reset target');
  }
}

export async function resetGroup(connection: Connection, group: string, destination: string, target: OffsetResetTarget, activeMs: number): Promise<void> {
  validateGroupName(group);
  validateStreamName(destination);
  const stream = await streamInfo(connection, destination);
  if (!stream.groups.some((g) => g.name === group)) throw new NotFoundError(`Stream ${destination} has no consumer group ${group}`);
  const members = await consumersOf(connection, destination, group);
  const active = members.filter((m) => m.name !== RELEASED_CONSUMER && m.idleMs < activeMs);
  if (active.length > 0) {
    throw new ConflictError(`Group ${group} on ${destination} has ${active.length} active consumer(s): ${active.map((m) => m.name).join(', ')}`, {
      hint: `Stop its consumers first (a consumer counts as active for ${activeMs} ms after Redis last saw it).`,
    });
  }
  const { id, entriesRead } = await lastDeliveredFor(connection, stream, target);
  const args: Arg[] = ['SETID', destination, group, id];
  if (entriesRead !== null) args.push('ENTRIESREAD', entriesRead);
  await connection.call(`resetting ${group} on ${destination}`, 'XGROUP', args);
}

export async function listPendingEntries(connection: Connection, destination: string, group: string, limit: number): Promise<PendingEntry[]> {
  validateStreamName(destination);
  validateGroupName(group);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PENDING_LIST) {
    throw new InvalidInputError(`limit must be an integer from 1 to ${MAX_PENDING_LIST}, got ${limit}`);
  }
  const reply = await connection.call(`listing pending entries of ${group} on ${destination}`, 'XPENDING', [destination, group, '-', '+', limit]);
  return asArray(reply).map((item) => {
    const [id, consumer, idle, count] = asArray(item);
    return { id: asString(id), consumer: asString(consumer), idleMs: numberOrNull(idle) ?? 0, deliveryCount: numberOrNull(count) ?? 0 };
  });
}

function validateIds(ids: string[]): void {
  if (!Array.isArray(ids) || ids.length === 0) throw new InvalidInputError('Give at least one entry id');
  if (ids.length > MAX_PENDING_LIST) throw new InvalidInputError(`At most ${MAX_PENDING_LIST} ids at once`);
  for (const id of ids) validateEntryId(id, 'entry id');
}

export async function ackPendingEntries(connection: Connection, destination: string, group: string, ids: string[]): Promise<number> {
  validateStreamName(destination);
  validateGroupName(group);
  validateIds(ids);
  return Number(await connection.call(`acknowledging entries of ${group} on ${destination}`, 'XACK', [destination, group, ...ids]));
}

/**
 * Transfers pending entries to `consumer` (XCLAIM ... JUSTID: ownership moves, the delivery
 * count stays, the idle time restarts). Entries no longer in the stream are dropped from
 * the pending list by Redis and not counted.
 */
export async function claimPendingEntries(connection: Connection, destination: string, group: string, consumer: string, ids: string[]): Promise<number> {
  validateStreamName(destination);
  validateGroupName(group);
  validateConsumerName(consumer);
  validateIds(ids);
  const reply = await connection.call(`claiming entries of ${group} on ${destination}`, 'XCLAIM', [destination, group, consumer, 0, ...ids, 'JUSTID']);
  return asArray(reply).length;
}
