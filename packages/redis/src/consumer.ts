import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import {
  ClientClosedError,
  ConflictError,
  InvalidInputError,
  type ConsumerOptions,
  type MessageConsumer,
  type ReceivedMessage,
} from '@mailroom/core';
import type { ResolvedConfig } from './config';
import { Connection, type Arg } from './connection';
import { asArray, asString, numberOrNull, parseEntries, parseStreamsReply, toReceivedMessage } from './codec';
import type { DeadLetterConvention } from './names';
import { validateGroupName, validateStreamName } from './names';
import { HEARTBEAT, RECLAIM, RELEASE } from './scripts';

/** The pseudo consumer that holds entries a closing consumer gave back to its group. */
export const RELEASED_CONSUMER = 'mailroom-released';
/** Idle time set on released entries: far past any reclaim threshold, so they are reclaimed at once. */
const RELEASED_IDLE_MS = 365 * 24 * 3600 * 1000;
/** How often a consumer looks for entries to reclaim, at most. */
const RECLAIM_EVERY_MS = 500;

function consumerName(): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '').slice(0, 40) || 'host';
  return `${host}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

async function settled(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise.then(() => undefined, () => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/**
 * A consumer in a Redis consumer group. Each topic is a stream and the group is created on it
 * at subscribe (MKSTREAM). A poll first reclaims entries of dead or closed consumers
 * (XAUTOCLAIM past the idle threshold), then reads new entries with XREADGROUP BLOCK on a
 * connection of its own. commit XACKs exactly what earlier polls returned. close hands what
 * is still unacknowledged back to the group at once (see RELEASE) and deletes the consumer.
 */
export class RedisConsumer implements MessageConsumer {
  readonly name = consumerName();
  readonly group: string;
  private readonly maxMessages: number;
  private topics: string[] = [];
  private blocking: Connection | null = null;
  private blockingId: string | null = null;
  /** Read from Redis (so in this consumer's pending list) but not yet returned by poll. */
  private buffered: ReceivedMessage[] = [];
  /** Returned by poll, not yet acknowledged: topic → ids. */
  private uncommitted = new Map<string, string[]>();
  private claimCursor = new Map<string, string>();
  private lastReclaim = 0;
  private polling: Promise<ReceivedMessage[]> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private beating = false;
  private closed = false;

  constructor(
    private readonly shared: Connection,
    private readonly config: ResolvedConfig,
    private readonly convention: DeadLetterConvention,
    options: ConsumerOptions,
    private readonly onClose: (consumer: RedisConsumer) => void,
  ) {
    validateGroupName(options.group);
    this.group = options.group;
    const max = options.maxMessages ?? 100;
    if (!Number.isInteger(max) || max < 1) throw new InvalidInputError(`maxMessages must be a positive integer, got ${max}`);
    this.maxMessages = max;
  }

  async subscribe(topics: string[]): Promise<void> {
    if (this.closed) throw new ClientClosedError('Redis consumer');
    if (!Array.isArray(topics) || topics.length === 0) throw new InvalidInputError('subscribe needs at least one stream');
    for (const topic of topics) validateStreamName(topic);
    const start = this.config.newGroupStart === 'beginning' ? '0' : '$';
    for (const topic of new Set(topics)) {
      try {
        await this.shared.call(`creating group ${this.group} on ${topic}`, 'XGROUP', ['CREATE', topic, this.group, start, 'MKSTREAM']);
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    }
    this.topics = [...new Set(topics)];
    this.startHeartbeat();
  }

  async poll(timeoutMs: number): Promise<ReceivedMessage[]> {
    if (this.closed) throw new ClientClosedError('Redis consumer');
    if (this.topics.length === 0) throw new InvalidInputError('Call subscribe() before poll()');
    if (this.polling) throw new ConflictError('A poll is already running on this consumer');
    const run = this.pollOnce(Number.isFinite(timeoutMs) ? Math.max(0, timeoutMs) : 0);
    this.polling = run;
    try {
      const messages = await run;
      if (this.closed) return [];
      for (const m of messages) {
        const ids = this.uncommitted.get(m.topic) ?? [];
        ids.push(m.id);
        this.uncommitted.set(m.topic, ids);
      }
      return messages;
    } catch (error) {
      if (this.closed) return [];
      throw error;
    } finally {
      this.polling = null;
    }
  }

  private async pollOnce(timeoutMs: number): Promise<ReceivedMessage[]> {
    const deadline = performance.now() + timeoutMs;
    const out = this.buffered.splice(0, this.maxMessages);
    if (out.length === 0 && performance.now() - this.lastReclaim >= RECLAIM_EVERY_MS) {
      this.lastReclaim = performance.now();
      for (const topic of this.topics) {
        if (out.length >= this.maxMessages) break;
        out.push(...(await this.reclaim(topic, this.maxMessages - out.length)));
      }
    }
    if (out.length > 0) return out;
    return this.readNew(Math.max(0, deadline - performance.now()));
  }

  private async reclaim(topic: string, count: number): Promise<ReceivedMessage[]> {
    const cursor = this.claimCursor.get(topic) ?? '0-0';
    const reply = asArray(
      await this.shared.script(`reclaiming pending entries of ${topic}`, RECLAIM, [topic, this.convention.nameFor(topic)], [
        this.group,
        this.name,
        this.config.reclaimIdleMs,
        cursor,
        count,
        this.config.maxDeliveries ?? 0,
        Date.now(),
        RELEASED_CONSUMER,
      ]),
    );
    this.claimCursor.set(topic, asString(reply[0]));
    return asArray(reply[1]).map((item) => {
      const [id, fields, deliveries] = asArray(item);
      const [entry] = parseEntries([[id, fields]]);
      if (!entry) throw new TypeError('malformed reclaim reply');
      return toReceivedMessage(topic, entry, numberOrNull(deliveries));
    });
  }

  private async blockingConnection(): Promise<Connection> {
    this.blocking ??= new Connection(this.config, 'blocking', 'Redis consumer');
    if (this.blockingId === null) {
      // Its id lets close() end a blocked XREADGROUP with CLIENT UNBLOCK instead of a disconnect.
      this.blockingId = String(await this.blocking.call('reading the connection id', 'CLIENT', ['ID']));
    }
    return this.blocking;
  }

  private async readNew(blockMs: number): Promise<ReceivedMessage[]> {
    const connection = await this.blockingConnection();
    const args: Arg[] = ['GROUP', this.group, this.name, 'COUNT', this.maxMessages];
    const block = Math.ceil(blockMs);
    if (block >= 1) args.push('BLOCK', block);
    args.push('STREAMS', ...this.topics, ...this.topics.map(() => '>'));
    const reply = await connection.callBuffer(`reading ${this.topics.join(', ')} as group ${this.group}`, 'XREADGROUP', args);
    const all: ReceivedMessage[] = [];
    for (const { stream, entries } of parseStreamsReply(reply)) {
      for (const entry of entries) all.push(toReceivedMessage(stream, entry, 1));
    }
    // COUNT is per stream: what exceeds maxMessages waits in the buffer for the next poll.
    this.buffered.push(...all.slice(this.maxMessages));
    return all.slice(0, this.maxMessages);
  }

  async commit(): Promise<void> {
    if (this.closed) throw new ClientClosedError('Redis consumer');
    const snapshot = [...this.uncommitted].filter(([, ids]) => ids.length > 0);
    if (snapshot.length === 0) return;
    const commands: [string, ...Arg[]][] = [];
    for (const [topic, ids] of snapshot) {
      for (let i = 0; i < ids.length; i += 1000) commands.push(['XACK', topic, this.group, ...ids.slice(i, i + 1000)]);
    }
    const results = await this.shared.pipeline(`acknowledging entries of group ${this.group}`, commands);
    const failed = results.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];
    for (const [topic, ids] of snapshot) {
      const done = new Set(ids);
      const left = (this.uncommitted.get(topic) ?? []).filter((id) => !done.has(id));
      if (left.length > 0) this.uncommitted.set(topic, left);
      else this.uncommitted.delete(topic);
    }
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    const every = Math.max(250, Math.floor(this.config.reclaimIdleMs / 3));
    this.heartbeat = setInterval(() => void this.beat(), every);
    this.heartbeat.unref();
  }

  /** Keeps what this live consumer holds from looking idle, so no other consumer reclaims it. */
  private async beat(): Promise<void> {
    if (this.beating || this.closed) return;
    this.beating = true;
    try {
      const held = new Map<string, string[]>();
      for (const [topic, ids] of this.uncommitted) held.set(topic, [...ids]);
      for (const m of this.buffered) held.set(m.topic, [...(held.get(m.topic) ?? []), m.id]);
      for (const [topic, ids] of held) {
        for (let i = 0; i < ids.length && !this.closed; i += 500) {
          await this.shared.script('refreshing held entries', HEARTBEAT, [topic], [this.group, this.name, ...ids.slice(i, i + 500)]);
        }
      }
    } catch {
      // Redis unreachable: the entries may be reclaimed by another consumer, which is at-least-once.
    } finally {
      this.beating = false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    const polling = this.polling;
    if (polling && this.blockingId !== null) {
      await this.shared.call('unblocking the consumer', 'CLIENT', ['UNBLOCK', this.blockingId]).catch(() => undefined);
      await settled(polling, 1000);
    }
    this.blocking?.disconnect();
    if (polling) await settled(polling, 1000);
    // Redis down: what this consumer held is reclaimed by idle time later; do not wait for reconnects.
    const topics = this.shared.isReady ? new Set([...this.topics, ...this.uncommitted.keys()]) : new Set<string>();
    for (const topic of topics) {
      try {
        await this.shared.script(`releasing entries of ${topic}`, RELEASE, [topic], [this.group, this.name, RELEASED_CONSUMER, RELEASED_IDLE_MS]);
      } catch {
        // Unreachable Redis or a deleted stream: what this consumer held is reclaimed by idle time instead.
      }
    }
    this.buffered = [];
    this.uncommitted.clear();
    this.onClose(this);
  }
}
