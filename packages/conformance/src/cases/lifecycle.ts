import { expect } from 'vitest';
import { BrokerUnavailableError, ClientClosedError, InvalidInputError, type BrokerAdapter, type MessageConsumer, type MessageProducer } from '@mailroom/core';
import type { CaseDefinition } from '../context';
import { bounded, describeError, expectRejection, expectThrow, message } from '../helpers';

export const closedClient: CaseDefinition = {
  name: 'closed-client',
  title: 'close is idempotent; a closed producer, consumer or adapter throws ClientClosedError',
  timeoutMs: 60_000,
  async run({ target, scope, ms }) {
    const topic = await scope.destination(scope.name());
    const producer = scope.producer();
    await producer.send(topic, message('before close'));
    await producer.close();
    await producer.close();
    await expectRejection(producer.send(topic, message('after close')), ClientClosedError, 'producer.send after close', ms(5000));
    await expectRejection(producer.sendBatch(topic, [message('after close')]), ClientClosedError, 'producer.sendBatch after close', ms(5000));

    const consumer = await scope.subscribed(scope.group('g'), [topic]);
    await consumer.poll(200);
    await consumer.close();
    await consumer.close();
    await expectRejection(consumer.poll(100), ClientClosedError, 'consumer.poll after close', ms(5000));
    await expectRejection(consumer.commit(), ClientClosedError, 'consumer.commit after close', ms(5000));
    await expectRejection(consumer.subscribe([topic]), ClientClosedError, 'consumer.subscribe after close', ms(5000));

    const other = await target.createAdapter();
    await other.ping();
    await bounded(other.close(), ms(10_000), 'adapter.close');
    await bounded(other.close(), ms(10_000), 'second adapter.close');
    await expectRejection(other.ping(), ClientClosedError, 'ping on a closed adapter', ms(5000));
    await expectRejection(other.listDestinations(), ClientClosedError, 'listDestinations on a closed adapter', ms(5000));
    await expectRejection(
      (async () => other.createProducer().send(topic, message('closed adapter')))(),
      ClientClosedError,
      'a producer of a closed adapter',
      ms(5000),
    );
  },
};

export const unreachable: CaseDefinition = {
  name: 'unreachable',
  title: 'an unreachable broker fails ping, send and subscribe with BrokerUnavailableError within 10 s',
  timeoutMs: 60_000,
  async run({ target, scope, warn }) {
    const adapter: BrokerAdapter = target.createUnreachableAdapter();
    let producer: MessageProducer | null = null;
    let consumer: MessageConsumer | null = null;
    const closeFailures: string[] = [];
    try {
      await expectRejection(adapter.ping(), BrokerUnavailableError, 'ping', 10_000);
      producer = adapter.createProducer();
      await expectRejection(producer.send(scope.name(), message('nobody listens')), BrokerUnavailableError, 'producer.send', 10_000);
      consumer = adapter.createConsumer({ group: scope.group('g') });
      await expectRejection(consumer.subscribe([scope.name()]), BrokerUnavailableError, 'consumer.subscribe', 10_000);
    } finally {
      for (const [label, close] of [
        ['producer.close', () => producer?.close()],
        ['consumer.close', () => consumer?.close()],
        ['adapter.close', () => adapter.close()],
      ] as const) {
        try {
          await bounded(Promise.resolve(close()), 10_000, `${label} on an unreachable broker`);
        } catch (error) {
          closeFailures.push(`${label} on an unreachable broker: ${describeError(error)}`);
        }
      }
    }
    for (const line of closeFailures) warn(line);
    expect(closeFailures, 'closing clients of an unreachable broker settles without error within 10 s').toEqual([]);
  },
};

/** Names no Mailroom adapter may accept, whatever its broker allows. */
export const INVALID_NAMES: { label: string; name: string }[] = [
  { label: 'empty', name: '' },
  { label: '300 characters', name: 'a'.repeat(300) },
  { label: 'a NUL character', name: 'mr-conf\u0000x' },
  { label: 'a newline', name: 'mr-conf\nx' },
  { label: 'a tab', name: 'mr-conf\tx' },
];

export const invalidNames: CaseDefinition = {
  name: 'invalid-names',
  title: 'invalid destination names are rejected with InvalidInputError before any broker call',
  timeoutMs: 60_000,
  async run({ adapter, scope, ms }) {
    expect(() => adapter.validateDestinationName(scope.name()), 'a conformance name is valid').not.toThrow();
    expect(() => adapter.validateDestinationName(adapter.deadLetterNameFor(scope.name())), 'the DLQ convention gives a valid name').not.toThrow();
    const producer = scope.producer();
    const within = ms(5000);
    for (const { label, name } of INVALID_NAMES) {
      expectThrow(() => adapter.validateDestinationName(name), InvalidInputError, `validateDestinationName(${label})`);
      await expectRejection(adapter.createDestination(name, { partitions: 1 }), InvalidInputError, `createDestination(${label})`, within);
      await expectRejection(adapter.describeDestination(name), InvalidInputError, `describeDestination(${label})`, within);
      await expectRejection(adapter.deleteDestination(name), InvalidInputError, `deleteDestination(${label})`, within);
      await expectRejection(adapter.browse({ destination: name, start: { from: 'newest' }, limit: 10, force: true }), InvalidInputError, `browse(${label})`, within);
      await expectRejection(adapter.publish(name, [{ key: null, value: new Uint8Array([1]), headers: {} }]), InvalidInputError, `publish(${label})`, within);
      await expectRejection(producer.send(name, message('x')), InvalidInputError, `producer.send(${label})`, within);
      const consumer = scope.consumer(scope.group('g'));
      await expectRejection(consumer.subscribe([name]), InvalidInputError, `consumer.subscribe(${label})`, within);
      await consumer.close();
    }
  },
};
