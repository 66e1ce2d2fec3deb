import { expect } from 'vitest';
import {
  NotFoundError,
  bytesEqual,
  toHex,
  utf8,
  type BrokerAdapter,
  type CreateDestinationOptions,
  type MailroomError,
  type Message,
  type MessageConsumer,
  type MessageProducer,
  type ReceivedMessage,
} from '@mailroom/core';

/** Lower-case base36 run id: destination names stay within [a-z0-9-] on every broker. */
export function newRunId(): string {
  const random = Math.floor(Math.random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0');
  return `${Date.now().toString(36)}${random}`;
}

export function message(value: Uint8Array | string, headers: Record<string, string> = {}, key: string | null = null): Message {
  return { key, value: typeof value === 'string' ? utf8(value) : value, headers, timestamp: new Date() };
}

/**
 * Owns what one case creates on the broker, and removes it afterwards in reverse order:
 * clients are closed before their destinations are deleted.
 */
export class CaseScope {
  private readonly cleanups: { label: string; run: () => Promise<void> }[] = [];

  constructor(
    readonly adapter: BrokerAdapter,
    /** `mr-conf-<runid>-<case>` */
    readonly prefix: string,
    private readonly warn: (line: string) => void,
  ) {}

  /** A unique destination name for this case; `suffix` tells several apart. */
  name(suffix?: string): string {
    return suffix === undefined ? this.prefix : `${this.prefix}-${suffix}`;
  }

  group(suffix: string): string {
    return `${this.prefix}-${suffix}`;
  }

  async destination(name: string, options: CreateDestinationOptions = { partitions: 1 }): Promise<string> {
    await this.adapter.createDestination(name, options);
    this.cleanups.push({
      label: `delete destination ${name}`,
      run: async () => {
        try {
          await this.adapter.deleteDestination(name);
        } catch (error) {
          if (!(error instanceof NotFoundError) && (error as MailroomError | null)?.code !== 'NOT_FOUND') throw error;
        }
      },
    });
    return name;
  }

  producer(): MessageProducer {
    const producer = this.adapter.createProducer();
    this.cleanups.push({ label: 'close producer', run: () => producer.close() });
    return producer;
  }

  consumer(group: string, maxMessages?: number): MessageConsumer {
    const consumer = this.adapter.createConsumer(maxMessages === undefined ? { group } : { group, maxMessages });
    this.cleanups.push({ label: `close consumer of ${group}`, run: () => consumer.close() });
    return consumer;
  }

  /** A consumer already subscribed to `topics`. */
  async subscribed(group: string, topics: string[], maxMessages?: number): Promise<MessageConsumer> {
    const consumer = this.consumer(group, maxMessages);
    await consumer.subscribe(topics);
    return consumer;
  }

  onCleanup(label: string, run: () => Promise<void>): void {
    this.cleanups.push({ label, run });
  }

  /** Runs every cleanup; failures are printed, never thrown, so they cannot hide the case's own result. */
  async dispose(): Promise<void> {
    for (const cleanup of this.cleanups.reverse()) {
      try {
        await bounded(cleanup.run(), 30_000, cleanup.label);
      } catch (error) {
        this.warn(`cleanup "${cleanup.label}" failed: ${describeError(error)}`);
      }
    }
    this.cleanups.length = 0;
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Rejects (with a plain Error naming `what`) when `promise` does not settle in `ms`: a hang fails a case, never the run. */
export async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface CollectOptions {
  /** Give up (and return what came) after this long. */
  deadlineMs: number;
  pollMs?: number;
  /** Commit after every non-empty poll. Default true. */
  commit?: boolean;
  /** After reaching the count, keep polling this long to catch extra deliveries. Default 0. */
  settleMs?: number;
}

/** Polls until at least `expected` messages came or the deadline passed; returns every message received. */
export async function collect(consumer: MessageConsumer, expected: number, options: CollectOptions): Promise<ReceivedMessage[]> {
  const pollMs = options.pollMs ?? 1000;
  const commit = options.commit ?? true;
  const received: ReceivedMessage[] = [];
  const deadline = Date.now() + options.deadlineMs;
  while (received.length < expected && Date.now() < deadline) {
    const batch = await consumer.poll(Math.min(pollMs, Math.max(1, deadline - Date.now())));
    received.push(...batch);
    if (commit && batch.length > 0) await consumer.commit();
  }
  const settleMs = options.settleMs ?? 0;
  if (settleMs > 0) {
    const settleEnd = Date.now() + settleMs;
    while (Date.now() < settleEnd) {
      const batch = await consumer.poll(Math.max(1, Math.min(pollMs, settleEnd - Date.now())));
      received.push(...batch);
      if (commit && batch.length > 0) await consumer.commit();
    }
  }
  return received;
}

/** Byte-exact comparison with a readable failure (lengths, first differing index) instead of a megabyte diff. */
export function expectBytes(actual: Uint8Array, expected: Uint8Array, label: string): void {
  if (bytesEqual(actual, expected)) return;
  let index = 0;
  while (index < Math.min(actual.byteLength, expected.byteLength) && actual[index] === expected[index]) index++;
  const around = (bytes: Uint8Array) => toHex(bytes.subarray(Math.max(0, index - 4), index + 12));
  expect.fail(
    `${label}: bytes differ. expected ${expected.byteLength} bytes, got ${actual.byteLength}; first difference at index ${index} ` +
      `(expected …${around(expected)}…, got …${around(actual)}…)`,
  );
}

/** Expects `promise` to reject with `errorClass` (checked by class and by name) within `withinMs`; returns the elapsed ms. */
export async function expectRejection(
  promise: Promise<unknown>,
  errorClass: abstract new (...args: never[]) => Error,
  label: string,
  withinMs: number,
): Promise<number> {
  const started = Date.now();
  let outcome: { ok: true } | { ok: false; error: unknown };
  try {
    await bounded(promise, withinMs + 2_000, label);
    outcome = { ok: true };
  } catch (error) {
    outcome = { ok: false, error };
  }
  const elapsed = Date.now() - started;
  if (outcome.ok) expect.fail(`${label}: resolved, expected a ${errorClass.name}`);
  const error = outcome.error;
  const matches = error instanceof errorClass || (error instanceof Error && error.name === errorClass.name);
  if (!matches) expect.fail(`${label}: expected a ${errorClass.name}, got ${describeError(error)}`);
  expect(elapsed, `${label}: took ${elapsed} ms, the limit is ${withinMs} ms`).toBeLessThanOrEqual(withinMs);
  return elapsed;
}

/** Expects a synchronous call to throw `errorClass`. */
export function expectThrow(run: () => unknown, errorClass: abstract new (...args: never[]) => Error, label: string): void {
  try {
    run();
  } catch (error) {
    const matches = error instanceof errorClass || (error instanceof Error && error.name === errorClass.name);
    if (!matches) expect.fail(`${label}: expected a ${errorClass.name}, got ${describeError(error)}`);
    return;
  }
  expect.fail(`${label}: did not throw, expected a ${errorClass.name}`);
}

/** Asserts every id appears exactly once; returns the duplicates for a readable failure. */
export function duplicatesOf(ids: string[]): string[] {
  const seen = new Set<string>();
  const duplicates: string[] = [];
  for (const id of ids) {
    if (seen.has(id)) duplicates.push(id);
    seen.add(id);
  }
  return duplicates;
}

export function header(message: { headers: Record<string, string> }, name: string): string {
  const value = message.headers[name];
  if (value === undefined) expect.fail(`message is missing header ${name}; it has ${JSON.stringify(Object.keys(message.headers))}`);
  return value;
}

/** Deterministic pseudo-random bytes (xorshift), so a failure reproduces. */
export function pseudoRandomBytes(length: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  deadlineMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    value = await read();
  }
  return value;
}
