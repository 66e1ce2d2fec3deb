import { InvalidInputError, NotFoundError } from '@mailroom/core';
import type { Arg, Connection } from './connection';
import { asArray, asString, flatRecord, idTime, numberOrNull } from './codec';

export interface GroupInfo {
  name: string;
  consumers: number;
  pending: number;
  lastDeliveredId: string;
  /** Null when Redis cannot tell (e.g. after deletions or SETID without ENTRIESREAD). */
  entriesRead: number | null;
  lag: number | null;
}

export interface StreamInfo {
  name: string;
  length: number;
  firstId: string | null;
  lastId: string | null;
  lastGeneratedId: string;
  maxDeletedId: string;
  entriesAdded: number;
  groups: GroupInfo[];
}

export interface ConsumerInfo {
  name: string;
  pending: number;
  idleMs: number;
}

/**
 * Yields the names of stream keys matching `pattern`, one SCAN batch at a time. SCAN with
 * a bounded COUNT does a small, fixed amount of work per call, so Redis keeps serving other
 * clients between batches however large the keyspace is (KEYS would block it).
 */
export async function* scanStreamNames(connection: Connection, pattern: string, count: number): AsyncGenerator<string[]> {
  let cursor = '0';
  do {
    const reply = asArray(await connection.call('discovering streams', 'SCAN', [cursor, 'MATCH', pattern, 'COUNT', count, 'TYPE', 'stream']));
    cursor = asString(reply[0]);
    const keys = asArray(reply[1]).map(asString);
    if (keys.length > 0) yield keys;
  } while (cursor !== '0');
}

export async function allStreamNames(connection: Connection, pattern: string, count: number): Promise<string[]> {
  const names: string[] = [];
  for await (const batch of scanStreamNames(connection, pattern, count)) names.push(...batch);
  return [...new Set(names)].sort();
}

function entryId(x: unknown): string | null {
  if (x === null || x === undefined) return null;
  const pair = asArray(x);
  return pair.length > 0 ? asString(pair[0]) : null;
}

function parseStream(name: string, streamReply: unknown, groupsReply: unknown): StreamInfo {
  const s = flatRecord(streamReply);
  return {
    name,
    length: numberOrNull(s['length']) ?? 0,
    firstId: entryId(s['first-entry']),
    lastId: entryId(s['last-entry']),
    lastGeneratedId: asString(s['last-generated-id'] ?? '0-0'),
    maxDeletedId: asString(s['max-deleted-entry-id'] ?? '0-0'),
    entriesAdded: numberOrNull(s['entries-added']) ?? 0,
    groups: asArray(groupsReply).map((g) => {
      const r = flatRecord(g);
      return {
        name: asString(r['name']),
        consumers: numberOrNull(r['consumers']) ?? 0,
        pending: numberOrNull(r['pending']) ?? 0,
        lastDeliveredId: asString(r['last-delivered-id'] ?? '0-0'),
        entriesRead: numberOrNull(r['entries-read']),
        lag: numberOrNull(r['lag']),
      };
    }),
  };
}

function isNoSuchKey(error: Error): boolean {
  return /no such key/i.test(error.message);
}

/** XINFO STREAM + XINFO GROUPS for many streams, pipelined in batches; streams deleted meanwhile are left out. */
export async function streamInfos(connection: Connection, names: string[]): Promise<StreamInfo[]> {
  const out: StreamInfo[] = [];
  for (let i = 0; i < names.length; i += 100) {
    const batch = names.slice(i, i + 100);
    const commands: [string, ...Arg[]][] = batch.flatMap((name) => [
      ['XINFO', 'STREAM', name] as [string, ...Arg[]],
      ['XINFO', 'GROUPS', name] as [string, ...Arg[]],
    ]);
    const results = await connection.pipeline('reading stream info', commands);
    batch.forEach((name, j) => {
      const [streamError, stream] = results[2 * j] ?? [null, null];
      const [groupsError, groups] = results[2 * j + 1] ?? [null, null];
      const error = streamError ?? groupsError;
      if (error) {
        if (isNoSuchKey(error) || /not a stream/.test(error.message)) return;
        throw error;
      }
      out.push(parseStream(name, stream, groups));
    });
  }
  return out;
}

/** One stream's info; NotFoundError when there is no such key, InvalidInputError when it is not a stream. */
export async function streamInfo(connection: Connection, name: string): Promise<StreamInfo> {
  const type = asString(await connection.call(`reading ${name}`, 'TYPE', [name]));
  if (type === 'none') throw new NotFoundError(`Stream ${name} does not exist`);
  if (type !== 'stream') throw new InvalidInputError(`Key ${name} holds a ${type}, not a stream`);
  const [info] = await streamInfos(connection, [name]);
  if (!info) throw new NotFoundError(`Stream ${name} does not exist`);
  return info;
}

function parseConsumers(reply: unknown): ConsumerInfo[] {
  return asArray(reply).map((c) => {
    const r = flatRecord(c);
    return { name: asString(r['name']), pending: numberOrNull(r['pending']) ?? 0, idleMs: numberOrNull(r['idle']) ?? 0 };
  });
}

export async function consumersOf(connection: Connection, stream: string, group: string): Promise<ConsumerInfo[]> {
  return parseConsumers(await connection.call(`reading consumers of ${group} on ${stream}`, 'XINFO', ['CONSUMERS', stream, group]));
}

/** XINFO CONSUMERS for many (stream, group) pairs, pipelined; a pair deleted meanwhile has no consumers. */
export async function consumersOfMany(connection: Connection, pairs: [string, string][]): Promise<ConsumerInfo[][]> {
  const out: ConsumerInfo[][] = [];
  for (let i = 0; i < pairs.length; i += 100) {
    const batch = pairs.slice(i, i + 100);
    const results = await connection.pipeline(
      'reading group consumers',
      batch.map(([stream, group]) => ['XINFO', 'CONSUMERS', stream, group]),
    );
    for (const [error, reply] of results) {
      if (error && !(error instanceof NotFoundError) && !isNoSuchKey(error)) throw error;
      out.push(error ? [] : parseConsumers(reply));
    }
  }
  return out;
}

export function oldestAgeMs(info: StreamInfo, now = Date.now()): number | null {
  return info.firstId === null ? null : Math.max(0, now - idTime(info.firstId));
}
