import { ClientClosedError, RequestTimeoutError } from '../errors';
import { Headers } from '../headers';
import type { Message, MessageConsumer, MessageProducer, ReceivedMessage } from '../message';

interface Pending {
  resolve: (reply: ReceivedMessage) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface RequestReplyOptions {
  producer: MessageProducer;
  /** Already subscribed to `replyTopic`, in a group of its own. */
  replyConsumer: MessageConsumer;
  replyTopic: string;
  /** Ids for correlation; defaults to crypto.randomUUID. */
  newId?: () => string;
  pollTimeoutMs?: number;
}

/**
 * Request-reply over any broker: each request carries a correlation id and the reply topic;
 * one poll loop routes replies to their waiting callers. A timed-out request leaves nothing
 * behind; a reply that arrives after its timeout is acknowledged and dropped.
 */
export class RequestReplyClient {
  private readonly pending = new Map<string, Pending>();
  private readonly newId: () => string;
  private closed = false;
  private readonly loop: Promise<void>;

  constructor(private readonly options: RequestReplyOptions) {
    this.newId = options.newId ?? (() => crypto.randomUUID());
    this.loop = this.pollReplies();
  }

  get waiting(): number {
    return this.pending.size;
  }

  async request(topic: string, message: Message, timeoutMs: number): Promise<ReceivedMessage> {
    if (this.closed) throw new ClientClosedError('request-reply client');
    const correlationId = this.newId();
    const reply = new Promise<ReceivedMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new RequestTimeoutError(`No reply on ${this.options.replyTopic} within ${timeoutMs} ms for request ${correlationId} to ${topic}`));
      }, timeoutMs);
      this.pending.set(correlationId, { resolve, reject, timer });
    });
    try {
      await this.options.producer.send(topic, {
        ...message,
        headers: { ...message.headers, [Headers.correlationId]: correlationId, [Headers.replyTo]: this.options.replyTopic },
      });
    } catch (error) {
      const entry = this.pending.get(correlationId);
      if (entry) {
        clearTimeout(entry.timer);
        this.pending.delete(correlationId);
      }
      throw error;
    }
    return reply;
  }

  private async pollReplies(): Promise<void> {
    const pollTimeoutMs = this.options.pollTimeoutMs ?? 200;
    while (!this.closed) {
      let replies: ReceivedMessage[];
      try {
        replies = await this.options.replyConsumer.poll(pollTimeoutMs);
      } catch (error) {
        if (this.closed) return;
        this.failAll(error instanceof Error ? error : new Error(String(error)));
        await new Promise((r) => setTimeout(r, pollTimeoutMs));
        continue;
      }
      for (const reply of replies) {
        const id = reply.headers[Headers.correlationId];
        const entry = id === undefined ? undefined : this.pending.get(id);
        if (id !== undefined && entry) {
          clearTimeout(entry.timer);
          this.pending.delete(id);
          entry.resolve(reply);
        }
      }
      if (replies.length > 0 && !this.closed) await this.options.replyConsumer.commit();
    }
  }

  private failAll(error: Error): void {
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(error);
      this.pending.delete(id);
    }
  }

  /** Rejects whatever still waits and closes the reply consumer. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new ClientClosedError('request-reply client'));
    await this.loop;
    await this.options.replyConsumer.close();
  }
}

/**
 * The server side: answers each request on its `reply-to` destination with the same
 * correlation id, then commits. Requests without a reply-to are acknowledged and counted.
 */
export async function serveRequestsOnce(
  consumer: MessageConsumer,
  producer: MessageProducer,
  handler: (request: ReceivedMessage) => Promise<Omit<Message, 'timestamp'>>,
  pollTimeoutMs: number,
): Promise<{ answered: number; withoutReplyTo: number }> {
  const requests = await consumer.poll(pollTimeoutMs);
  let answered = 0;
  let withoutReplyTo = 0;
  for (const request of requests) {
    const replyTo = request.headers[Headers.replyTo];
    const correlationId = request.headers[Headers.correlationId];
    if (replyTo === undefined || correlationId === undefined) {
      withoutReplyTo++;
      continue;
    }
    const reply = await handler(request);
    await producer.send(replyTo, {
      ...reply,
      timestamp: new Date(),
      headers: { ...reply.headers, [Headers.correlationId]: correlationId },
    });
    answered++;
  }
  if (requests.length > 0) await consumer.commit();
  return { answered, withoutReplyTo };
}
