import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { MailroomApp } from '../src/app';
import type { ConnectionConfig } from '../src/config/schema';
import { expectFailure, expectPass, fitnessApp, measure, until } from './fitness-helpers';
import { SQS_ENDPOINT, tempDir, uniqueName, waitFor } from './helpers';

const CREDENTIALS = { accessKeyId: 'x', secretAccessKey: 'x' };
const CONNECTION: ConnectionConfig = { id: 'sqs', kind: 'sqs', readOnly: false, demoTraffic: false, config: { endpoint: SQS_ENDPOINT, region: 'elasticmq', credentials: CREDENTIALS } };

describe('fitness on a real SQS endpoint (ElasticMQ): measurable criteria fail, name the queue and pass once fixed; the rest are unknown with the reason', () => {
  const data = tempDir();
  const base = uniqueName('mr-fit-sqs');
  const sqs = new SQSClient({ endpoint: SQS_ENDPOINT, region: 'elasticmq', credentials: CREDENTIALS });
  const urls: string[] = [];
  let app: MailroomApp;
  const opened: MailroomApp[] = [];

  const createQueue = async (name: string): Promise<string> => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    urls.push(QueueUrl!);
    return QueueUrl!;
  };
  const arnOf = async (url: string): Promise<string> =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;

  beforeAll(async () => {
    app = await fitnessApp(CONNECTION, data.dir);
    opened.push(app);
  });

  afterAll(async () => {
    for (const a of opened) await a.close();
    for (const url of urls) await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
    sqs.destroy();
    data.remove();
  });

  it('message_acknowledgment: a message received and not deleted is unknown (SQS reports no ages and no deletes); once deleted nothing is unacknowledged', async () => {
    const queue = `${base}-ack`;
    const url = await createQueue(queue);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'job' }));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 120, WaitTimeSeconds: 1 }));
    const handle = received.Messages?.[0]?.ReceiptHandle;
    expect(handle).toBeDefined();

    const held = await until(app, 'sqs', queue, 'message_acknowledgment', queue, 'unknown');
    expect(held.destination.evidence).toBe('1 message(s) are in flight; the broker reports neither how long they have been nor how many were acknowledged meanwhile');
    expect(held.criterion.status).toBe('unknown');
    expect(held.criterion.score).toBeNull();

    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: handle }));
    const fixed = await until(app, 'sqs', queue, 'message_acknowledgment', queue, 'pass');
    expectPass(fixed);
    expect(fixed.destination.evidence).toBe('nothing delivered and unacknowledged (in-flight count 0)');
  });

  it('dead_letter_handling: a queue without a RedrivePolicy fails with the SQS fix; setting one to an existing DLQ fixes it', async () => {
    const queue = `${base}-dl`;
    const url = await createQueue(queue);
    const failing = await measure(app, 'sqs', `${queue}*`, 'dead_letter_handling', queue);
    expectFailure(failing, queue, /RedrivePolicy/);
    expect(failing.destination.fix).toBe(`queue ${queue} has no RedrivePolicy: set one on it (deadLetterTargetArn of a DLQ, maxReceiveCount) so messages that keep failing move to the DLQ`);
    expect(failing.destination.evidence).toBe('no dead-letter queue configured');

    const dlq = `${queue}-dead`;
    const dlqArn = await arnOf(await createQueue(dlq));
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }) } }));
    const fixed = await until(app, 'sqs', `${queue}*`, 'dead_letter_handling', queue, 'pass');
    expectPass(fixed);
    expect(fixed.destination.evidence).toBe(`dead letters go to ${dlq} (RedrivePolicy)`);
    expect(fixed.criterion.destinations.find((d) => d.destination === dlq)?.status).toBe('not-applicable');
  });

  it('idempotent_consumers and error_retry are unknown: reading a queue or its DLQ raises receive counts', async () => {
    const queue = `${base}-rt`;
    const url = await createQueue(queue);
    const dlqArn = await arnOf(await createQueue(`${queue}-dead`));
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }) } }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'job' }));

    const identity = await until(app, 'sqs', `${queue}*`, 'idempotent_consumers', queue, 'unknown');
    expect(identity.destination.evidence).toMatch(/^sampling its messages would change them, so it is not done: .*receive/i);
    expect(identity.criterion.status).toBe('unknown');
    const retry = await measure(app, 'sqs', `${queue}*`, 'error_retry', queue);
    expect(retry.destination.status).toBe('unknown');
    expect(retry.destination.evidence).toMatch(new RegExp(`^reading the dead letters in ${queue}-dead would change them, so it is not done: `));
    expect(retry.criterion.status).toBe('unknown');
    // Nothing was read: the message was never received.
    const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    expect(attributes.Attributes).toMatchObject({ ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '0' });
    const message = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MessageSystemAttributeNames: ['ApproximateReceiveCount'], WaitTimeSeconds: 1 }));
    expect(message.Messages?.[0]?.Attributes?.['ApproximateReceiveCount']).toBe('1');
  });

  it('monitoring: a queue no alert rule covers fails; an app with a rule for it passes and shows the rule firing', async () => {
    const queue = `${base}-mon`;
    const url = await createQueue(queue);
    for (let i = 0; i < 4; i++) await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `m ${i}` }));
    const failing = await until(app, 'sqs', `${queue}*`, 'monitoring', queue, 'fail');
    expectFailure(failing, queue, /alert rule/);
    expect(failing.destination.evidence).toBe('no alert rule covers it');

    const monitored = await fitnessApp(CONNECTION, data.dir, [{ connection: 'sqs', destination: `${queue}*`, maxDepth: 2 }]);
    opened.push(monitored);
    const fixed = await until(monitored, 'sqs', `${queue}*`, 'monitoring', queue, 'pass');
    expectPass(fixed);
    expect(fixed.destination.evidence).toBe('alert rules: depth ≤ 2; metrics exported on /metrics');
    const alerts = await waitFor('the depth rule to fire', async () => {
      const s = await monitored.caller.fitness.scores({ connectionId: 'sqs', destinations: `${queue}*`, refresh: true });
      return s.alerts.length > 0 ? s.alerts : null;
    });
    expect(alerts).toEqual([{ connection: 'sqs', destination: queue, rule: 'max depth', value: 4, limit: 2 }]);
  });
});
