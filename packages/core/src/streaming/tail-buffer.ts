import type { StoredMessage, TailBatch } from '../admin';

export interface TailBufferOptions {
  /** Most messages held; past it the oldest are dropped and counted as skipped. */
  capacity: number;
  /** Most messages per batch. */
  maxBatch: number;
  /** A batch is released at least this often while messages wait. */
  flushMs: number;
}

/**
 * Bridges a push-style broker client to a pull-style tail: the client pushes, the reader
 * takes batches. Memory stays bounded because a reader slower than the destination makes
 * the buffer drop its oldest messages and report how many it dropped.
 */
export class TailBuffer {
  private items: StoredMessage[] = [];
  private head = 0;
  private skipped = 0;
  private ended = false;
  private failure: unknown = null;
  private wake: (() => void) | null = null;

  constructor(private readonly options: TailBufferOptions) {}

  get size(): number {
    return this.items.length - this.head;
  }

  push(message: StoredMessage): void {
    if (this.ended) return;
    // A reader idling on an empty buffer must wake for the first message, then waits flushMs for more.
    const wasEmpty = this.size === 0;
    this.items.push(message);
    if (this.size > this.options.capacity) {
      this.head++;
      this.skipped++;
    }
    if (wasEmpty || this.size >= this.options.maxBatch) this.notify();
  }

  /** No more messages will come; `error` ends the reader with that error. */
  end(error?: unknown): void {
    this.ended = true;
    if (error !== undefined) this.failure = error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private take(): TailBatch {
    const end = Math.min(this.items.length, this.head + this.options.maxBatch);
    const messages = this.items.slice(this.head, end);
    this.head = end;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    const batch = { messages, skipped: this.skipped };
    this.skipped = 0;
    return batch;
  }

  /** Yields batches until `end()` or `signal` aborts. */
  async *batches(signal: AbortSignal): AsyncGenerator<TailBatch> {
    const onAbort = () => this.end();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        if (this.size === 0 && this.skipped === 0) {
          if (this.ended) break;
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
          continue;
        }
        if (this.size < this.options.maxBatch && !this.ended) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.options.flushMs);
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.wake = null;
        }
        if (signal.aborted) break;
        yield this.take();
      }
      if (this.failure !== null) throw this.failure;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}
