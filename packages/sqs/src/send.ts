import { createHash, randomUUID } from 'node:crypto';
import { SendMessageBatchCommand, type MessageAttributeValue, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { InvalidInputError, TooLargeError, messageIdentity } from '@mailroom/core';
import { encodeMessage } from './codec';
import type { SqsConnection } from './connection';
import { PartialBatchError, type BatchEntryFailure } from './errors';
import { isFifoName } from './names';

export const SQS_BATCH_LIMIT = 10;

/** One message ready for SQS: encoded body/attributes plus the per-message SQS parameters. */
export interface OutgoingMessage {
  body: string;
  attributes: Record<string, MessageAttributeValue>;
  size: number;
  groupId?: string;
  deduplicationId?: string;
  delaySeconds?: number;
}

/** FIFO group ids allow 1–128 printable ASCII characters; other keys map to a stable hash so one key stays one group. */
const GROUP_ID = /^[\x21-\x7e]{1,128}$/;
export const NO_KEY_GROUP = 'mailroom-no-key';

export function groupIdForKey(key: string | null): string {
  if (key === null) return NO_KEY_GROUP;
  if (GROUP_ID.test(key)) return key;
  return `mailroom-sha256-${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** The message's own identity when it can serve as a deduplication id, else a fresh one (no deduplication). */
export function deduplicationIdFor(headers: Record<string, string>): string {
  const identity = messageIdentity(headers);
  return identity !== null && GROUP_ID.test(identity) ? identity : randomUUID();
}

export function validateGroupOrDeduplicationId(what: string, value: string): void {
  if (!GROUP_ID.test(value)) {
    throw new InvalidInputError(`${what} ${JSON.stringify(value)} is invalid: SQS allows 1–128 printable ASCII characters without spaces`);
  }
}

/** Encodes a Mailroom message for `queue`; FIFO queues get a group id (from the key) and a deduplication id. */
export function outgoing(queue: string, message: { key: string | null; value: Uint8Array; headers: Record<string, string> }): OutgoingMessage {
  const encoded = encodeMessage(message);
  const out: OutgoingMessage = { ...encoded };
  if (isFifoName(queue)) {
    out.groupId = groupIdForKey(message.key);
    out.deduplicationId = deduplicationIdFor(message.headers);
  }
  return out;
}

export function checkSize(queue: string, index: number, message: OutgoingMessage, limit: number): void {
  if (message.size > limit) {
    throw new TooLargeError(
      `Message #${index} for SQS queue ${queue} is ${message.size} bytes (body plus attributes); SQS allows ${limit} bytes per message`,
      { hint: 'Binary values are sent base64-encoded (4/3 of their size). Send smaller messages, or store the payload elsewhere and send a reference.' },
    );
  }
}

/** Splits into SQS batches: at most 10 entries and at most `limit` bytes in all. */
export function chunkBatches(messages: OutgoingMessage[], limit: number): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  messages.forEach((message, index) => {
    if (current.length === SQS_BATCH_LIMIT || (current.length > 0 && bytes + message.size > limit)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += message.size;
  });
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function entryOf(message: OutgoingMessage, index: number): SendMessageBatchRequestEntry {
  const entry: SendMessageBatchRequestEntry = { Id: `m${index}`, MessageBody: message.body };
  if (Object.keys(message.attributes).length > 0) entry.MessageAttributes = message.attributes;
  if (message.groupId !== undefined) entry.MessageGroupId = message.groupId;
  if (message.deduplicationId !== undefined) entry.MessageDeduplicationId = message.deduplicationId;
  if (message.delaySeconds !== undefined) entry.DelaySeconds = message.delaySeconds;
  return entry;
}

/**
 * Sends every message with SendMessageBatch. Sizes are checked before anything is sent. Batches
 * go one after another (so order holds as far as the queue keeps it) unless `parallel` allows
 * more on a standard queue; there, entries that failed on SQS's side are retried twice. Returns the SQS
 * message ids in input order; throws PartialBatchError naming each entry that still failed.
 */
export async function sendMessages(
  connection: SqsConnection,
  queue: string,
  messages: OutgoingMessage[],
  options: { signal?: AbortSignal; parallel?: number } = {},
): Promise<string[]> {
  const limit = connection.config.maxMessageBytes;
  messages.forEach((m, i) => checkSize(queue, i, m, limit));
  if (messages.length === 0) return [];
  const url = await connection.queueUrl(queue, options.signal);
  const ids: (string | null)[] = messages.map(() => null);
  const failures = new Map<number, BatchEntryFailure>();
  const fifo = isFifoName(queue);

  const sendChunk = async (indexes: number[]) => {
    const out = await connection.run(
      `SendMessageBatch to ${queue}`,
      (o) => connection.client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: indexes.map((i) => entryOf(messages[i]!, i)) }), o),
      options.signal ? { signal: options.signal } : {},
    );
    for (const ok of out.Successful ?? []) {
      const index = Number(ok.Id?.slice(1));
      ids[index] = ok.MessageId ?? null;
      failures.delete(index);
    }
    for (const failed of out.Failed ?? []) {
      const index = Number(failed.Id?.slice(1));
      failures.set(index, { index, messageId: null, code: failed.Code ?? 'Unknown', message: failed.Message ?? '', senderFault: failed.SenderFault ?? false });
    }
  };

  const runAll = async (chunks: number[][], parallel: number) => {
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        await sendChunk(chunk);
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, chunks.length) }, worker));
  };

  const parallel = fifo ? 1 : (options.parallel ?? 1);
  await runAll(chunkBatches(messages, limit), parallel);
  for (let retry = 0; retry < 2 && !fifo; retry++) {
    const retryable = [...failures.values()].filter((f) => !f.senderFault).map((f) => f.index);
    if (retryable.length === 0) break;
    const subset = retryable.map((i) => messages[i]!);
    const chunks = chunkBatches(subset, limit).map((chunk) => chunk.map((j) => retryable[j]!));
    await runAll(chunks, parallel);
  }
  if (failures.size > 0) {
    throw new PartialBatchError(`SendMessageBatch to ${queue}`, [...failures.values()].sort((a, b) => a.index - b.index), messages.length - failures.size);
  }
  return ids.map((id) => id ?? '');
}
