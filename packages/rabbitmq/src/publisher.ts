import type { ConfirmChannel, Message as AmqpMessage, Options } from 'amqplib';
import { BrokerUnavailableError, ClientClosedError, withTimeout } from '@mailroom/core';
import type { ConnectionHolder } from './connection';
import { closeQuietly } from './connection';
import { mapAmqpError } from './errors';

export interface Outgoing {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
}

export type PublishOutcome = { status: 'confirmed' } | { status: 'unroutable'; reply: string } | { status: 'failed'; error: Error };

interface InFlight {
  exchange: string;
  routingKey: string;
  messageId: string | undefined;
  returned: string | null;
}

/**
 * Publishes over a confirm channel and reports each message's fate: confirmed by the broker,
 * returned as unroutable (published `mandatory`: no queue is bound for it; the broker sends the
 * return before the confirm), or failed (nacked, channel or connection lost). A channel the
 * broker closed (e.g. 404 for a missing exchange) is replaced on the next call.
 */
export class ConfirmPublisher {
  private channel: ConfirmChannel | null = null;
  private opening: Promise<ConfirmChannel> | null = null;
  private lastChannelError: Error | null = null;
  private readonly inFlight: InFlight[] = [];

  constructor(
    private readonly holder: ConnectionHolder,
    private readonly timeoutMs: number,
  ) {}

  private async confirmChannel(): Promise<ConfirmChannel> {
    if (this.channel) return this.channel;
    if (!this.opening) {
      this.opening = this.holder.confirmChannel().then(
        (channel) => {
          this.lastChannelError = null;
          channel.on('error', (error: Error) => {
            this.lastChannelError = error;
          });
          channel.on('close', () => {
            if (this.channel === channel) this.channel = null;
            this.inFlight.length = 0;
          });
          channel.on('return', (message: AmqpMessage) => this.onReturn(message));
          this.channel = channel;
          this.opening = null;
          return channel;
        },
        (error: unknown) => {
          this.opening = null;
          throw error;
        },
      );
    }
    return this.opening;
  }

  private onReturn(message: AmqpMessage): void {
    const messageId: unknown = message.properties.messageId;
    const entry = this.inFlight.find(
      (e) => e.returned === null && e.exchange === message.fields.exchange && e.routingKey === message.fields.routingKey && e.messageId === messageId,
    );
    if (entry) {
      const reply = (message.fields as { replyText?: string }).replyText ?? 'NO_ROUTE';
      entry.returned = reply;
    }
  }

  /** Publishes every message, waits for all confirms, and returns each outcome in order. */
  async publish(messages: Outgoing[]): Promise<PublishOutcome[]> {
    if (messages.length === 0) return [];
    const channel = await this.confirmChannel();
    const outcomes: Promise<PublishOutcome>[] = [];
    for (const message of messages) {
      const entry: InFlight = { exchange: message.exchange, routingKey: message.routingKey, messageId: message.options.messageId, returned: null };
      this.inFlight.push(entry);
      let writable = true;
      outcomes.push(
        new Promise<PublishOutcome>((resolve) => {
          try {
            writable = channel.publish(message.exchange, message.routingKey, message.content, message.options, (error: unknown) => {
              const index = this.inFlight.indexOf(entry);
              if (index >= 0) this.inFlight.splice(index, 1);
              if (error) {
                const cause = this.lastChannelError ?? (error instanceof Error ? error : new Error(String(error)));
                resolve({ status: 'failed', error: cause });
              } else if (entry.returned !== null) {
                resolve({ status: 'unroutable', reply: entry.returned });
              } else {
                resolve({ status: 'confirmed' });
              }
            });
          } catch (error) {
            const index = this.inFlight.indexOf(entry);
            if (index >= 0) this.inFlight.splice(index, 1);
            resolve({ status: 'failed', error: error instanceof Error ? error : new Error(String(error)) });
          }
        }),
      );
      // Respect the socket's backpressure instead of buffering a whole batch in memory.
      if (!writable && this.channel === channel) await drained(channel);
    }
    const budget = this.timeoutMs + messages.length * 5;
    try {
      return await withTimeout(Promise.all(outcomes), budget, 'RabbitMQ publisher confirms');
    } catch (error) {
      // Unconfirmed after the budget: the channel is unusable for ordering guarantees; drop it.
      const stale = this.channel;
      this.channel = null;
      void closeQuietly(stale);
      throw error instanceof BrokerUnavailableError ? error : mapAmqpError(error, 'publish');
    }
  }

  async close(): Promise<void> {
    const channel = this.channel;
    this.channel = null;
    await closeQuietly(channel);
  }
}

function drained(channel: ConfirmChannel): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      channel.off('drain', done);
      channel.off('close', done);
      resolve();
    };
    channel.on('drain', done);
    channel.on('close', done);
  });
}

/** Throws the first failure as a typed error, naming unroutable messages. */
export function assertAllConfirmed(outcomes: PublishOutcome[], destination: string): void {
  const failed = outcomes.find((o): o is { status: 'failed'; error: Error } => o.status === 'failed');
  if (failed) {
    const mapped = mapAmqpError(failed.error, `publish to ${destination}`);
    if (mapped instanceof ClientClosedError) throw mapped;
    throw mapped;
  }
  const unroutable = outcomes.filter((o) => o.status === 'unroutable').length;
  if (unroutable > 0) {
    throw mapAmqpError(
      Object.assign(new Error(`NOT_FOUND - ${unroutable} of ${outcomes.length} messages to ${destination} were unroutable: no queue is bound for their routing key`), {
        code: 404,
      }),
      `publish to ${destination}`,
    );
  }
}
