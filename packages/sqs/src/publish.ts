import { Headers, InvalidInputError, type PublishMessage, type PublishProperties, type PublishResult } from '@mailroom/core';
import type { SqsConnection } from './connection';
import { isFifoName, validateQueueName } from './names';
import { assertMessage } from './producer';
import { outgoing, sendMessages, validateGroupOrDeduplicationId, type OutgoingMessage } from './send';

const UNSUPPORTED: Partial<Record<keyof PublishProperties, string>> = {
  partition: 'SQS queues have no partitions',
  expirationMs: 'SQS has no per-message expiry (the queue has a retention period)',
  routingKey: 'SQS has no routing keys',
  persistent: 'SQS messages are always durable',
};

/** Properties that travel as headers (message attributes). */
const AS_HEADERS: [keyof PublishProperties, string][] = [
  ['messageId', Headers.messageId],
  ['correlationId', Headers.correlationId],
  ['replyTo', Headers.replyTo],
  ['contentType', 'content-type'],
];

function prepare(queue: string, message: PublishMessage, index: number): OutgoingMessage {
  assertMessage({ ...message, timestamp: new Date() }, index);
  const props = message.properties ?? {};
  const fifo = isFifoName(queue);
  for (const [name, reason] of Object.entries(UNSUPPORTED)) {
    if (props[name as keyof PublishProperties] !== undefined) throw new InvalidInputError(`Message #${index}: ${name} is not supported: ${reason}`);
  }
  const headers = { ...message.headers };
  for (const [property, header] of AS_HEADERS) {
    const value = props[property];
    if (value !== undefined) headers[header] = String(value);
  }
  const out = outgoing(queue, { key: message.key, value: message.value, headers });
  if (props.delaySeconds !== undefined) {
    if (fifo) throw new InvalidInputError(`Message #${index}: FIFO queues take no per-message delay (set the queue's DelaySeconds instead)`);
    if (!Number.isInteger(props.delaySeconds) || props.delaySeconds < 0 || props.delaySeconds > 900) {
      throw new InvalidInputError(`Message #${index}: delaySeconds must be an integer from 0 to 900, got ${props.delaySeconds}`);
    }
    out.delaySeconds = props.delaySeconds;
  }
  for (const [property, field] of [
    ['groupId', 'groupId'],
    ['deduplicationId', 'deduplicationId'],
  ] as const) {
    const value = props[property];
    if (value === undefined) continue;
    if (!fifo) throw new InvalidInputError(`Message #${index}: ${property} applies to FIFO queues (names ending in .fifo) only`);
    validateGroupOrDeduplicationId(property, value);
    out[field] = value;
  }
  return out;
}

export async function publishMessages(connection: SqsConnection, queue: string, messages: PublishMessage[]): Promise<PublishResult> {
  validateQueueName(queue);
  if (!Array.isArray(messages) || messages.length === 0) throw new InvalidInputError('Publish at least one message');
  const prepared = messages.map((m, i) => prepare(queue, m, i));
  const ids = await sendMessages(connection, queue, prepared);
  return { published: ids.length, ids };
}
