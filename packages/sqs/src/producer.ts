import { ClientClosedError, InvalidInputError, type Message, type MessageProducer } from '@mailroom/core';
import type { SqsConnection } from './connection';
import { validateQueueName } from './names';
import { outgoing, sendMessages } from './send';

export function assertMessage(message: unknown, index: number): asserts message is Message {
  const m = message as Partial<Message> | null;
  if (typeof m !== 'object' || m === null) throw new InvalidInputError(`Message #${index} is not an object`);
  if (!(m.value instanceof Uint8Array)) throw new InvalidInputError(`Message #${index}: value must be bytes (Uint8Array)`);
  if (m.key !== null && typeof m.key !== 'string') throw new InvalidInputError(`Message #${index}: key must be a string or null`);
  if (typeof m.headers !== 'object' || m.headers === null) throw new InvalidInputError(`Message #${index}: headers must be an object`);
  for (const [name, value] of Object.entries(m.headers)) {
    if (typeof value !== 'string') throw new InvalidInputError(`Message #${index}: header ${JSON.stringify(name)} must be a string`);
  }
}

/** The pattern card's producer on SQS: a topic is a queue. */
export class SqsProducer implements MessageProducer {
  private closed = false;

  constructor(private readonly connection: SqsConnection) {}

  async send(topic: string, message: Message): Promise<void> {
    await this.sendBatch(topic, [message]);
  }

  async sendBatch(topic: string, messages: Message[]): Promise<void> {
    if (this.closed) throw new ClientClosedError('SQS producer');
    validateQueueName(topic);
    if (!Array.isArray(messages)) throw new InvalidInputError('sendBatch takes an array of messages');
    messages.forEach(assertMessage);
    await sendMessages(
      this.connection,
      topic,
      messages.map((m) => outgoing(topic, m)),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
