import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SqsConnection } from './connection';
import type { BatchEntryFailure } from './errors';
import { SQS_BATCH_LIMIT } from './send';

/** A message this client received and still holds: what delete and visibility changes refer to. */
export interface HeldMessage {
  queue: string;
  url: string;
  messageId: string;
  receiptHandle: string;
  /** Position in the caller's list, for failure reports. */
  index?: number;
}

export interface BatchOutcome {
  succeeded: HeldMessage[];
  failures: (BatchEntryFailure & { held: HeldMessage })[];
}

function groupByUrl(messages: HeldMessage[]): HeldMessage[][] {
  const byUrl = new Map<string, HeldMessage[]>();
  for (const m of messages) {
    const list = byUrl.get(m.url) ?? [];
    list.push(m);
    byUrl.set(m.url, list);
  }
  const chunks: HeldMessage[][] = [];
  for (const list of byUrl.values()) {
    for (let i = 0; i < list.length; i += SQS_BATCH_LIMIT) chunks.push(list.slice(i, i + SQS_BATCH_LIMIT));
  }
  return chunks;
}

async function batched(
  connection: SqsConnection,
  operation: 'DeleteMessageBatch' | 'ChangeMessageVisibilityBatch',
  messages: HeldMessage[],
  visibilityTimeout: number,
  signal?: AbortSignal,
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { succeeded: [], failures: [] };
  for (const chunk of groupByUrl(messages)) {
    const url = chunk[0]!.url;
    const run = (o: { abortSignal: AbortSignal; requestTimeout: number }) =>
      operation === 'DeleteMessageBatch'
        ? connection.client.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: chunk.map((m, i) => ({ Id: `e${i}`, ReceiptHandle: m.receiptHandle })) }), o)
        : connection.client.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: url,
              Entries: chunk.map((m, i) => ({ Id: `e${i}`, ReceiptHandle: m.receiptHandle, VisibilityTimeout: visibilityTimeout })),
            }),
            o,
          );
    const out = await connection.run(`${operation} on ${chunk[0]!.queue}`, run, signal ? { signal } : {});
    for (const ok of out.Successful ?? []) {
      const held = chunk[Number(ok.Id?.slice(1))];
      if (held) outcome.succeeded.push(held);
    }
    for (const failed of out.Failed ?? []) {
      const held = chunk[Number(failed.Id?.slice(1))];
      if (!held) continue;
      outcome.failures.push({
        held,
        index: held.index ?? -1,
        messageId: held.messageId,
        code: failed.Code ?? 'Unknown',
        message: failed.Message ?? '',
        senderFault: failed.SenderFault ?? false,
      });
    }
  }
  return outcome;
}

export function deleteMessages(connection: SqsConnection, messages: HeldMessage[], signal?: AbortSignal): Promise<BatchOutcome> {
  return batched(connection, 'DeleteMessageBatch', messages, 0, signal);
}

export function changeVisibility(connection: SqsConnection, messages: HeldMessage[], seconds: number, signal?: AbortSignal): Promise<BatchOutcome> {
  return batched(connection, 'ChangeMessageVisibilityBatch', messages, seconds, signal);
}

/** Makes held messages visible again at once; best effort (a lost receipt handle only means waiting for the visibility timeout). */
export async function release(connection: SqsConnection, messages: HeldMessage[]): Promise<void> {
  if (messages.length === 0 || connection.isClosed) return;
  try {
    await changeVisibility(connection, messages, 0);
  } catch {
    // The messages return on their own when their visibility timeout ends.
  }
}
