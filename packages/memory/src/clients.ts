import {
  ClientClosedError,
  InvalidInputError,
  type Message,
  type MessageConsumer,
  type MessageProducer,
  type ReceivedMessage,
} from '@mailroom/core';
import type { MemoryBroker } from './broker';
import { assertValidDestinationName } from './names';
import { recordId } from './record';

/** What a client needs from its adapter: the broker, and a check that runs before every call. */
export interface ClientHost {
  broker: MemoryBroker;
  /** Throws ClientClosedError / BrokerUnavailableError when the adapter cannot serve. */
  assertUsable(): void;
  /** The adapter closes every client it made. */
  track(client: { close(): Promise<void> }): void;
  untrack(client: { close(): Promise<void> }): void;
}

export class MemoryProducer implements MessageProducer {
  private closed = false;

  constructor(private readonly host: ClientHost) {}

  async send(topic: string, message: Message): Promise<void> {
    this.assertOpen();
    assertValidDestinationName(topic);
    this.host.assertUsable();
    this.host.broker.append(topic, message);
  }

  async sendBatch(topic: string, messages: Message[]): Promise<void> {
    this.assertOpen();
    assertValidDestinationName(topic);
    this.host.assertUsable();
    if (!Array.isArray(messages)) throw new InvalidInputError('sendBatch takes an array of messages');
    for (const message of messages) this.host.broker.append(topic, message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.host.untrack(this);
  }

  private assertOpen(): void {
    if (this.closed) throw new ClientClosedError('producer');
  }
}

let consumerSequence = 0;

export class MemoryConsumer implements MessageConsumer {
  readonly id: string;
  private closed = false;
  private joined = false;
  private polled: { destination: string; partition: number; offset: number }[] = [];
  private readonly closing = new AbortController();

  constructor(
    private readonly host: ClientHost,
    readonly group: string,
    private readonly maxMessages: number,
  ) {
    this.id = `${group}#${++consumerSequence}`;
  }

  async subscribe(topics: string[]): Promise<void> {
    this.assertOpen();
    if (!Array.isArray(topics) || topics.length === 0) throw new InvalidInputError('subscribe needs at least one destination');
    for (const topic of topics) assertValidDestinationName(topic);
    this.host.assertUsable();
    this.host.broker.join(this.group, this.id, topics);
    this.joined = true;
  }

  async poll(timeoutMs: number): Promise<ReceivedMessage[]> {
    this.assertOpen();
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new InvalidInputError(`poll timeout must be a non-negative number, got ${timeoutMs}`);
    this.host.assertUsable();
    if (!this.joined) throw new InvalidInputError('Call subscribe() before poll()');
    const broker = this.host.broker;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.closed) return [];
      const taken = broker.take(this.group, this.id, this.maxMessages);
      if (taken.length > 0) {
        return taken.map(({ destination, delivery }) => {
          const { record, deliveryCount } = delivery;
          this.polled.push({ destination, partition: record.partition, offset: record.offset });
          return {
            topic: destination,
            id: recordId(record.partition, record.offset),
            partition: record.partition,
            deliveryCount,
            key: record.key,
            value: new Uint8Array(record.value),
            headers: { ...record.headers },
            timestamp: new Date(record.timestamp.getTime()),
          };
        });
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) return [];
      await broker.waitForChange(remaining, this.closing.signal);
    }
  }

  async commit(): Promise<void> {
    this.assertOpen();
    this.host.assertUsable();
    const refs = this.polled;
    this.polled = [];
    this.host.broker.commit(this.group, this.id, refs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    if (this.joined) this.host.broker.leave(this.group, this.id);
    this.polled = [];
    this.host.untrack(this);
  }

  private assertOpen(): void {
    if (this.closed) throw new ClientClosedError(`consumer of group ${this.group}`);
  }
}
