import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, fromUtf8, utf8, type Message } from '@mailroom/core';
import type { SqsAdapter } from '../src';
import { testAdapter, uniqueName } from './helpers';

const msg = (text: string, headers: Record<string, string> = {}): Message => ({ key: null, value: utf8(text), headers, timestamp: new Date() });

describe('dead-letter queues on ElasticMQ', () => {
  let adapter: SqsAdapter;
  const created: string[] = [];
  const create = async (name: string, options?: Parameters<SqsAdapter['createDestination']>[1]) => {
    await adapter.createDestination(name, options);
    created.unshift(name);
    return name;
  };

  beforeAll(() => {
    adapter = testAdapter();
  });
  afterAll(async () => {
    for (const name of created) await adapter.deleteDestination(name).catch(() => undefined);
    await adapter.close();
  });

  /** One receive by a consumer that does not commit; close makes the message visible again at once. */
  async function receiveWithoutCommit(queue: string) {
    const consumer = adapter.createConsumer({ group: 'workers' });
    await consumer.subscribe([queue]);
    const got = await consumer.poll(1500);
    await consumer.close();
    return got;
  }

  it('finds DLQs from RedrivePolicy: listDestinations, listDeadLetterQueues, describeDestination', async () => {
    const dlq = await create(uniqueName('dlq'));
    const a = await create(uniqueName('a'), { deadLetter: { destination: dlq, maxDeliveries: 3 } });
    const b = await create(uniqueName('b'), { deadLetter: { destination: dlq, maxDeliveries: 5 } });

    const listed = await adapter.listDestinations();
    const byName = new Map(listed.map((d) => [d.name, d]));
    expect(byName.get(a)).toMatchObject({ deadLetter: dlq, isDeadLetter: false, kind: 'queue', depth: 0, inFlight: 0 });
    expect(byName.get(a)?.attributes['maxReceiveCount']).toBe(3);
    expect(byName.get(dlq)).toMatchObject({ isDeadLetter: true, deadLetterSources: [a, b].sort(), deadLetter: null });

    const links = await adapter.listDeadLetterQueues();
    expect(links.find((l) => l.deadLetter === dlq)).toEqual({ deadLetter: dlq, origins: [a, b].sort(), depth: 0, via: 'RedrivePolicy' });

    const described = await adapter.describeDestination(dlq);
    expect(described.deadLetterSources).toEqual([a, b].sort());
    expect(described.isDeadLetter).toBe(true);
    expect(described.config['QueueArn']).toMatch(new RegExp(`:${dlq}$`));
    expect((await adapter.describeDestination(a)).config['RedrivePolicy']).toContain(dlq);
  });

  it('moves a message to the DLQ after maxReceiveCount receives, and explains it there', async () => {
    const dlq = await create(uniqueName('dlq'));
    const work = await create(uniqueName('work'), { deadLetter: { destination: dlq, maxDeliveries: 3 } });
    await adapter.createProducer().send(work, msg('poison', { 'message-id': 'p-1' }));

    const counts: (number | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const got = await receiveWithoutCommit(work);
      expect(got.map((m) => fromUtf8(m.value))).toEqual(['poison']);
      counts.push(got[0]!.deliveryCount);
    }
    expect(counts).toEqual([1, 2, 3]);
    // The fourth receive finds nothing: SQS moved the message instead of delivering it.
    expect(await receiveWithoutCommit(work)).toEqual([]);

    const page = await adapter.browse({ destination: dlq, start: { from: 'oldest' }, limit: 10 });
    expect(page.messages.map((m) => fromUtf8(m.value))).toEqual(['poison']);
    const dead = page.messages[0]!;
    expect(dead.headers['message-id']).toBe('p-1');
    expect(dead.properties['deadLetterQueueSourceArn']).toMatch(new RegExp(`:${work}$`));
    expect(dead.deadLetter).toMatchObject({ origin: work, attempts: 3 });
    expect(dead.deadLetter?.reason).toContain('3 receives');
    expect(page.destructive).toBe(true);
  });

  it('peek guard: stops before a peek would use up the last delivery, unless forced', async () => {
    const dlq = await create(uniqueName('dlq'));
    const work = await create(uniqueName('work'), { deadLetter: { destination: dlq, maxDeliveries: 3 } });
    await adapter.createProducer().send(work, msg('fragile'));

    const first = await adapter.browse({ destination: work, start: { from: 'newest' }, limit: 10 });
    expect(first.messages.map((m) => m.deliveryCount)).toEqual([1]);
    expect(first.warnings.join(' ')).toContain('after 3 receives');

    // The second peek sees receive count 2 = maxReceiveCount − 1 and refuses.
    await expect(adapter.browse({ destination: work, start: { from: 'newest' }, limit: 10 })).rejects.toBeInstanceOf(ConflictError);
    // The refusal left the consumer its last delivery: it gets the message, not the DLQ.
    const got = await receiveWithoutCommit(work);
    expect(got.map((m) => [fromUtf8(m.value), m.deliveryCount])).toEqual([['fragile', 3]]);
    expect((await adapter.describeDestination(dlq)).depth).toBe(0);

    // Forced, the peek goes ahead and says what it did; the message goes to the DLQ on its next receive.
    const forced = await adapter.browse({ destination: work, start: { from: 'newest' }, limit: 10, force: true });
    expect(forced.messages).toEqual([]);
    expect((await adapter.describeDestination(dlq)).depth).toBe(1);
  });

  it('refuses to peek a queue with maxReceiveCount 1 before receiving anything', async () => {
    const dlq = await create(uniqueName('dlq'));
    const work = await create(uniqueName('work'), { deadLetter: { destination: dlq, maxDeliveries: 1 } });
    await adapter.createProducer().send(work, msg('only once'));
    await expect(adapter.browse({ destination: work, start: { from: 'newest' }, limit: 10 })).rejects.toThrow(/only delivery/);
    const got = await receiveWithoutCommit(work);
    expect(got.map((m) => m.deliveryCount)).toEqual([1]);
  });

  it('peeking a DLQ (no redrive policy of its own) is never refused', async () => {
    const dlq = await create(uniqueName('dlq'));
    await adapter.createProducer().sendBatch(dlq, [msg('d-0'), msg('d-1')]);
    for (let i = 0; i < 4; i++) {
      const page = await adapter.browse({ destination: dlq, start: { from: 'oldest' }, limit: 10 });
      expect(page.messages.map((m) => fromUtf8(m.value)).sort()).toEqual(['d-0', 'd-1']);
    }
  });
});
