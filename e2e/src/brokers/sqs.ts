import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  type Message as SqsMessage,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import { pollWithRetry } from '@mailroom/core';
import { createSqsAdapter } from '@mailroom/sqs';
import { runId, SQS_CREDENTIALS, SQS_ENDPOINT, SQS_REGION } from '../env';
import { alwaysFail, failureReason, FAILING_POLICY, type BrokerKit, type DeadLetterRemedy, type NativeMessage } from './kit';

/**
 * SQS (ElasticMQ) through @aws-sdk/client-sqs 3.1169.0. The adapter's wire format (its README):
 * body = the UTF-8 value (or base64 with `mailroom-encoding`), key in `mailroom-key`, each header
 * one String attribute (or all of them as JSON in `mailroom-headers`).
 */
export class SqsKit implements BrokerKit {
  private readonly sqs = new SQSClient({ endpoint: SQS_ENDPOINT, region: SQS_REGION, credentials: SQS_CREDENTIALS, maxAttempts: 2 });
  private readonly queues = new Set<string>();

  readonly keepsConsumedMessages = false;

  deadLetterFacts(key: string): { reason: string; attempts: number } {
    return { reason: failureReason(key), attempts: FAILING_POLICY.maxAttempts };
  }

  name(label: string): string {
    return `${runId()}-sqs-${label}`;
  }

  private async url(name: string): Promise<string> {
    const { QueueUrl } = await this.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!QueueUrl) throw new Error(`No URL for queue ${name}`);
    return QueueUrl;
  }

  async createDestination(name: string, attributes: Record<string, string> = {}): Promise<void> {
    this.queues.add(name);
    await this.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  }

  private async arn(name: string): Promise<string> {
    const { Attributes } = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: await this.url(name), AttributeNames: ['QueueArn'] }));
    const arn = Attributes?.QueueArn;
    if (!arn) throw new Error(`No ARN for ${name}`);
    return arn;
  }

  async createDestinationWithDeadLetters(name: string): Promise<string> {
    const dlq = `${name}-dlq`;
    await this.createDestination(dlq);
    await this.createDestination(name, { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await this.arn(dlq), maxReceiveCount: '5' }) });
    return dlq;
  }

  async publish(destination: string, message: NativeMessage): Promise<void> {
    const attributes: Record<string, MessageAttributeValue> = {};
    if (message.key !== null) attributes['mailroom-key'] = { DataType: 'String', StringValue: message.key };
    for (const [k, v] of Object.entries(message.headers)) attributes[k] = { DataType: 'String', StringValue: v };
    await this.sqs.send(new SendMessageCommand({ QueueUrl: await this.url(destination), MessageBody: message.value.toString('utf8'), MessageAttributes: attributes }));
  }

  private decode(m: SqsMessage): NativeMessage {
    const attrs = m.MessageAttributes ?? {};
    const text = (name: string) => attrs[name]?.StringValue;
    const keyAttr = attrs['mailroom-key'];
    const key = keyAttr === undefined ? null : keyAttr.DataType === 'String.json' ? (JSON.parse(keyAttr.StringValue ?? 'null') as string) : (keyAttr.StringValue ?? '');
    const encoding = text('mailroom-encoding');
    const body = m.Body ?? '';
    const value = encoding === 'base64' ? Buffer.from(body, 'base64') : encoding === 'empty' ? Buffer.alloc(0) : Buffer.from(body, 'utf8');
    const packed = text('mailroom-headers');
    const headers: Record<string, string> = packed !== undefined ? (JSON.parse(packed) as Record<string, string>) : {};
    for (const [name, attr] of Object.entries(attrs)) {
      if (name.startsWith('mailroom-')) continue;
      headers[name] = attr.StringValue ?? Buffer.from(attr.BinaryValue ?? new Uint8Array()).toString('base64');
    }
    return { key, value, headers };
  }

  /** Receives every visible message (held invisible while scanning), then makes them all visible again. */
  async readAll(destination: string): Promise<NativeMessage[]> {
    const url = await this.url(destination);
    const held: SqsMessage[] = [];
    let emptyReceives = 0;
    while (emptyReceives < 2) {
      const { Messages } = await this.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60, WaitTimeSeconds: 0, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }),
      );
      if (!Messages || Messages.length === 0) emptyReceives++;
      else held.push(...Messages);
    }
    for (let i = 0; i < held.length; i += 10) {
      const chunk = held.slice(i, i + 10);
      await this.sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: url, Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })) }));
    }
    return held.map((m) => this.decode(m));
  }

  async failIntoDeadLetters(destination: string, messages: NativeMessage[]): Promise<void> {
    const adapter = createSqsAdapter({ endpoint: SQS_ENDPOINT, region: SQS_REGION, credentials: SQS_CREDENTIALS });
    const consumer = adapter.createConsumer({ group: 'e2e-worker', maxMessages: 10 });
    const producer = adapter.createProducer();
    try {
      await consumer.subscribe([destination]);
      for (const m of messages) await this.publish(destination, m);
      let deadLettered = 0;
      const deadline = Date.now() + 60_000;
      while (deadLettered < messages.length) {
        if (Date.now() > deadline) throw new Error(`Only ${deadLettered} of ${messages.length} messages were dead-lettered`);
        const stats = await pollWithRetry(consumer, alwaysFail, { policy: FAILING_POLICY, producer, deadLetterFor: (t) => adapter.deadLetterNameFor(t), pollTimeoutMs: 1000 });
        deadLettered += stats.deadLettered;
      }
    } finally {
      await consumer.close();
      await producer.close();
      await adapter.close();
    }
  }

  /** Receives and deletes every visible message, like a consumer that keeps up. */
  async consumeBacklog(destination: string): Promise<void> {
    const url = await this.url(destination);
    for (;;) {
      const { Messages } = await this.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 0 }));
      if (!Messages || Messages.length === 0) return;
      await this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
  }

  /** ApproximateNumberOfMessages (visible) + NotVisible + Delayed. */
  async depth(destination: string): Promise<number> {
    const { Attributes } = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: await this.url(destination), AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
    );
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesDelayed ?? 0);
  }

  async visibleDepth(destination: string): Promise<number> {
    const { Attributes } = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: await this.url(destination), AttributeNames: ['ApproximateNumberOfMessages'] }));
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  }

  /** SQS has no consumer groups: a queue's consumers just compete. */
  async makeLaggingGroup(): Promise<null> {
    return null;
  }

  async lagOf(): Promise<number> {
    throw new Error('SQS has no consumer groups');
  }

  /** SQS has no groups, and its consumers are not listed: every queue counts as consumed. */
  async consumeWithGroup(): Promise<null> {
    return null;
  }

  /**
   * The fix asks for a RedrivePolicy: the form creates the DLQ (named off the `-dlq` convention,
   * so only the policy can make it pass), SetQueueAttributes points the queue at it.
   */
  deadLetterRemedy(destination: string): DeadLetterRemedy {
    const dlq = `${destination}-failures`;
    return {
      fixNames: `queue ${destination} has no RedrivePolicy`,
      judged: [destination],
      create: dlq,
      via: 'RedrivePolicy',
      configure: async () => {
        const policy = JSON.stringify({ deadLetterTargetArn: await this.arn(dlq), maxReceiveCount: '5' });
        await this.sqs.send(new SetQueueAttributesCommand({ QueueUrl: await this.url(destination), Attributes: { RedrivePolicy: policy } }));
      },
    };
  }

  adopt(name: string): void {
    this.queues.add(name);
  }

  async dispose(): Promise<void> {
    for (const name of this.queues) {
      const url = await this.url(name).catch(() => null);
      if (url) await this.sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
    }
    this.sqs.destroy();
  }
}
