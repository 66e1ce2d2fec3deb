/** The pattern card's message envelope: values are bytes and round-trip exactly. */
export interface Message {
  key: string | null;
  value: Uint8Array;
  headers: Record<string, string>;
  timestamp: Date;
}

/**
 * A message as a consumer receives it: the envelope plus where it came from.
 * `id` identifies the delivery's message within its destination (Kafka `partition:offset`,
 * a stream entry id, an AMQP/SQS message id) and is what idempotency and commits refer to.
 */
export interface ReceivedMessage extends Message {
  topic: string;
  id: string;
  partition: number | null;
  /** How many times the broker has delivered this message, this delivery included, when it knows. */
  deliveryCount: number | null;
}

export interface MessageProducer {
  send(topic: string, message: Message): Promise<void>;
  sendBatch(topic: string, messages: Message[]): Promise<void>;
  /** Idempotent: closing twice is fine. Using the producer afterwards throws ClientClosedError. */
  close(): Promise<void>;
}

export interface MessageConsumer {
  /** After it resolves, every message sent to these topics is delivered to this consumer's group. */
  subscribe(topics: string[]): Promise<void>;
  /** Waits at most `timeoutMs` for messages; returns an empty array when none came. */
  poll(timeoutMs: number): Promise<ReceivedMessage[]>;
  /** Acknowledges everything returned by earlier polls, and nothing else. */
  commit(): Promise<void>;
  /** Idempotent. What was polled but not committed is delivered again to the group. */
  close(): Promise<void>;
}

export interface ConsumerOptions {
  /**
   * The subscription. Consumers sharing a group compete (point-to-point); each group
   * gets every message (publish-subscribe), where the broker can fan out.
   */
  group: string;
  /** Most messages a single poll returns. Default 100. */
  maxMessages?: number;
}

export interface ProducerOptions {
  /** Kafka-style idempotent/ordered delivery where the broker offers it. Default true. */
  idempotent?: boolean;
}
