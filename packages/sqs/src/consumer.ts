import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import { ClientClosedError, InvalidInputError, sleep, type ConsumerOptions, type MessageConsumer, type ReceivedMessage } from '@mailroom/core';
import { Aborted, type SqsConnection } from './connection';
import { PartialBatchError } from './errors';
import { validateQueueName } from './names';
import { MAX_WAIT_SECONDS, receive } from './receive';
import { toReceivedMessage } from './received';
import { deleteMessages, release, type HeldMessage } from './visibility';

interface Subscription {
  queue: string;
  url: string;
}

/**
 * The pattern card's consumer on SQS. A group is simply the queue's consumers: they compete,
 * each message goes to one of them (SQS has no fan-out without SNS). `poll` long-polls
 * (WaitTimeSeconds from the timeout); `commit` deletes exactly the messages earlier polls
 * returned; `close` makes the uncommitted ones visible again at once (VisibilityTimeout 0),
 * otherwise they return when their visibility timeout ends.
 */
export class SqsConsumer implements MessageConsumer {
  private subscriptions: Subscription[] = [];
  /** Polled, not yet committed; keyed by queue URL and message id (a redelivery replaces the receipt handle). */
  private readonly pending = new Map<string, HeldMessage>();
  private readonly polls = new Set<{ controller: AbortController; done: Promise<unknown> }>();
  private closed = false;
  private closing: Promise<void> | null = null;
  private nextQueue = 0;
  private readonly maxMessages: number;

  constructor(
    private readonly connection: SqsConnection,
    readonly options: ConsumerOptions,
    private readonly onClosed: (consumer: SqsConsumer) => void,
  ) {
    const max = options.maxMessages ?? 100;
    if (!Number.isInteger(max) || max < 1) throw new InvalidInputError(`maxMessages must be a positive integer, got ${max}`);
    this.maxMessages = max;
  }

  private assertOpen(): void {
    if (this.closed) throw new ClientClosedError('SQS consumer');
  }

  async subscribe(topics: string[]): Promise<void> {
    this.assertOpen();
    if (!Array.isArray(topics) || topics.length === 0) throw new InvalidInputError('subscribe needs at least one queue name');
    topics.forEach((t) => validateQueueName(t));
    const subscriptions: Subscription[] = [];
    for (const queue of new Set(topics)) subscriptions.push({ queue, url: await this.connection.queueUrl(queue) });
    this.assertOpen();
    this.subscriptions = subscriptions;
  }

  async poll(timeoutMs: number): Promise<ReceivedMessage[]> {
    this.assertOpen();
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new InvalidInputError(`poll timeout must be a non-negative number of milliseconds, got ${timeoutMs}`);
    }
    if (this.subscriptions.length === 0) throw new InvalidInputError('poll before subscribe: subscribe to at least one queue first');
    const controller = new AbortController();
    const received: { queue: string; url: string; message: SqsMessage }[] = [];
    // Whatever was received is held (to commit, or to release on close) even if the poll fails midway.
    const work = this.receiveUntil(Date.now() + timeoutMs, received, controller.signal).finally(() => this.hold(received));
    const entry = { controller, done: work.catch(() => undefined) };
    this.polls.add(entry);
    try {
      await work;
    } catch (error) {
      if (!(error instanceof Aborted) && !(error instanceof ClientClosedError && this.closed)) throw error;
    } finally {
      this.polls.delete(entry);
    }
    if (this.closed) return [];
    return received.map((r) => toReceivedMessage(r.queue, r.message));
  }

  private hold(received: { queue: string; url: string; message: SqsMessage }[]): void {
    for (const r of received) {
      if (!r.message.MessageId || !r.message.ReceiptHandle) continue;
      this.pending.set(`${r.url}\n${r.message.MessageId}`, { queue: r.queue, url: r.url, messageId: r.message.MessageId, receiptHandle: r.message.ReceiptHandle });
    }
  }

  private async receiveUntil(deadline: number, into: { queue: string; url: string; message: SqsMessage }[], signal: AbortSignal): Promise<void> {
    const visibilityTimeout = this.connection.config.consumerVisibilityTimeoutSeconds ?? undefined;
    for (;;) {
      const remaining = deadline - Date.now();
      const wanted = this.maxMessages - into.length;
      const waitSeconds = Math.max(0, Math.min(MAX_WAIT_SECONDS, Math.floor(remaining / 1000)));
      const got = await this.receiveOnce(Math.min(10, wanted), waitSeconds, visibilityTimeout, signal);
      into.push(...got);
      if (got.length > 0) {
        // Drain what is already waiting, without waiting for more.
        let last = got.length;
        while (last === 10 && into.length < this.maxMessages && Date.now() < deadline && !signal.aborted) {
          const more = await this.receiveOnce(Math.min(10, this.maxMessages - into.length), 0, visibilityTimeout, signal);
          into.push(...more);
          last = more.length;
        }
        return;
      }
      const left = deadline - Date.now();
      if (left <= 0 || signal.aborted) return;
      // Sub-second remainders cannot be long-polled: check again shortly.
      if (waitSeconds === 0) await sleep(Math.min(left, 100), signal);
    }
  }

  private async receiveOnce(max: number, waitSeconds: number, visibilityTimeout: number | undefined, signal: AbortSignal) {
    const subs = this.subscriptions;
    const options = (wait: number, n: number) => ({ max: n, waitSeconds: wait, signal, ...(visibilityTimeout !== undefined ? { visibilityTimeout } : {}) });
    const tag = (sub: Subscription) => (messages: SqsMessage[]) => messages.map((message) => ({ queue: sub.queue, url: sub.url, message }));
    if (subs.length === 1) {
      const sub = subs[0]!;
      return tag(sub)(await receive(this.connection, sub.queue, sub.url, options(waitSeconds, max)));
    }
    // Several queues: a quick look at each in turn, then one long poll on as many as the batch allows.
    const start = this.nextQueue++ % subs.length;
    const order = [...subs.slice(start), ...subs.slice(0, start)];
    for (const sub of order) {
      const got = await receive(this.connection, sub.queue, sub.url, options(0, max));
      if (got.length > 0) return tag(sub)(got);
    }
    if (waitSeconds === 0) return [];
    const polled = order.slice(0, max);
    const share = Math.max(1, Math.floor(max / polled.length));
    const results = await Promise.all(polled.map(async (sub) => tag(sub)(await receive(this.connection, sub.queue, sub.url, options(waitSeconds, share)))));
    return results.flat();
  }

  async commit(): Promise<void> {
    this.assertOpen();
    const held = [...this.pending.entries()];
    if (held.length === 0) return;
    const outcome = await deleteMessages(
      this.connection,
      held.map(([, m], index) => ({ ...m, index })),
    );
    for (const ok of outcome.succeeded) this.pending.delete(`${ok.url}\n${ok.messageId}`);
    // A refused receipt handle (expired, message redelivered elsewhere) will never succeed: forget it.
    for (const failure of outcome.failures) if (failure.senderFault) this.pending.delete(`${failure.held.url}\n${failure.held.messageId}`);
    if (outcome.failures.length > 0) {
      throw new PartialBatchError('commit (DeleteMessageBatch)', outcome.failures.map(({ held: _held, ...f }) => f), outcome.succeeded.length);
    }
  }

  /** Idempotent. Uncommitted messages become visible again immediately (best effort). */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.closing = (async () => {
      const polls = [...this.polls];
      for (const p of polls) p.controller.abort();
      await Promise.all(polls.map((p) => p.done));
      const uncommitted = [...this.pending.values()];
      this.pending.clear();
      await release(this.connection, uncommitted);
      this.onClosed(this);
    })();
    return this.closing;
  }
}
