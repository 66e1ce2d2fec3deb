import { messageIdentity } from '../headers';
import type { ReceivedMessage } from '../message';

/** Remembers which message ids were handled. Implementations may be shared (Redis, SQL...). */
export interface DedupeStore {
  has(id: string): Promise<boolean> | boolean;
  add(id: string): Promise<void> | void;
}

/** In-process store that forgets the oldest ids past `capacity`, so memory stays bounded. */
export class BoundedDedupeStore implements DedupeStore {
  private readonly seen = new Map<string, true>();

  constructor(readonly capacity = 10_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  has(id: string): boolean {
    return this.seen.has(id);
  }

  add(id: string): void {
    this.seen.delete(id);
    this.seen.set(id, true);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
  }

  get size(): number {
    return this.seen.size;
  }
}

export interface IdempotentStats {
  handled: number;
  duplicates: number;
  /** Messages with no identity: handled, but they cannot be deduplicated. */
  withoutIdentity: number;
}

/** Default identity: the message-id / idempotency-key header (the broker's own ids differ between copies of one message). */
export function defaultIdentity(message: ReceivedMessage): string | null {
  return messageIdentity(message.headers) ?? null;
}

/**
 * Wraps a handler so a message whose id was already handled is skipped. The id is recorded
 * only after the handler succeeds, so a failed attempt is retried rather than lost.
 */
export function idempotent(
  handler: (message: ReceivedMessage) => Promise<void>,
  options: { store?: DedupeStore; identity?: (message: ReceivedMessage) => string | null } = {},
): ((message: ReceivedMessage) => Promise<void>) & { stats: IdempotentStats } {
  const store = options.store ?? new BoundedDedupeStore();
  const identity = options.identity ?? defaultIdentity;
  const stats: IdempotentStats = { handled: 0, duplicates: 0, withoutIdentity: 0 };
  const wrapped = async (message: ReceivedMessage) => {
    const id = identity(message);
    if (id === null) {
      stats.withoutIdentity++;
      await handler(message);
      stats.handled++;
      return;
    }
    if (await store.has(id)) {
      stats.duplicates++;
      return;
    }
    await handler(message);
    await store.add(id);
    stats.handled++;
  };
  return Object.assign(wrapped, { stats });
}
