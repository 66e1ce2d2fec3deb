import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import { mailroomDeadLetterHeaders, retryHistoryEntries, type DeadLetterInfo, type StoredMessage } from '@mailroom/core';
import { decodeMessage } from './codec';
import { queueNameFromArn } from './names';
import { receiveCount, sentAt } from './received';

/** What is known about the queue a message was read from, to explain its dead-lettering. */
export interface QueueContext {
  queue: string;
  /** Queues that dead-letter into this one (RedrivePolicy or naming convention). */
  deadLetterSources: string[];
  /** maxReceiveCount of each origin queue's RedrivePolicy. */
  originMaxReceiveCount: Map<string, number>;
}

/**
 * Dead-letter facts: SQS's own (DeadLetterQueueSourceArn, set when SQS moved the message after
 * maxReceiveCount receives, and the DLQ's source queues) and Mailroom's headers (written by
 * core's handleWithRetry). Null for a message that is not a dead letter.
 */
export function deadLetterInfoOf(message: SqsMessage, headers: Record<string, string>, context: QueueContext): DeadLetterInfo | null {
  const sourceArn = message.Attributes?.DeadLetterQueueSourceArn;
  const sqsOrigin = sourceArn ? queueNameFromArn(sourceArn) : null;
  const h = mailroomDeadLetterHeaders(headers);
  if (sqsOrigin === null && h.origin === null && context.deadLetterSources.length === 0) return null;
  const origin = sqsOrigin ?? h.origin ?? (context.deadLetterSources.length === 1 ? context.deadLetterSources[0]! : null);
  const maxReceiveCount = sqsOrigin !== null ? (context.originMaxReceiveCount.get(sqsOrigin) ?? null) : null;
  const attempts = h.attempts ?? maxReceiveCount ?? (sqsOrigin !== null ? receiveCount(message) : null);
  const reason = h.reason ?? (sqsOrigin !== null ? `not deleted after ${maxReceiveCount ?? 'maxReceiveCount'} receives on ${sqsOrigin} (SQS redrive policy)` : null);
  const history =
    h.retries.length > 0
      ? retryHistoryEntries(h.retries, origin)
      : attempts !== null || reason !== null
        ? [{ destination: origin, reason, count: attempts ?? 1, time: h.failedAt }]
        : [];
  return { origin, reason, attempts, failedAt: h.failedAt, history };
}

export function toStoredMessage(message: SqsMessage, context: QueueContext): StoredMessage {
  const decoded = decodeMessage(message);
  const count = receiveCount(message);
  const a = message.Attributes ?? {};
  const properties: Record<string, string> = {};
  const put = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== '') properties[name] = value;
  };
  put('messageId', message.MessageId);
  put('md5OfBody', message.MD5OfBody);
  if (a.SentTimestamp) put('sentTimestamp', new Date(Number(a.SentTimestamp)).toISOString());
  if (a.ApproximateFirstReceiveTimestamp) put('approximateFirstReceiveTimestamp', new Date(Number(a.ApproximateFirstReceiveTimestamp)).toISOString());
  put('approximateReceiveCount', a.ApproximateReceiveCount);
  put('senderId', a.SenderId);
  put('messageGroupId', a.MessageGroupId);
  put('messageDeduplicationId', a.MessageDeduplicationId);
  put('sequenceNumber', a.SequenceNumber);
  put('deadLetterQueueSourceArn', a.DeadLetterQueueSourceArn);
  put('awsTraceHeader', a.AWSTraceHeader);
  if (decoded.problem) put('decodeProblem', decoded.problem);
  return {
    id: message.MessageId ?? '',
    destination: context.queue,
    partition: null,
    position: a.SequenceNumber ?? null,
    key: decoded.key,
    value: decoded.value,
    headers: decoded.headers,
    timestamp: sentAt(message),
    deliveryCount: count,
    redelivered: count === null ? null : count > 1,
    deadLetter: deadLetterInfoOf(message, decoded.headers, context),
    properties,
  };
}
