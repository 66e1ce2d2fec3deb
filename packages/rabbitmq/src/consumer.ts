import type { Channel, ConsumeMessage } from 'amqplib';
import {
  BrokerUnavailableError,
  ClientClosedError,
  InvalidInputError,
  NotFoundError,
  plainBytes,
  withTimeout,
  type ConsumerOptions,
  type MessageConsumer,
  type ReceivedMessage,
} from '@mailroom/core';
import { decodeDeliveryCount, decodeHeaders, decodeKey, decodeTimestamp, storedMessageId } from './codec';
import type { ResolvedConfig } from './config';
import { closeQuietly, ConnectionHolder, guardChannel } from './connection';
import { mapAmqpError } from './errors';
import { assertValidRabbitName } from './names';
import { GroupArgs, type Topology } from './topology';

interface Subscription {
  topic: string;
  queue: string;
  consumerTag: string | null;
}

interface Session {
  channel: Channel;
  /** Deliveries received but not yet returned by poll, in delivery-tag order. */
  buffer: ConsumeMessage[];
  /** Highest delivery tag handed out by poll, and the highest acknowledged. */
  polledTag: number;
  ackedTag: number;
  lost: Error | null;
}

/**
 * A consumer group is a durable queue per topic (`<topic>::<group>`) bound to the topic's
 * exchange: consumers of one group share it (competing consumers), each group has its own
 * (every group gets every message). A plain queue with no exchange is consumed directly.
 *
 * Deliveries arrive by basic.consume into a buffer bounded by the channel prefetch; poll hands
 * them out in delivery order, so everything polled is exactly the deliveries up to the highest
 * polled tag, and commit acks that tag with multiple=true. Closing the channel returns whatever
 * was not acked to the queue (at-least-once).
 */
export class RabbitMqConsumer implements MessageConsumer {
  private readonly holder: ConnectionHolder;
  private session: Session | null = null;
  private subscriptions: Subscription[] = [];
  private readonly topicByTag = new Map<string, string>();
  private wake: (() => void) | null = null;
  private closed = false;
  private readonly maxMessages: number;
  private readonly group: string;

  constructor(
    private readonly config: ResolvedConfig,
    options: ConsumerOptions,
    private readonly topology: (holder: ConnectionHolder) => Topology,
  ) {
    if (typeof options.group !== 'string' || options.group === '') throw new InvalidInputError('A consumer needs a non-empty group name');
    assertValidRabbitName(options.group, 'consumer group');
    this.group = options.group;
    this.maxMessages = Math.max(1, Math.floor(options.maxMessages ?? 100));
    this.holder = new ConnectionHolder(config, `consumer:${options.group}`, 'consumer');
  }

  async subscribe(topics: string[]): Promise<void> {
    this.assertOpen();
    if (!Array.isArray(topics) || topics.length === 0) throw new InvalidInputError('subscribe needs at least one topic');
    for (const topic of topics) assertValidRabbitName(topic);
    const topology = this.topology(this.holder);
    const subscriptions: Subscription[] = [];
    for (const topic of [...new Set(topics)]) {
      const target = await topology.resolveExisting(topic);
      if (!target.exchange) {
        subscriptions.push({ topic, queue: topic, consumerTag: null });
        continue;
      }
      const queue = topology.groupQueueName(topic, this.group);
      const bindings = await topology.catchAllBindings(topic);
      await this.holder.withChannel(`create the queue of group ${this.group} on ${topic}`, async (ch) => {
        await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'classic', [GroupArgs.topic]: topic, [GroupArgs.group]: this.group } });
        for (const binding of bindings) await ch.bindQueue(queue, binding.exchange, binding.routingKey, binding.arguments);
      });
      subscriptions.push({ topic, queue, consumerTag: null });
    }
    this.assertOpen();
    // A new subscription replaces the old one; unacked deliveries of the old one go back to their queues.
    await this.dropSession();
    this.subscriptions = subscriptions;
    await this.openSession();
  }

  private async openSession(): Promise<Session> {
    const connection = await this.holder.connection();
    let channel: Channel;
    try {
      channel = guardChannel(await connection.createChannel());
      await channel.prefetch(this.config.consumerPrefetch);
    } catch (error) {
      throw mapAmqpError(error, `open the consumer channel of group ${this.group}`);
    }
    const session: Session = { channel, buffer: [], polledTag: 0, ackedTag: 0, lost: null };
    channel.on('error', (error: Error) => {
      session.lost ??= error;
    });
    channel.on('close', () => {
      session.lost ??= new Error('channel closed');
      this.notify();
    });
    this.session = session;
    this.topicByTag.clear();
    try {
      for (const subscription of this.subscriptions) {
        const reply = await withTimeout(
          channel.consume(
            subscription.queue,
            (delivery) => {
              if (delivery === null) {
                session.lost ??= new NotFoundError(`Queue ${subscription.queue} was deleted while group ${this.group} consumed it`);
              } else {
                session.buffer.push(delivery);
              }
              this.notify();
            },
            { noAck: false },
          ),
          this.config.requestTimeoutMs,
          `RabbitMQ (consume ${subscription.queue})`,
        );
        subscription.consumerTag = reply.consumerTag;
        this.topicByTag.set(reply.consumerTag, subscription.topic);
      }
    } catch (error) {
      this.session = null;
      void closeQuietly(channel);
      throw mapAmqpError(error, `consume for group ${this.group}`);
    }
    return session;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private async dropSession(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (session) await closeQuietly(session.channel);
  }

  async poll(timeoutMs: number): Promise<ReceivedMessage[]> {
    this.assertOpen();
    if (this.subscriptions.length === 0) throw new InvalidInputError('poll before subscribe: subscribe to at least one topic first');
    const deadline = Date.now() + Math.max(0, timeoutMs);
    let session = this.session;
    if (session?.lost instanceof NotFoundError) {
      const lost = session.lost;
      await this.dropSession();
      throw lost;
    }
    if (!session || session.lost) {
      // Deliveries still buffered from a lost channel can no longer be acked: the broker has
      // requeued them and delivers them again on the new channel.
      await this.dropSession();
      session = await this.openSession();
    }
    while (session.buffer.length === 0 && !session.lost && !this.closed) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.assertOpen();
    const taken = session.buffer.splice(0, this.maxMessages);
    const last = taken[taken.length - 1];
    if (last) session.polledTag = last.fields.deliveryTag;
    return taken.map((delivery) => this.toReceived(delivery));
  }

  private toReceived(delivery: ConsumeMessage): ReceivedMessage {
    return {
      key: decodeKey(delivery),
      value: plainBytes(delivery.content),
      headers: decodeHeaders(delivery.properties.headers),
      timestamp: decodeTimestamp(delivery) ?? new Date(),
      topic: this.topicByTag.get(delivery.fields.consumerTag) ?? delivery.fields.exchange,
      id: storedMessageId(delivery),
      partition: null,
      deliveryCount: decodeDeliveryCount(delivery),
    };
  }

  async commit(): Promise<void> {
    this.assertOpen();
    const session = this.session;
    if (!session || session.polledTag <= session.ackedTag) return;
    if (session.lost) {
      const count = session.polledTag - session.ackedTag;
      session.ackedTag = session.polledTag;
      throw new BrokerUnavailableError(
        `The RabbitMQ channel of group ${this.group} was lost before commit; up to ${count} polled messages were not acknowledged and will be delivered again`,
        { cause: session.lost },
      );
    }
    const tag = session.polledTag;
    try {
      session.channel.ack({ fields: { deliveryTag: tag } } as ConsumeMessage, true);
      // basic.qos is a cheap round trip: when it answers, the broker has processed the ack.
      await withTimeout(session.channel.prefetch(this.config.consumerPrefetch), this.config.requestTimeoutMs, 'RabbitMQ (commit)');
      session.ackedTag = tag;
    } catch (error) {
      throw mapAmqpError(error, `commit for group ${this.group}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.notify();
    await this.dropSession();
    await this.holder.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ClientClosedError('consumer');
  }
}
