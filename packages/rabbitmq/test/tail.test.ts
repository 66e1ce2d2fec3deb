import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Headers, NotFoundError, UnsupportedError, fromUtf8, utf8, type StoredMessage, type TailRequest } from '@mailroom/core';
import { createRabbitMqAdapter, type RabbitMqAdapter } from '../src/index';
import { Broker } from './broker';
import { testConfig, uniqueName } from './env';
import { STATS_DEADLINE_MS, waitUntil } from './wait';

/**
 * Starts a tail, waits until `listening` says it receives (the first next() sets up
 * the temporary queue or the stream reader; how long that takes depends on the machine's load),
 * runs `act`, and collects until `count` messages came.
 */
async function tailWhile(
  adapter: RabbitMqAdapter,
  request: Omit<TailRequest, 'signal'>,
  count: number,
  listening: () => Promise<boolean>,
  act: () => Promise<void>,
): Promise<StoredMessage[]> {
  const abort = new AbortController();
  const iterator = adapter.tail({ ...request, signal: abort.signal })[Symbol.asyncIterator]();
  const got: StoredMessage[] = [];
  const first = iterator.next();
  // A failed setup ends the wait at once instead of after the deadline.
  let failed = false;
  first.catch(() => (failed = true));
  const ready = await waitUntil(listening, (yes) => yes || failed, STATS_DEADLINE_MS, 200);
  if (!ready) {
    abort.abort();
    await first; // a failed setup throws its own error here
    throw new Error(`the tail did not start listening within ${STATS_DEADLINE_MS} ms`);
  }
  await act();
  const timer = setTimeout(() => abort.abort(), STATS_DEADLINE_MS);
  let step = await first;
  while (!step.done) {
    got.push(...step.value.messages);
    if (got.length >= count) break;
    step = await iterator.next();
  }
  clearTimeout(timer);
  abort.abort();
  await iterator.return?.(undefined);
  return got;
}

describe('tail', () => {
  const broker = new Broker();
  let adapter: RabbitMqAdapter;

  // Its own connection name: other suites may tail on the same broker at the same time.
  const connectionName = uniqueName('tail-conn');
  const tailConnection = `${connectionName}/tail`;
  /** A stream tail's reader is attached: counted on its connection's channels by the broker itself. */
  const streamListening = async () => (await broker.ctlConsumersOn(tailConnection)) >= 1;
  /** An exchange-fed tail's temporary queue is bound: what is published from now on reaches it (bindings are listed at once). */
  const boundTo = (exchange: string) => async () => (await broker.management.bindingsFrom(exchange)).some((b) => b.destination.startsWith('amq.gen-'));

  beforeAll(() => {
    adapter = createRabbitMqAdapter(testConfig({ connectionName }));
  });
  afterAll(async () => {
    await adapter.close();
    await broker.cleanup();
  }, 60_000);

  it('tails a topic through a temporary queue that is gone afterwards, without taking messages from the topic queue', async () => {
    const topic = uniqueName('tail-topic');
    await adapter.createDestination(topic);
    broker.track('queue', topic);
    broker.track('exchange', topic);
    const got = await tailWhile(adapter, { destination: topic, filter: (m) => m.key !== 'skip' }, 3, boundTo(topic), async () => {
      await adapter.publish(topic, [
        { key: 'a', value: utf8('one'), headers: { [Headers.messageId]: '1' } },
        { key: 'skip', value: utf8('filtered out'), headers: {} },
        { key: 'b', value: utf8('two'), headers: { [Headers.messageId]: '2' } },
        { key: 'c', value: utf8('three'), headers: {} },
      ]);
    });
    expect(got.map((m) => fromUtf8(m.value))).toEqual(['one', 'two', 'three']);
    expect(got.map((m) => m.key)).toEqual(['a', 'b', 'c']);
    expect(got[0]?.destination).toBe(topic);
    expect(await broker.ctlCounts(topic), 'the topic queue still has every message').toEqual({ ready: 4, unacked: 0 });
    const connections = await waitUntil(() => broker.ctlConnectionsNamed(tailConnection), (pids) => pids.length === 0, STATS_DEADLINE_MS);
    expect(connections, 'the tail connection is closed').toEqual([]);
    // The exclusive temporary queue goes with its connection (the broker removes it just after the close).
    const bound = await waitUntil(() => broker.management.bindingsFrom(topic), (b) => b.length === 1, STATS_DEADLINE_MS);
    expect(bound.map((b) => b.destination), 'the temporary queue is gone: only the topic queue stays bound').toEqual([topic]);
  });

  it('tails a plain queue by binding a copy to the same exchanges and routing keys as the queue', async () => {
    const base = uniqueName('tail-bound');
    const exchange = await broker.exchange(`${base}.x`, 'direct');
    const queue = await broker.queue(base);
    await broker.bind(queue, exchange, 'orders');
    const got = await tailWhile(adapter, { destination: queue }, 1, boundTo(exchange), async () => {
      await expect(
        adapter.publish(exchange, [{ key: null, value: utf8('not for this queue'), headers: {}, properties: { routingKey: 'other' } }]),
        'an unroutable publish is an error, not a silent drop',
      ).rejects.toBeInstanceOf(NotFoundError);
      await adapter.publish(exchange, [{ key: null, value: utf8('an order'), headers: {}, properties: { routingKey: 'orders' } }]);
    });
    expect(got.map((m) => fromUtf8(m.value))).toEqual(['an order']);
    expect(got[0]?.properties['routingKey']).toBe('orders');
    expect(await broker.ctlCounts(queue), 'the queue kept its message').toEqual({ ready: 1, unacked: 0 });
  });

  it('refuses to tail a queue fed only by the default exchange, explaining why', async () => {
    const queue = await broker.queue(uniqueName('tail-default'));
    const abort = new AbortController();
    const iterator = adapter.tail({ destination: queue, signal: abort.signal })[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toBeInstanceOf(UnsupportedError);
    abort.abort();
  });

  it('tails a stream from its end with no side effect', async () => {
    const stream = uniqueName('tail-stream');
    await adapter.createDestination(stream, { type: 'stream' });
    broker.track('queue', stream);
    broker.track('exchange', stream);
    await adapter.publish(stream, [{ key: null, value: utf8('old'), headers: {} }]);
    const got = await tailWhile(adapter, { destination: stream }, 2, streamListening, async () => {
      // A stream's declare-ok always counts 0 consumers: describe shows the statistics' count.
      const described = await waitUntil(() => adapter.describeDestination(stream), (d) => d.consumers === 1, STATS_DEADLINE_MS);
      expect(described.consumers, 'the tail is a consumer of the stream').toBe(1);
      await adapter.publish(stream, [
        { key: null, value: utf8('new-1'), headers: {} },
        { key: null, value: utf8('new-2'), headers: {} },
      ]);
    });
    expect(got.map((m) => fromUtf8(m.value)), 'starts at the end: the old message is not replayed').toEqual(['new-1', 'new-2']);
    expect(got.map((m) => m.position)).toEqual(['1', '2']);
  });
});
