import { ClientClosedError, type Message, type MessageProducer } from '@mailroom/core';
import { encodeMessage, toBuffer } from './codec';
import type { ResolvedConfig } from './config';
import { ConnectionHolder } from './connection';
import { assertAllConfirmed, ConfirmPublisher, type Outgoing } from './publisher';
import type { NameTarget, Topology } from './topology';
import { assertValidRabbitName } from './names';
import { NotFoundError } from '@mailroom/core';

/**
 * Publishes persistent messages with publisher confirms: `send` resolves only once RabbitMQ
 * has taken responsibility for the message. A topic (exchange) is published to with the key as
 * routing key; a plain queue through the default exchange. Unroutable messages are an error,
 * never a silent drop.
 */
export class RabbitMqProducer implements MessageProducer {
  private readonly holder: ConnectionHolder;
  private readonly publisher: ConfirmPublisher;
  private readonly routes = new Map<string, NameTarget>();
  private closed = false;

  constructor(
    config: ResolvedConfig,
    private readonly topology: (holder: ConnectionHolder) => Topology,
  ) {
    this.holder = new ConnectionHolder(config, 'producer', 'producer');
    this.publisher = new ConfirmPublisher(this.holder, config.requestTimeoutMs);
  }

  async send(topic: string, message: Message): Promise<void> {
    await this.sendBatch(topic, [message]);
  }

  async sendBatch(topic: string, messages: Message[]): Promise<void> {
    if (this.closed) throw new ClientClosedError('producer');
    assertValidRabbitName(topic);
    const route = await this.route(topic);
    const outgoing: Outgoing[] = messages.map((message) => {
      const { routingKey, options } = encodeMessage(message, route.exchange);
      return route.exchange
        ? { exchange: topic, routingKey, content: toBuffer(message.value), options }
        : { exchange: '', routingKey: topic, content: toBuffer(message.value), options };
    });
    const outcomes = await this.publisher.publish(outgoing);
    if (this.closed) throw new ClientClosedError('producer');
    try {
      assertAllConfirmed(outcomes, topic);
    } catch (error) {
      if (error instanceof NotFoundError) this.routes.delete(topic);
      throw error;
    }
  }

  private async route(topic: string): Promise<NameTarget> {
    const cached = this.routes.get(topic);
    if (cached) return cached;
    const resolved = await this.topology(this.holder).resolveExisting(topic);
    this.routes.set(topic, resolved);
    return resolved;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.publisher.close();
    await this.holder.close();
  }
}
