import { ReceiveMessageCommand, type Message as SqsMessage } from '@aws-sdk/client-sqs';
import type { SqsConnection } from './connection';

export const MAX_WAIT_SECONDS = 20;

export interface ReceiveOptions {
  max: number;
  waitSeconds: number;
  /** Unset: the queue's own visibility timeout. */
  visibilityTimeout?: number;
  signal?: AbortSignal;
}

/** One ReceiveMessage with every message attribute and system attribute. */
export async function receive(connection: SqsConnection, queue: string, url: string, options: ReceiveOptions): Promise<SqsMessage[]> {
  const waitSeconds = Math.max(0, Math.min(MAX_WAIT_SECONDS, Math.floor(options.waitSeconds)));
  const out = await connection.run(
    `ReceiveMessage from ${queue}`,
    (o) =>
      connection.client.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: Math.max(1, Math.min(10, options.max)),
          WaitTimeSeconds: waitSeconds,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
          ...(options.visibilityTimeout !== undefined ? { VisibilityTimeout: options.visibilityTimeout } : {}),
        }),
        o,
      ),
    {
      // A long poll legitimately takes its wait time: the request timeout must exceed it.
      requestTimeoutMs: waitSeconds * 1000 + connection.config.requestTimeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  return out.Messages ?? [];
}
