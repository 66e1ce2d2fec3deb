import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { ConnectionConfig } from '../src/config/schema';
import type { MailroomApp } from '../src/app';
import type { RedriveTask } from '../src/router';
import { SQS_ENDPOINT, tempDir, testApp, uniqueName, waitFor } from './helpers';

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };
const connections: ConnectionConfig[] = [{ id: 'sqs', kind: 'sqs', readOnly: false, demoTraffic: false, config: { endpoint: SQS_ENDPOINT, region: 'elasticmq', credentials } }];

interface Queues {
  origin: string;
  dlq: string;
  originUrl: string;
  dlqUrl: string;
}

interface PathCase {
  name: string;
  /** Native moves (SQS's message move task) keep messages as they are; the manual path adds Mailroom's redrive headers. */
  native: boolean;
  ratePerSecond: number;
  /** Set while a bug in @mailroom/sqs makes this case fail; the test runs again once it is null. */
  knownIssue: string | null;
  createQueues(sqs: SQSClient): Promise<Queues>;
}

async function arnOf(sqs: SQSClient, url: string): Promise<string> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return out.Attributes!['QueueArn']!;
}

const cases: PathCase[] = [
  {
    name: 'a DLQ by RedrivePolicy (native message move task)',
    native: true,
    ratePerSecond: 20,
    knownIssue: null,
    async createQueues(sqs) {
      const origin = uniqueName('mr-rds-n');
      const dlq = `${origin}-dlq`;
      const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: dlq }))).QueueUrl!;
      const RedrivePolicy = JSON.stringify({ deadLetterTargetArn: await arnOf(sqs, dlqUrl), maxReceiveCount: 5 });
      const originUrl = (await sqs.send(new CreateQueueCommand({ QueueName: origin, Attributes: { RedrivePolicy } }))).QueueUrl!;
      return { origin, dlq, originUrl, dlqUrl };
    },
  },
  {
    name: 'a DLQ by naming convention (receive, send, delete)',
    native: false,
    ratePerSecond: 40,
    // Failed in about 3 runs of 5 while close() aborted a ReceiveMessage in flight: SQS had handed
    // out its 10 messages with the 60 s hold and nobody released them.
    knownIssue: null,
    async createQueues(sqs) {
      const origin = uniqueName('mr-rds-m');
      const dlq = `${origin}-dlq`;
      const originUrl = (await sqs.send(new CreateQueueCommand({ QueueName: origin }))).QueueUrl!;
      const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: dlq }))).QueueUrl!;
      return { origin, dlq, originUrl, dlqUrl };
    },
  },
];

async function depth(sqs: SQSClient, url: string): Promise<{ visible: number; inFlight: number; delayed: number }> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
  );
  const a = out.Attributes ?? {};
  return { visible: Number(a['ApproximateNumberOfMessages']), inFlight: Number(a['ApproximateNumberOfMessagesNotVisible']), delayed: Number(a['ApproximateNumberOfMessagesDelayed']) };
}

/** Every message of a queue, received (and kept invisible) by a plain SDK consumer until three receives in a row come back empty. */
async function drain(sqs: SQSClient, url: string): Promise<Message[]> {
  const all: Message[] = [];
  let empty = 0;
  while (empty < 3) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 300, MessageAttributeNames: ['All'] }));
    const got = out.Messages ?? [];
    all.push(...got);
    empty = got.length === 0 ? empty + 1 : 0;
  }
  return all;
}

describe.each(cases)('SQS redrive across a server restart from $name', ({ native, ratePerSecond, knownIssue, createQueues }) => {
  const sqs = new SQSClient({ endpoint: SQS_ENDPOINT, region: 'elasticmq', credentials });
  const urls: string[] = [];

  afterAll(async () => {
    for (const QueueUrl of urls) await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined);
    sqs.destroy();
  });

  it.skipIf(knownIssue !== null)('moves every message exactly once', async () => {
    const data = tempDir();
    const { origin, dlq, originUrl, dlqUrl } = await createQueues(sqs);
    urls.push(originUrl, dlqUrl);
    const total = 60;
    const bodies = Array.from({ length: total }, (_, i) => `m-${i} ✓ äöü`);
    // Dead letters as an SDK client writes them: the origin in Mailroom's header (the manual path reads it; the native one uses the RedrivePolicy).
    for (let i = 0; i < total; i += 10) {
      const sent = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: `e${j}`, MessageBody, MessageAttributes: { 'x-mailroom-origin': { DataType: 'String', StringValue: origin }, 'x-n': { DataType: 'String', StringValue: String(i + j) } } })),
        }),
      );
      expect(sent.Failed ?? []).toEqual([]);
    }
    await waitFor('dead letters visible', async () => (await depth(sqs, dlqUrl)).visible === total);

    const first = await testApp({ dataDir: data.dir, connections });
    let second: MailroomApp | null = null;
    try {
      const task = await first.caller.redrive.start({ connectionId: 'sqs', source: dlq, target: null, ratePerSecond });
      expect(task.status).toBe('running');
      await waitFor('some moved', async () => (await first.caller.redrive.get({ taskId: task.id })).progress.moved >= 10, 20_000, 20);
      await first.close();

      const stored = JSON.parse(readFileSync(path.join(data.dir, 'redrive', `${task.id}.json`), 'utf8')) as { task: RedriveTask; checkpoint: { mode?: string } | null };
      expect(stored.task.status).toBe('running');
      expect(stored.checkpoint?.mode).toBe(native ? 'native' : 'manual');
      // Stopped mid-task: some moved, the rest still waits in the DLQ, nothing held in flight, nothing lost.
      const [atOrigin, atDlq] = await Promise.all([depth(sqs, originUrl), depth(sqs, dlqUrl)]);
      expect(atOrigin.visible).toBeGreaterThan(0);
      expect(atOrigin.visible).toBeLessThan(total);
      expect(atDlq.inFlight).toBe(0);
      expect(atOrigin.visible + atDlq.visible).toBe(total);

      second = await testApp({ dataDir: data.dir, connections });
      const done = await waitFor('completed after restart', async () => {
        const t = await second!.caller.redrive.get({ taskId: task.id });
        return t.status !== 'running' ? t : null;
      }, 30_000, 100);
      expect(done.status).toBe('completed');
      expect(done.resumes).toBe(1);
      expect(done.progress).toMatchObject({ moved: total, failed: 0, possiblyDuplicated: 0 });

      expect(await depth(sqs, dlqUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
      const moved = await drain(sqs, originUrl);
      expect(moved.map((m) => m.Body).sort()).toEqual([...bodies].sort());
      expect(new Set(moved.map((m) => m.MessageAttributes?.['x-n']?.StringValue)).size).toBe(total);
      const redriveTask = moved.map((m) => m.MessageAttributes?.['x-mailroom-redrive-task']?.StringValue ?? null);
      expect(redriveTask).toEqual(Array.from({ length: total }, () => (native ? null : task.id)));
    } finally {
      await second?.close();
      await first.close();
      data.remove();
    }
  });
});
