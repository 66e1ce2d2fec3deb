import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SQSClient,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import type { Endpoints } from '../config';

export function sqsClient(endpoints: Endpoints): SQSClient {
  return new SQSClient({ endpoint: endpoints.sqsEndpoint, region: 'elasticmq', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, maxAttempts: 3 });
}

export async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string> = {}): Promise<string> {
  const out = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!out.QueueUrl) throw new Error(`CreateQueue ${name} returned no URL`);
  return out.QueueUrl;
}

export async function queueUrl(sqs: SQSClient, name: string): Promise<string> {
  const out = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!out.QueueUrl) throw new Error(`no URL for ${name}`);
  return out.QueueUrl;
}

export async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new Error(`no ARN for ${url}`);
  return arn;
}

export async function deleteQueues(sqs: SQSClient, names: string[]): Promise<void> {
  await Promise.all(
    names.map(async (name) => {
      const url = await queueUrl(sqs, name).catch(() => null);
      if (url) await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
    }),
  );
}

/** Visible + in-flight + delayed messages (ElasticMQ's counts are exact). */
export async function queueCounts(sqs: SQSClient, url: string): Promise<{ visible: number; inFlight: number }> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0), inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
}

/** Sends `count` messages with SendMessageBatch (10 per call), `inFlight` calls at once. */
export async function fillQueue(sqs: SQSClient, url: string, count: number, value: (n: number) => string, inFlight = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const from = next;
      const to = Math.min(count, from + 10);
      next = to;
      const entries = [];
      for (let n = from; n < to; n++) entries.push({ Id: String(n - from), MessageBody: value(n) });
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
      if (out.Failed && out.Failed.length > 0) throw new Error(`SendMessageBatch failed: ${out.Failed[0]?.Code} ${out.Failed[0]?.Message}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}
