import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import type { ReceivedMessage } from '@mailroom/core';
import { decodeMessage } from './codec';

export function numberAttribute(message: SqsMessage, name: string): number | null {
  const raw = message.Attributes?.[name as keyof NonNullable<SqsMessage['Attributes']>];
  if (raw === undefined) return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

export function receiveCount(message: SqsMessage): number | null {
  return numberAttribute(message, 'ApproximateReceiveCount');
}

export function sentAt(message: SqsMessage): Date {
  const sent = numberAttribute(message, 'SentTimestamp');
  return new Date(sent ?? Date.now());
}

export function toReceivedMessage(queue: string, message: SqsMessage): ReceivedMessage {
  const decoded = decodeMessage(message);
  return {
    key: decoded.key,
    value: decoded.value,
    headers: decoded.headers,
    timestamp: sentAt(message),
    topic: queue,
    id: message.MessageId ?? '',
    partition: null,
    deliveryCount: receiveCount(message),
  };
}
