import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Headers, type CheckpointStore, type RedriveReport } from '@mailroom/core';
import { createRabbitMqAdapter, type RabbitMqAdapter } from '../src/index';
import { Broker } from './broker';
import { testConfig, uniqueName } from './env';

function memoryCheckpoint(): CheckpointStore {
  let state: unknown;
  return { load: async () => state, save: async (s) => void (state = s) };
}

function redriveAllToOrigin(adapter: RabbitMqAdapter, source: string, taskId: string): Promise<RedriveReport> {
  return adapter.redrive(
    { taskId, source, target: null, selection: { kind: 'all' }, ratePerSecond: null, dryRun: false },
    { signal: new AbortController().signal, onProgress: () => undefined, checkpoint: memoryCheckpoint() },
  );
}

/**
 * Dead letters that first went through a real topic exchange: `orders` (topic) routes
 * `orders.eu` to both `work` (which dead-letters to `work.dlq` through a fanout DLX) and
 * `audit`, and a message's CC key (the name of the queue `cc`, bound with that key) to `cc`.
 * x-death then names exchange `orders` and the routing keys, CC included.
 */
describe('redrive to the origin named by x-death, through a topic exchange', () => {
  const broker = new Broker();
  let byQueue: RabbitMqAdapter;
  let byExchange: RabbitMqAdapter;
  const base = uniqueName('origin');
  const orders = `${base}.orders`;
  const work = `${base}.work`;
  const audit = `${base}.audit`;
  // Named like a queue so that a CC header left on a copy sent through the default exchange would reach it.
  const cc = `${base}.cc`;
  const dlx = `${base}.dlx`;
  const dlq = `${base}.work.dlq`;
  const routingKey = 'orders.eu';

  beforeAll(async () => {
    byQueue = createRabbitMqAdapter(testConfig());
    byExchange = createRabbitMqAdapter(testConfig({ redriveOrigin: 'exchange' }));
    await broker.exchange(orders, 'topic');
    await broker.exchange(dlx, 'fanout');
    await broker.queue(dlq);
    await broker.bind(dlq, dlx, '');
    await broker.queue(work, { 'x-dead-letter-exchange': dlx });
    await broker.queue(audit);
    await broker.queue(cc);
    await broker.bind(work, orders, routingKey);
    await broker.bind(audit, orders, routingKey);
    await broker.bind(cc, orders, cc);
  });

  afterAll(async () => {
    await byQueue.close();
    await byExchange.close();
    await broker.cleanup();
  }, 60_000);

  /** Three messages (the last with CC [cc]) published to `orders`, taken from `audit` and `cc`, and rejected from `work` into the DLQ. */
  async function deadLetterThroughExchange(label: string): Promise<{ id: string; body: Buffer; cc: string[] }[]> {
    const messages = [
      { id: `${label}-0`, body: Buffer.from([0x00, 0xff, 0x10, 0x80]), cc: [] },
      { id: `${label}-1`, body: Buffer.from(`plain ${label} ü`, 'utf8'), cc: [] },
      { id: `${label}-2`, body: Buffer.from(`with cc ${label}`, 'utf8'), cc: [cc] },
    ];
    const ch = await broker.confirmChannel();
    for (const m of messages) {
      ch.publish(orders, routingKey, m.body, { persistent: true, messageId: m.id, mandatory: true, ...(m.cc.length > 0 ? { CC: m.cc } : {}) });
    }
    await ch.waitForConfirms();
    await ch.close();
    expect((await broker.drain(audit)).map((m) => m.messageId), 'the exchange routed every message to audit too').toEqual(messages.map((m) => m.id));
    expect((await broker.drain(cc)).map((m) => m.messageId), 'the CC key routed the last message to cc').toEqual([`${label}-2`]);
    await broker.rejectAll(work, messages.length);
    const dead = await broker.drain(dlq, { requeue: true });
    expect(dead.map((m) => m.messageId)).toEqual(messages.map((m) => m.id));
    for (const [i, m] of messages.entries()) {
      const deaths = dead[i]?.headers['x-death'] as Record<string, unknown>[] | undefined;
      expect(deaths?.[0], `x-death of ${m.id}`).toMatchObject({ queue: work, reason: 'rejected', exchange: orders, 'routing-keys': [routingKey, ...m.cc] });
    }
    return messages;
  }

  it("by default (redriveOrigin 'queue') puts each dead letter back on the x-death queue only", async () => {
    const sent = await deadLetterThroughExchange('by-queue');
    const taskId = uniqueName('task');
    const report = await redriveAllToOrigin(byQueue, dlq, taskId);
    expect(report).toMatchObject({ outcome: 'completed', moved: 3, failed: 0, skipped: 0, possiblyDuplicated: 0 });

    const back = await broker.drain(work);
    expect(back.map((m) => m.messageId)).toEqual(sent.map((m) => m.id));
    back.forEach((m, i) => {
      expect(m.body.equals(sent[i]?.body ?? Buffer.alloc(0)), `bytes of ${m.messageId}`).toBe(true);
      expect(m.headers[Headers.redrivenFrom]).toBe(dlq);
      expect(m.headers[Headers.redriveTask]).toBe(taskId);
    });
    expect(await broker.drain(audit), 'another queue bound to the same exchange and key gets nothing').toEqual([]);
    expect(await broker.drain(cc), 'the CC key of the original publish does not route the copy again').toEqual([]);
    expect(await broker.ctlCounts(dlq)).toEqual({ ready: 0, unacked: 0 });
  });

  it("with redriveOrigin 'exchange' republishes to x-death's exchange with its routing keys, CC included", async () => {
    const sent = await deadLetterThroughExchange('by-exchange');
    const taskId = uniqueName('task');
    const report = await redriveAllToOrigin(byExchange, dlq, taskId);
    expect(report).toMatchObject({ outcome: 'completed', moved: 3, failed: 0, skipped: 0, possiblyDuplicated: 0 });

    for (const queue of [work, audit]) {
      const got = await broker.drain(queue);
      expect(got.map((m) => m.messageId), `${queue} gets every message once`).toEqual(sent.map((m) => m.id));
      got.forEach((m, i) => {
        expect(m.body.equals(sent[i]?.body ?? Buffer.alloc(0)), `bytes of ${m.messageId} in ${queue}`).toBe(true);
        expect(m.headers[Headers.redrivenFrom]).toBe(dlq);
        expect(m.headers[Headers.redriveTask]).toBe(taskId);
      });
    }
    const ccd = await broker.drain(cc);
    expect(ccd.map((m) => m.messageId), 'the CC routing key from x-death routes the copy to cc as well').toEqual([`by-exchange-2`]);
    expect(ccd[0]?.body.equals(sent[2]?.body ?? Buffer.alloc(0))).toBe(true);
    expect(await broker.ctlCounts(dlq)).toEqual({ ready: 0, unacked: 0 });
  });
});
