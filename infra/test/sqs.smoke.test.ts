import { afterAll, describe, expect, it } from 'vitest';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { SQS_ENDPOINT, uniqueName } from './endpoints';

const sqs = new SQSClient({
  endpoint: SQS_ENDPOINT,
  region: 'elasticmq',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
});

const created: string[] = [];

async function createQueue(name: string, attributes?: Record<string, string>): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no URL`);
  created.push(QueueUrl);
  return QueueUrl;
}

async function queueArn(url: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`no QueueArn for ${url}`);
  return arn;
}

describe('SQS smoke (ElasticMQ, @aws-sdk/client-sqs)', () => {
  afterAll(async () => {
    for (const url of created) await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    sqs.destroy();
  });

  it('sends one message and receives the same body and attributes', async () => {
    const url = await createQueue(uniqueName('sqs'));
    const text = 'héllo sqs ✓';
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: text,
        MessageAttributes: { order: { DataType: 'String', StringValue: 'order-1' } },
      }),
    );
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    expect(Messages).toHaveLength(1);
    const [m] = Messages!;
    expect(m?.MessageId).toBe(sent.MessageId);
    expect(m?.Body).toBe(text);
    expect(m?.MessageAttributes?.order?.StringValue).toBe('order-1');
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m?.ReceiptHandle }));
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 0 }));
    expect(again.Messages ?? []).toHaveLength(0);
  });

  it('enforces AWS limits (strict): 1 MiB body accepted, 1 MiB + 1 and U+0000 rejected', async () => {
    const url = await createQueue(uniqueName('sqs-limits'));
    const send = (body: string) => sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    await expect(send('x'.repeat(1024 * 1024))).resolves.toHaveProperty('MessageId');
    await expect(send('x'.repeat(1024 * 1024 + 1))).rejects.toThrow(/MessageTooLong/);
    await expect(send('a\u0000b')).rejects.toThrow(/InvalidMessageContents/);
  });

  it('supports native message move tasks (DLQ redrive)', async () => {
    const source = await createQueue(uniqueName('sqs-src'));
    const dlq = await createQueue(uniqueName('sqs-dlq'));
    const dlqArn = await queueArn(dlq);
    const sourceArn = await queueArn(source);
    await sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: 'dead-1' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: 'dead-2' }));

    const task = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn, DestinationArn: sourceArn }));
    expect(task.TaskHandle).toBeTruthy();

    const bodies: string[] = [];
    const deadline = Date.now() + 10_000;
    while (bodies.length < 2 && Date.now() < deadline) {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: source, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      for (const m of Messages ?? []) {
        bodies.push(m.Body ?? '');
        await sqs.send(new DeleteMessageCommand({ QueueUrl: source, ReceiptHandle: m.ReceiptHandle }));
      }
    }
    expect(bodies.sort()).toEqual(['dead-1', 'dead-2']);
    const tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
    expect(tasks.Results?.[0]?.Status).toBe('COMPLETED');
    expect(tasks.Results?.[0]?.ApproximateNumberOfMessagesMoved).toBe(2);
  });
});
