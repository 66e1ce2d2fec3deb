import {
  ConflictError,
  Headers,
  InvalidInputError,
  NotFoundError,
  TooLargeError,
  type CreateDestinationOptions,
  type Message,
  type PublishProperties,
} from '@mailroom/core';
import { MemoryDestination } from './destination';
import { GroupCursor, type Delivery, type InFlightEntry } from './group';
import { assertValidDestinationName } from './names';
import type { MemoryRecord } from './record';

export interface MemoryBrokerOptions {
  /** Most messages kept per partition; older ones are dropped. Default 100,000. */
  retentionPerPartition?: number;
  /** Largest value accepted, in bytes. Default 8 MiB. */
  maxMessageBytes?: number;
  /** Sending to or subscribing to a missing destination creates it (1 partition). Default true. */
  autoCreate?: boolean;
  /** Deduplication window for the `deduplicationId` publish property. Default 5 minutes. */
  deduplicationWindowMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export interface GroupMember {
  id: string;
  joinedAt: number;
  lastPollAt: number | null;
  destinations: Set<string>;
}

export class GroupState {
  readonly members = new Map<string, GroupMember>();
  readonly cursors = new Map<string, GroupCursor>();
  constructor(readonly name: string) {}
}

export const MAX_PARTITIONS = 1000;

/** The in-process broker: destinations, consumer groups and the wake-ups that let polls wait. */
export class MemoryBroker {
  readonly destinations = new Map<string, MemoryDestination>();
  readonly groups = new Map<string, GroupState>();
  readonly retentionPerPartition: number;
  readonly maxMessageBytes: number;
  readonly autoCreate: boolean;
  readonly deduplicationWindowMs: number;
  readonly now: () => number;
  private readonly waiters = new Set<() => void>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(options: MemoryBrokerOptions = {}) {
    this.retentionPerPartition = positiveInteger(options.retentionPerPartition ?? 100_000, 'retentionPerPartition');
    this.maxMessageBytes = positiveInteger(options.maxMessageBytes ?? 8 * 1024 * 1024, 'maxMessageBytes');
    this.autoCreate = options.autoCreate ?? true;
    this.deduplicationWindowMs = options.deduplicationWindowMs ?? 5 * 60_000;
    this.now = options.now ?? (() => Date.now());
  }

  createDestination(name: string, options: CreateDestinationOptions = {}): MemoryDestination {
    assertValidDestinationName(name);
    if (this.destinations.has(name)) throw new ConflictError(`Destination ${name} already exists`);
    const partitions = options.partitions ?? 1;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
      throw new InvalidInputError(`partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${partitions}`);
    }
    const type = options.type ?? 'topic';
    if (type !== 'topic' && type !== 'queue') throw new InvalidInputError(`type must be 'topic' or 'queue', got ${JSON.stringify(type)}`);
    let deadLetter = null;
    if (options.deadLetter) {
      const { destination, maxDeliveries } = options.deadLetter;
      assertValidDestinationName(destination);
      if (destination === name) throw new InvalidInputError('A destination cannot be its own dead-letter queue');
      if (!Number.isInteger(maxDeliveries) || maxDeliveries < 1) {
        throw new InvalidInputError(`maxDeliveries must be a positive integer, got ${maxDeliveries}`);
      }
      deadLetter = { destination, maxDeliveries };
    }
    const created = new MemoryDestination(name, partitions, type, deadLetter, this.retentionPerPartition);
    this.destinations.set(name, created);
    if (deadLetter && !this.destinations.has(deadLetter.destination)) {
      this.destinations.set(deadLetter.destination, new MemoryDestination(deadLetter.destination, 1, type, null, this.retentionPerPartition));
    }
    return created;
  }

  deleteDestination(name: string): void {
    const destination = this.get(name);
    this.destinations.delete(name);
    for (const group of this.groups.values()) group.cursors.delete(name);
    destination.listeners.clear();
    this.wake();
  }

  /** The destination, or NotFoundError. */
  get(name: string): MemoryDestination {
    assertValidDestinationName(name);
    const destination = this.destinations.get(name);
    if (!destination) throw new NotFoundError(`Destination ${name} does not exist`, { hint: 'Check the name, or create it first.' });
    return destination;
  }

  /** The destination, created when missing and autoCreate is on. */
  obtain(name: string): MemoryDestination {
    assertValidDestinationName(name);
    const existing = this.destinations.get(name);
    if (existing) return existing;
    if (!this.autoCreate) return this.get(name);
    return this.createDestination(name);
  }

  /**
   * Stores one message. Returns the record, or null when it was delayed (stored later) or
   * dropped as a duplicate of a recent deduplicationId.
   */
  append(name: string, message: Message, properties: PublishProperties = {}): MemoryRecord | null {
    const destination = this.obtain(name);
    if (!(message.value instanceof Uint8Array)) throw new InvalidInputError('A message value must be bytes (Uint8Array)');
    if (message.value.byteLength > this.maxMessageBytes) {
      throw new TooLargeError(`The value is ${message.value.byteLength} bytes; this broker accepts at most ${this.maxMessageBytes}`);
    }
    if (message.key !== null && typeof message.key !== 'string') throw new InvalidInputError('A message key must be a string or null');
    for (const [k, v] of Object.entries(message.headers)) {
      if (typeof v !== 'string') throw new InvalidInputError(`Header ${k} must be a string`);
    }
    const now = this.now();
    if (properties.deduplicationId !== undefined && destination.seenDeduplicationId(properties.deduplicationId, now, this.deduplicationWindowMs)) {
      return null;
    }
    let partition = destination.partitionFor(message.key);
    if (properties.partition !== undefined) {
      if (!Number.isInteger(properties.partition) || properties.partition < 0 || properties.partition >= destination.partitions.length) {
        throw new InvalidInputError(`${name} has partitions 0 to ${destination.partitions.length - 1}; got ${properties.partition}`);
      }
      partition = properties.partition;
    }
    const stored = {
      key: message.key,
      value: new Uint8Array(message.value),
      headers: { ...message.headers },
      properties: propertiesRecord(properties),
      timestamp: new Date(message.timestamp.getTime()),
      expiresAt: properties.expirationMs !== undefined ? now + properties.expirationMs : null,
    };
    const delayMs = (properties.delaySeconds ?? 0) * 1000;
    if (delayMs > 0) {
      destination.delayed++;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        destination.delayed--;
        if (this.destinations.get(name) !== destination) return;
        destination.append(partition, { ...stored, expiresAt: stored.expiresAt === null ? null : stored.expiresAt + delayMs });
        this.wake();
      }, delayMs);
      timer.unref?.();
      this.timers.add(timer);
      return null;
    }
    const record = destination.append(partition, stored);
    this.wake();
    return record;
  }

  group(name: string): GroupState {
    let group = this.groups.get(name);
    if (!group) {
      group = new GroupState(name);
      this.groups.set(name, group);
    }
    return group;
  }

  /** The group's cursor on a destination, positioned at its end when new. */
  cursor(group: GroupState, destination: MemoryDestination): GroupCursor {
    let cursor = group.cursors.get(destination.name);
    if (!cursor || cursor.destination !== destination) {
      cursor = new GroupCursor(destination);
      group.cursors.set(destination.name, cursor);
    }
    return cursor;
  }

  join(groupName: string, memberId: string, destinations: string[]): void {
    const group = this.group(groupName);
    const resolved = destinations.map((name) => this.obtain(name));
    const member = group.members.get(memberId) ?? { id: memberId, joinedAt: this.now(), lastPollAt: null, destinations: new Set<string>() };
    for (const destination of resolved) {
      this.cursor(group, destination);
      member.destinations.add(destination.name);
    }
    group.members.set(memberId, member);
  }

  /** Up to `max` deliveries for a member, across its destinations. */
  take(groupName: string, memberId: string, max: number): { destination: string; delivery: Delivery }[] {
    const group = this.groups.get(groupName);
    const member = group?.members.get(memberId);
    if (!group || !member) return [];
    member.lastPollAt = this.now();
    const out: { destination: string; delivery: Delivery }[] = [];
    for (const name of member.destinations) {
      const destination = this.destinations.get(name);
      if (!destination) continue;
      const cursor = this.cursor(group, destination);
      for (const delivery of cursor.take(memberId, max - out.length, this.now())) out.push({ destination: name, delivery });
      if (out.length >= max) break;
    }
    return out;
  }

  /** Acknowledges what `memberId` still holds among `refs`. */
  commit(groupName: string, memberId: string, refs: { destination: string; partition: number; offset: number }[]): number {
    const group = this.groups.get(groupName);
    if (!group) return 0;
    let acked = 0;
    for (const ref of refs) {
      const cursor = group.cursors.get(ref.destination);
      const entry = cursor?.inFlight.get(`${ref.partition}:${ref.offset}`);
      if (!cursor || !entry || entry.owner !== memberId) continue;
      if (cursor.ack(ref.partition, ref.offset)) acked++;
    }
    return acked;
  }

  /** A member leaves: what it held goes back to the group, or to the DLQ past maxDeliveries. */
  leave(groupName: string, memberId: string): void {
    const group = this.groups.get(groupName);
    if (!group) return;
    group.members.delete(memberId);
    for (const cursor of group.cursors.values()) {
      const config = cursor.destination.deadLetter;
      const exhausted = cursor.release(memberId, config?.maxDeliveries ?? null);
      if (config) this.deadLetterExhausted(cursor, exhausted, config.destination, config.maxDeliveries);
    }
    this.wake();
  }

  private deadLetterExhausted(cursor: GroupCursor, entries: InFlightEntry[], dlq: string, maxDeliveries: number): void {
    const now = this.now();
    for (const entry of entries) {
      const record = cursor.destination.get(entry.partition, entry.offset);
      if (record) {
        const reason = `delivered ${entry.deliveryCount} times without acknowledgement (maxDeliveries ${maxDeliveries})`;
        this.append(
          dlq,
          {
            key: record.key,
            value: record.value,
            timestamp: record.timestamp,
            headers: {
              ...record.headers,
              [Headers.deadLetterOrigin]: cursor.destination.name,
              [Headers.deadLetterReason]: reason,
              [Headers.deadLetterAttempts]: String(entry.deliveryCount),
              [Headers.deadLetterFailedAt]: new Date(now).toISOString(),
            },
          },
          {},
        );
      }
      cursor.ack(entry.partition, entry.offset);
    }
  }

  hasWorkFor(groupName: string, memberId: string): boolean {
    const group = this.groups.get(groupName);
    const member = group?.members.get(memberId);
    if (!group || !member) return false;
    for (const name of member.destinations) {
      const cursor = group.cursors.get(name);
      if (cursor && (cursor.hasWaiting || cursor.hasClaimedFor(memberId))) return true;
    }
    return false;
  }

  /** Resolves on the next append/return/claim, after `timeoutMs`, or on abort. */
  waitForChange(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  wake(): void {
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiting) wake();
  }

  /** Stops delayed publishes. The stored data stays until the broker is dropped. */
  shutdown(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.wake();
  }
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidInputError(`${what} must be a positive integer, got ${value}`);
  return value;
}

function propertiesRecord(properties: PublishProperties): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(properties)) {
    if (value !== undefined && name !== 'partition' && name !== 'delaySeconds') out[name] = String(value);
  }
  return out;
}
