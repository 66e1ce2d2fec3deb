import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Headers, type CheckpointStore, type RedriveRequest } from '@mailroom/core';
import { createRabbitMqAdapter, type RabbitMqAdapter } from '../src/index';
import { Broker } from './broker';
import { testConfig, uniqueName } from './env';
import { STATS_DEADLINE_MS, waitUntil } from './wait';

function store(): CheckpointStore {
  let state: unknown;
  return { load: async () => state, save: async (s) => void (state = s) };
}

function ctx() {
  return { signal: new AbortController().signal, onProgress: () => undefined, checkpoint: store() };
}

describe('dead letters', () => {
  const broker = new Broker();
  let adapter: RabbitMqAdapter;

  beforeAll(() => {
    adapter = createRabbitMqAdapter(testConfig());
  });
  afterAll(async () => {
    await adapter.close();
    await broker.cleanup();
  }, 60_000);

  it('finds a DLQ configured by x-dead-letter-exchange arguments, through the DLX bindings', async () => {
    const base = uniqueName('dlx-arg');
    const dlx = await broker.exchange(`${base}.dlx`, 'direct');
    const dlq = await broker.queue(`${base}.parking`);
    const other = await broker.queue(`${base}.other`);
    await broker.bind(dlq, dlx, 'failed');
    await broker.bind(other, dlx, 'something-else');
    const work = await broker.queue(base, { 'x-dead-letter-exchange': dlx, 'x-dead-letter-routing-key': 'failed' });

    const links = await adapter.listDeadLetterQueues();
    const link = links.find((l) => l.deadLetter === dlq);
    expect(link).toEqual({ deadLetter: dlq, origins: [work], depth: expect.any(Number), via: 'x-dead-letter-exchange argument' });
    expect(links.find((l) => l.deadLetter === other), 'a queue bound with another routing key is not the DLQ').toBeUndefined();

    const listed = await adapter.listDestinations();
    const workSummary = listed.find((d) => d.name === work);
    expect(workSummary?.deadLetter).toBe(dlq);
    expect(workSummary?.attributes['deadLetterExchange']).toBe(dlx);
    const dlqSummary = listed.find((d) => d.name === dlq);
    expect(dlqSummary?.isDeadLetter).toBe(true);
    expect(dlqSummary?.deadLetterSources).toEqual([work]);
  });

  it('finds a DLQ configured by a policy (and the default exchange with a routing key)', async () => {
    const base = uniqueName('dlx-policy');
    const dlq = await broker.queue(`${base}-dead`);
    const work = await broker.queue(`${base}-work`);
    await broker.policy(`${base}-policy`, `^${base}-work$`, { 'dead-letter-exchange': '', 'dead-letter-routing-key': dlq });
    const links = await adapter.listDeadLetterQueues();
    expect(links.find((l) => l.deadLetter === dlq)).toEqual({ deadLetter: dlq, origins: [work], depth: 0, via: `policy ${base}-policy` });
    const detail = await adapter.describeDestination(work);
    expect(detail.deadLetter).toBe(dlq);
  });

  it('shows x-death on each dead letter and redrives selected ids back to the x-death queue, requeueing the rest in order', async () => {
    const base = uniqueName('dlx-select');
    const dlx = await broker.exchange(`${base}.dlx`, 'fanout');
    const dlq = await broker.queue(`${base}.dlq`);
    await broker.bind(dlq, dlx, '');
    const work = await broker.queue(base, { 'x-dead-letter-exchange': dlx });
    const count = 10;
    await broker.sendToQueue(
      work,
      Array.from({ length: count }, (_, i) => ({ body: Buffer.from(`m-${i}`), messageId: `${base}-${i}`, headers: { [Headers.deadLetterOrigin]: 'ignored-when-x-death-exists' } })),
    );
    await broker.rejectAll(work, count);

    const page = await adapter.browse({ destination: dlq, start: { from: 'oldest' }, limit: 100 });
    expect(page.messages.map((m) => m.id)).toEqual(Array.from({ length: count }, (_, i) => `${base}-${i}`));
    const first = page.messages[0];
    expect(first?.deadLetter?.origin).toBe(work);
    expect(first?.deadLetter?.reason).toBe('rejected');
    expect(first?.deadLetter?.history[0]).toMatchObject({ destination: work, reason: 'rejected', count: 1 });
    expect(first?.deadLetter?.failedAt).toBeInstanceOf(Date);
    expect(JSON.parse(first?.headers['x-death'] ?? '[]')[0]).toMatchObject({ queue: work, reason: 'rejected', exchange: '', 'routing-keys': [work] });

    const selected = [`${base}-2`, `${base}-5`, `${base}-7`];
    const request: RedriveRequest = { taskId: uniqueName('t'), source: dlq, target: null, selection: { kind: 'ids', ids: selected }, ratePerSecond: null, dryRun: false };
    const report = await adapter.redrive(request, ctx());
    expect(report).toMatchObject({ outcome: 'completed', moved: 3, skipped: count - 3, failed: 0, possiblyDuplicated: 0 });

    const atOrigin = await broker.drain(work);
    expect(atOrigin.map((m) => m.messageId)).toEqual(selected);
    expect(atOrigin.every((m) => m.headers[Headers.redriveTask] === request.taskId)).toBe(true);
    const left = await broker.drain(dlq);
    expect(left.map((m) => m.messageId), 'unselected messages are back in the DLQ in their original order').toEqual(
      Array.from({ length: count }, (_, i) => `${base}-${i}`).filter((id) => !selected.includes(id)),
    );
    expect(left.every((m) => m.redelivered), 'requeued messages are marked redelivered').toBe(true);
  });

  it('redrives by filter to a chosen target, and reports messages whose origin is unknown as failures', async () => {
    const base = uniqueName('dlx-filter');
    const dlq = await broker.queue(`${base}.dlq`);
    const target = await broker.queue(`${base}.target`);
    await broker.sendToQueue(dlq, [
      { body: Buffer.from('keep'), messageId: 'a' },
      { body: Buffer.from('move'), messageId: 'b' },
      { body: Buffer.from('move'), messageId: 'c' },
    ]);
    const filtered = await adapter.redrive(
      {
        taskId: uniqueName('t'),
        source: dlq,
        target,
        selection: { kind: 'filter', expression: 'value == "move"', predicate: (m) => new TextDecoder().decode(m.value) === 'move' },
        ratePerSecond: null,
        dryRun: false,
      },
      ctx(),
    );
    expect(filtered).toMatchObject({ outcome: 'completed', moved: 2, skipped: 1, failed: 0 });
    expect((await broker.drain(target)).map((m) => m.messageId)).toEqual(['b', 'c']);

    const toOrigin = await adapter.redrive({ taskId: uniqueName('t'), source: dlq, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false }, ctx());
    expect(toOrigin.outcome).toBe('completed');
    expect(toOrigin.moved).toBe(0);
    expect(toOrigin.failed).toBe(1);
    expect(toOrigin.failures[0]?.id).toBe('a');
    expect(toOrigin.failures[0]?.reason).toMatch(/origin is unknown/);
    expect((await broker.ctlCounts(dlq))?.ready, 'a message that cannot move stays in the DLQ').toBe(1);
  });

  it('wires a quorum queue to its DLQ with createDestination and dead-letters after maxDeliveries', async () => {
    const name = uniqueName('dl-create');
    const dlqName = adapter.deadLetterNameFor(name);
    expect(dlqName).toBe(`${name}.dlq`);
    await adapter.createDestination(name, { deadLetter: { destination: dlqName, maxDeliveries: 2 } });
    broker.track('queue', name);
    broker.track('exchange', name);
    broker.track('queue', dlqName);
    broker.track('exchange', dlqName);
    const detail = await adapter.describeDestination(name);
    expect(detail.attributes['type']).toBe('quorum');
    expect(detail.config['x-delivery-limit']).toBe('1');
    expect(detail.deadLetter).toBe(dlqName);

    await adapter.publish(name, [{ key: 'k', value: new TextEncoder().encode('poison'), headers: { [Headers.messageId]: 'p-1' } }]);
    const ch = await broker.channel();
    for (let attempt = 0; attempt < 2; attempt++) {
      const got = await ch.get(name, { noAck: false });
      expect(got, `delivery ${attempt + 1}`).not.toBe(false);
      if (got) ch.nack(got, false, true);
    }
    await ch.close();
    const dlqPage = await waitForPage(adapter, dlqName);
    expect(dlqPage.messages[0]?.deadLetter?.reason).toBe('delivery_limit');
    expect(dlqPage.messages[0]?.deadLetter?.origin).toBe(name);
    const report = await adapter.redrive({ taskId: uniqueName('t'), source: dlqName, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false }, ctx());
    expect(report).toMatchObject({ outcome: 'completed', moved: 1 });
    expect(await broker.ctlCountsSettled(name, { ready: 1, unacked: 0 }), 'rabbitmqctl reports the redriven message back').toEqual({ ready: 1, unacked: 0 });
    expect(await broker.ctlCountsSettled(dlqName, { ready: 0, unacked: 0 })).toEqual({ ready: 0, unacked: 0 });
  });
});

/** Quorum queues dead-letter asynchronously: browses until the DLQ shows a message. */
function waitForPage(adapter: RabbitMqAdapter, queue: string) {
  return waitUntil(() => adapter.browse({ destination: queue, start: { from: 'oldest' }, limit: 10 }), (page) => page.messages.length > 0, STATS_DEADLINE_MS, 100);
}
