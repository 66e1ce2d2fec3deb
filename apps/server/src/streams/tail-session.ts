import { randomBytes } from 'node:crypto';
import type { MessagePredicate, StoredMessage, TailBatch } from '@mailroom/core';
import type { TailSettings } from '../config/settings';
import type { Connection } from '../connections/connection';
import type { MessageMask } from '../masking/masker';
import { toWireMessage, type WireMessage } from '../wire';

export interface TailEvent {
  /** Sequence number within the session, 1-based; the SSE event id is `${sessionId}:${seq}`. */
  seq: number;
  messages: WireMessage[];
  /** Messages this event stands for that were dropped because the reader fell behind. */
  skipped: number;
  /** Messages and skipped counts of every event of the session up to and including this one. */
  total: number;
}

export interface TailSessionSpec {
  connection: Connection;
  destination: string;
  partition: number | null;
  filter: MessagePredicate | null;
  force: boolean;
  mask: MessageMask;
}

/**
 * One live tail of a destination. It reads the adapter's tail into a bounded buffer, flushes a
 * batch every `flushMs` (or as soon as `maxBatch` messages wait), and keeps the last batches in a
 * bounded ring so a client that reconnects with its last event id gets what it missed.
 * It outlives a disconnected client by `resumeGraceMs`, then aborts the adapter's tail.
 */
export class TailSession {
  readonly id = randomBytes(6).toString('hex');
  private readonly controller = new AbortController();
  private pending: StoredMessage[] = [];
  private pendingSkipped = 0;
  private readonly ring: TailEvent[] = [];
  private ringMessages = 0;
  private seq = 0;
  private total = 0;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private waiters = new Set<() => void>();
  private attached = 0;
  private graceTimer: ReturnType<typeof setTimeout> | null = null;
  private failure: unknown = null;
  private ended = false;
  private markReady: () => void = () => undefined;
  /**
   * Resolves once the adapter's tail is positioned (every message published from then on is
   * delivered), or when it delivered something, ended or failed first.
   */
  readonly ready: Promise<void>;
  readonly done: Promise<void>;

  constructor(
    private readonly spec: TailSessionSpec,
    private readonly settings: TailSettings,
    private readonly onClose: (session: TailSession) => void,
  ) {
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
    this.done = this.pump();
  }

  get connectionId(): string {
    return this.spec.connection.id;
  }

  get closed(): boolean {
    return this.controller.signal.aborted;
  }

  get failed(): unknown {
    return this.failure;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private async pump(): Promise<void> {
    const { connection } = this.spec;
    try {
      const adapter = connection.requireAdapter();
      const iterable = adapter.tail({
        destination: this.spec.destination,
        partition: this.spec.partition,
        filter: this.spec.filter,
        signal: this.controller.signal,
        maxBatch: this.settings.maxBatch,
        force: this.spec.force,
        onReady: () => this.markReady(),
      });
      for await (const batch of iterable) {
        this.markReady();
        this.accept(batch);
        if (this.controller.signal.aborted) break;
      }
    } catch (error) {
      if (!this.controller.signal.aborted) this.failure = connection.mapError(error);
    } finally {
      this.flush();
      this.ended = true;
      this.markReady();
      this.wakeAll();
      if (this.attached === 0) this.close();
    }
  }

  private accept(batch: TailBatch): void {
    this.pendingSkipped += batch.skipped;
    for (const message of batch.messages) this.pending.push(message);
    const overflow = this.pending.length - this.settings.bufferCapacity;
    if (overflow > 0) {
      this.pending.splice(0, overflow);
      this.pendingSkipped += overflow;
    }
    if (this.pending.length >= this.settings.maxBatch) this.flush();
    else if (this.flushTimer === null && (this.pending.length > 0 || this.pendingSkipped > 0)) {
      this.flushTimer = setTimeout(() => this.flush(), this.settings.flushMs);
    }
  }

  private flush(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    while (this.pending.length > 0 || this.pendingSkipped > 0) {
      const messages = this.pending.splice(0, this.settings.maxBatch);
      this.total += messages.length + this.pendingSkipped;
      const event: TailEvent = {
        seq: ++this.seq,
        messages: messages.map((m) => toWireMessage(m, this.settings.maxValueBytes, this.spec.mask)),
        skipped: this.pendingSkipped,
        total: this.total,
      };
      this.pendingSkipped = 0;
      this.ring.push(event);
      this.ringMessages += event.messages.length;
      while (this.ring.length > this.settings.ringBatches || (this.ringMessages > this.settings.ringMessages && this.ring.length > 1)) {
        const old = this.ring.shift()!;
        this.ringMessages -= old.messages.length;
      }
    }
    this.wakeAll();
  }

  private wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /**
   * Events after the one with `afterSeq` (whose `total` was `afterTotal`). When some of them
   * already fell out of the ring, `lost` counts the messages they stood for.
   */
  eventsAfter(afterSeq: number, afterTotal: number): { events: TailEvent[]; lost: number } {
    const first = this.ring[0];
    if (!first) return { events: [], lost: 0 };
    if (afterSeq + 1 < first.seq) {
      const lost = Math.max(0, first.total - first.messages.length - first.skipped - afterTotal);
      return { events: this.ring.slice(), lost };
    }
    return { events: this.ring.slice(afterSeq + 1 - first.seq), lost: 0 };
  }

  get latestSeq(): number {
    return this.seq;
  }

  /** Resolves when a new event arrives, the tail ends, or `signal` aborts. */
  waitForEvent(afterSeq: number, signal: AbortSignal): Promise<void> {
    if (this.seq > afterSeq || this.ended || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  attach(): void {
    this.attached += 1;
    if (this.graceTimer !== null) clearTimeout(this.graceTimer);
    this.graceTimer = null;
  }

  detach(): void {
    this.attached = Math.max(0, this.attached - 1);
    if (this.attached > 0) return;
    if (this.ended || this.settings.resumeGraceMs <= 0) {
      this.close();
      return;
    }
    this.graceTimer = setTimeout(() => this.close(), this.settings.resumeGraceMs);
    this.graceTimer.unref?.();
  }

  /** Aborts the adapter's tail (releasing its broker resources) and forgets the ring. */
  close(): void {
    if (this.graceTimer !== null) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.controller.signal.aborted) this.controller.abort();
    this.wakeAll();
    this.onClose(this);
  }
}
