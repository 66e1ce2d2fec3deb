import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Headers, fromUtf8, utf8, type CheckpointStore, type Message, type RedriveProgress, type RedriveRequest } from '@mailroom/core';
import type { SqsAdapter } from '../src';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ListMessageMoveTasksCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { testAdapter, testConfig, uniqueName } from './helpers';

function memoryCheckpoint(): CheckpointStore & { state: unknown } {
  const store = {
    state: undefined as unknown,
    load: async () => store.state,
    save: async (state: unknown) => {
      store.state = state;
    },
  };
  return store;
}

const msg = (text: string, headers: Record<string, string> = {}, key: string | null = null): Message => ({
  key,
  value: utf8(text),
  headers,
  timestamp: new Date(),
});

describe('redrive on ElasticMQ', () => {
  let adapter: SqsAdapter;
  const created: string[] = [];
  const create = async (name: string, options?: Parameters<SqsAdapter['createDestination']>[1]) => {
    await adapter.createDestination(name, options);
    created.unshift(name);
    return name;
  };
  const depth = async (name: string) => (await adapter.describeDestination(name)).depth;

  beforeAll(() => {
    adapter = testAdapter();
  });
  afterAll(async () => {
    for (const name of created) await adapter.deleteDestination(name).catch(() => undefined);
    await adapter.close();
  });

  /** Consumes everything and returns the values (committing as it goes). */
  async function drain(queue: string, expected: number): Promise<string[]> {
    const consumer = adapter.createConsumer({ group: 'check', maxMessages: 500 });
    await consumer.subscribe([queue]);
    const values: string[] = [];
    const deadline = Date.now() + 60_000;
    while (values.length < expected && Date.now() < deadline) {
      const got = await consumer.poll(1000);
      values.push(...got.map((m) => fromUtf8(m.value)));
      if (got.length > 0) await consumer.commit();
    }
    values.push(...(await consumer.poll(1000)).map((m) => fromUtf8(m.value)));
    await consumer.commit();
    await consumer.close();
    return values;
  }

  it(
    'native move task: 10,000 messages with progress, a cancel, and a resume that moves the rest once',
    async () => {
      const dlq = await create(uniqueName('dlq'));
      await create(uniqueName('origin'), { deadLetter: { destination: dlq, maxDeliveries: 3 } });
      const target = await create(uniqueName('target'));
      const total = 10_000;
      const producer = adapter.createProducer();
      const all = Array.from({ length: total }, (_, i) => msg(`n-${i}`));
      for (let i = 0; i < total; i += 1000) await producer.sendBatch(dlq, all.slice(i, i + 1000));
      expect(await depth(dlq)).toBe(total);

      const checkpoint = memoryCheckpoint();
      const request: RedriveRequest = { taskId: uniqueName('task'), source: dlq, target, selection: { kind: 'all' }, ratePerSecond: 500, dryRun: false };
      const controller = new AbortController();
      const progress: RedriveProgress[] = [];
      const cancelled = await adapter.redrive(request, {
        signal: controller.signal,
        checkpoint,
        onProgress: (p) => {
          progress.push({ ...p });
          if (p.moved >= 400) controller.abort();
        },
      });
      expect(cancelled.outcome).toBe('cancelled');
      expect(cancelled.moved).toBeGreaterThanOrEqual(400);
      expect(cancelled.moved).toBeLessThan(total);
      expect(progress.length).toBeGreaterThan(1);
      const moving = progress.filter((p) => p.remaining !== null);
      expect(moving.length).toBeGreaterThan(0);
      expect(moving[0]!.moved + moving[0]!.remaining!).toBe(total);
      for (let i = 1; i < progress.length; i++) expect(progress[i]!.moved).toBeGreaterThanOrEqual(progress[i - 1]!.moved);
      expect(checkpoint.state).toMatchObject({ mode: 'native' });
      // Nothing is lost at the cancel: every message is in exactly one of the two queues.
      const [left, arrived] = [await depth(dlq), await depth(target)];
      expect(left! + arrived!).toBe(total);
      expect(arrived).toBe(cancelled.moved);

      const resumed = await adapter.redrive({ ...request, ratePerSecond: null }, { signal: new AbortController().signal, checkpoint, onProgress: () => {} });
      expect(resumed).toMatchObject({ outcome: 'completed', moved: total, failed: 0, possiblyDuplicated: 0 });
      expect(await depth(dlq)).toBe(0);
      const values = await drain(target, total);
      expect(values.length).toBe(total);
      expect(new Set(values).size).toBe(total);
    },
    180_000,
  );

  it('manual redrive of selected ids: back to each origin, byte-exact, marked, the rest untouched', async () => {
    const origin = await create(uniqueName('origin'));
    const dlq = await create(adapter.deadLetterNameFor(origin));
    // Dead letters as core's handleWithRetry writes them: the origin is in a header.
    const deadLetters = Array.from({ length: 10 }, (_, i) =>
      msg(`dead-${i}`, { [Headers.messageId]: `m-${i}`, [Headers.deadLetterOrigin]: origin, [Headers.deadLetterAttempts]: '3' }, `k-${i}`),
    );
    await adapter.createProducer().sendBatch(dlq, deadLetters);
    const page = await adapter.browse({ destination: dlq, start: { from: 'oldest' }, limit: 50 });
    expect(page.messages.length).toBe(10);
    expect(page.messages[0]!.deadLetter).toMatchObject({ origin, attempts: 3 });
    const chosen = page.messages.filter((m) => ['m-2', 'm-5', 'm-7'].includes(m.headers[Headers.messageId]!));
    const ids = chosen.map((m) => m.id);

    const taskId = uniqueName('task');
    const dry = await adapter.redrive(
      { taskId: `${taskId}-dry`, source: dlq, target: null, selection: { kind: 'ids', ids }, ratePerSecond: null, dryRun: true },
      { signal: new AbortController().signal, checkpoint: memoryCheckpoint(), onProgress: () => {} },
    );
    expect(dry).toMatchObject({ outcome: 'completed', moved: 3, skipped: 7 });
    expect(await depth(dlq)).toBe(10);
    expect(await depth(origin)).toBe(0);

    const report = await adapter.redrive(
      { taskId, source: dlq, target: null, selection: { kind: 'ids', ids: [...ids, 'no-such-id'] }, ratePerSecond: 100, dryRun: false },
      { signal: new AbortController().signal, checkpoint: memoryCheckpoint(), onProgress: () => {} },
    );
    expect(report).toMatchObject({ outcome: 'completed', moved: 3, failed: 1, possiblyDuplicated: 0 });
    expect(report.failures).toEqual([{ id: 'no-such-id', reason: expect.stringContaining('not found') }]);

    const consumer = adapter.createConsumer({ group: 'g' });
    await consumer.subscribe([origin]);
    const back = await consumer.poll(2000);
    await consumer.commit();
    await consumer.close();
    expect(back.map((m) => fromUtf8(m.value)).sort()).toEqual(['dead-2', 'dead-5', 'dead-7']);
    for (const m of back) {
      expect(m.key).toBe(`k-${fromUtf8(m.value).split('-')[1]}`);
      expect(m.headers[Headers.redrivenFrom]).toBe(dlq);
      expect(m.headers[Headers.redriveTask]).toBe(taskId);
      expect(m.headers[Headers.deadLetterOrigin]).toBe(origin);
    }
    expect(await depth(dlq)).toBe(7);
  });

  it('manual redrive by filter to an explicit target', async () => {
    const dlq = await create(uniqueName('dlq'));
    const target = await create(uniqueName('target'));
    await adapter.createProducer().sendBatch(dlq, Array.from({ length: 6 }, (_, i) => msg(`f-${i}`, { parity: i % 2 === 0 ? 'even' : 'odd' })));
    const report = await adapter.redrive(
      {
        taskId: uniqueName('task'),
        source: dlq,
        target,
        selection: { kind: 'filter', expression: "headers.parity == 'even'", predicate: (m) => m.headers['parity'] === 'even' },
        ratePerSecond: null,
        dryRun: false,
      },
      { signal: new AbortController().signal, checkpoint: memoryCheckpoint(), onProgress: () => {} },
    );
    expect(report).toMatchObject({ outcome: 'completed', moved: 3, skipped: 3, failed: 0 });
    expect((await drain(target, 3)).sort()).toEqual(['f-0', 'f-2', 'f-4']);
    expect(await depth(dlq)).toBe(3);
  });

  it('manual resume after a crash between send and delete: deletes without sending again', async () => {
    const origin = await create(uniqueName('origin'));
    const dlq = await create(adapter.deadLetterNameFor(origin));
    await adapter.createProducer().send(dlq, msg('already-copied', { [Headers.deadLetterOrigin]: origin }));
    const [stored] = (await adapter.browse({ destination: dlq, start: { from: 'oldest' }, limit: 10 })).messages;
    // The checkpoint a crashed run left: the copy was durable at the origin, the delete never happened.
    const checkpoint = memoryCheckpoint();
    checkpoint.state = { mode: 'manual', moved: 0, failed: 0, skipped: 0, possiblyDuplicated: 0, sending: [], sent: [stored!.id] };
    const report = await adapter.redrive(
      { taskId: uniqueName('task'), source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false },
      { signal: new AbortController().signal, checkpoint, onProgress: () => {} },
    );
    expect(report).toMatchObject({ outcome: 'completed', moved: 1, possiblyDuplicated: 0 });
    expect(await depth(dlq)).toBe(0);
    expect(await depth(origin)).toBe(0);
  });
  it('redrive all to origins from a RedrivePolicy DLQ holding both SQS-moved and Mailroom-written dead letters', async () => {
    const dlq = await create(uniqueName('dlq'));
    const work = await create(uniqueName('work'), { deadLetter: { destination: dlq, maxDeliveries: 1 } });
    const producer = adapter.createProducer();
    await producer.send(work, msg('moved-by-sqs'));
    for (const expected of [1, 0]) {
      // One delivery, not deleted; the next receive attempt makes SQS move it.
      const consumer = adapter.createConsumer({ group: 'g' });
      await consumer.subscribe([work]);
      expect(await consumer.poll(1000)).toHaveLength(expected);
      await consumer.close();
    }
    await producer.send(dlq, msg('written-by-mailroom', { [Headers.deadLetterOrigin]: work }));
    expect(await depth(dlq)).toBe(2);

    const checkpoint = memoryCheckpoint();
    const report = await adapter.redrive(
      { taskId: uniqueName('task'), source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false },
      { signal: new AbortController().signal, checkpoint, onProgress: () => {} },
    );
    expect(report).toMatchObject({ outcome: 'completed', moved: 2, failed: 0 });
    // ElasticMQ's move task also returns the message without DeadLetterQueueSourceArn (to the DLQ's source);
    // AWS fails the task for it, and the adapter then finishes by hand from the origin header.
    expect(checkpoint.state).toMatchObject({ mode: 'native' });
    expect(await depth(dlq)).toBe(0);
    expect((await drain(work, 2)).sort()).toEqual(['moved-by-sqs', 'written-by-mailroom']);
    // The DLQ has one source: the task names it as its destination rather than leaving SQS to guess.
    const config = testConfig();
    const sqs = new SQSClient({ endpoint: config.endpoint!, region: config.region!, credentials: config.credentials! });
    try {
      const arnOf = async (name: string) => {
        const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
        return (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
      };
      const tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: await arnOf(dlq) }));
      expect(tasks.Results?.map((t) => t.DestinationArn)).toEqual([await arnOf(work)]);
    } finally {
      sqs.destroy();
    }
  });

  it('redrive all while a browse holds dead letters in flight: the move waits, so each is back on the origin visible at once', async () => {
    const dlq = await create(uniqueName('dlq'));
    const work = await create(uniqueName('work'), { deadLetter: { destination: dlq, maxDeliveries: 5 } });
    const producer = adapter.createProducer();
    for (const text of ['a', 'b', 'c']) await producer.send(dlq, msg(text, { [Headers.deadLetterOrigin]: work }));
    await producer.close();
    // As a browse does: receive with a visibility timeout (here 2 s), so the messages are in flight.
    const config = testConfig();
    const sqs = new SQSClient({ endpoint: config.endpoint!, region: config.region!, credentials: config.credentials! });
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: dlq }));
    const held = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 3 }));
    expect(held.Messages?.length ?? 0).toBeGreaterThan(0);

    const checkpoint = memoryCheckpoint();
    const report = await adapter.redrive(
      { taskId: uniqueName('task'), source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false },
      { signal: new AbortController().signal, checkpoint, onProgress: () => {} },
    );
    expect(report).toMatchObject({ outcome: 'completed', moved: 3, failed: 0 });
    expect(await depth(dlq)).toBe(0);
    // Visible on the origin at once: ElasticMQ's move task keeps an in-flight message invisible
    // on the origin (and out of its counts) until the browse's timeout runs out.
    const { QueueUrl: workUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: work }));
    const visible = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: workUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    sqs.destroy();
    expect(visible.Attributes?.ApproximateNumberOfMessages).toBe('3');
    expect((await drain(work, 3)).sort()).toEqual(['a', 'b', 'c']);
  }, 60_000);
});
