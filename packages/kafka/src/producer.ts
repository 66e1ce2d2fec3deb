import { ClientClosedError, isMailroomError, type Message, type MessageProducer } from '@mailroom/core';
import type { Kafka, Producer, RecordMetadata } from 'kafkajs';
import { createKafkaProducer } from './client';
import { toKafkaMessage } from './codec';
import { guarded } from './errors';

type KafkaMessage = ReturnType<typeof toKafkaMessage> & { partition?: number };

/**
 * A kafkajs producer that reconnects lazily and is replaced once when a send fails because a
 * topic it sent to before was deleted (kafkajs keeps refreshing metadata for every topic it
 * ever sent to, and a deleted one makes every later send fail).
 */
export class ProducerHandle {
  private producer: Producer | null = null;
  private connecting: Promise<Producer> | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly idempotent: boolean,
    private readonly timeoutMs: number,
  ) {}

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    if (!this.connecting) {
      const producer = createKafkaProducer(this.kafka, { idempotent: this.idempotent });
      this.connecting = producer
        .connect()
        .then(() => {
          this.producer = producer;
          return producer;
        })
        .catch(async (error: unknown) => {
          await producer.disconnect().catch(() => undefined);
          throw error;
        })
        .finally(() => {
          this.connecting = null;
        });
    }
    return this.connecting;
  }

  async send(topic: string, messages: KafkaMessage[]): Promise<RecordMetadata[]> {
    const attempt = () =>
      guarded(`sending ${messages.length} message(s) to ${topic}`, this.timeoutMs, async () => {
        const producer = await this.connected();
        return producer.send({ topic, acks: -1, messages });
      });
    try {
      return await attempt();
    } catch (error) {
      if (!isMailroomError(error) || error.code !== 'NOT_FOUND' || this.producer === null) throw error;
      await this.reset();
      return attempt();
    }
  }

  async reset(): Promise<void> {
    const producer = this.producer;
    this.producer = null;
    if (producer) await producer.disconnect().catch(() => undefined);
  }
}

export class KafkaMessageProducer implements MessageProducer {
  private closed = false;
  private readonly handle: ProducerHandle;

  constructor(
    kafka: Kafka,
    idempotent: boolean,
    timeoutMs: number,
    private readonly validate: (topic: string) => void,
  ) {
    this.handle = new ProducerHandle(kafka, idempotent, timeoutMs);
  }

  async send(topic: string, message: Message): Promise<void> {
    await this.sendBatch(topic, [message]);
  }

  async sendBatch(topic: string, messages: Message[]): Promise<void> {
    if (this.closed) throw new ClientClosedError('Kafka producer');
    this.validate(topic);
    if (messages.length === 0) return;
    await this.handle.send(topic, messages.map(toKafkaMessage));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.reset();
  }
}
