import { defineConformanceSuite } from '@mailroom/conformance';
import { createKafkaAdapter, fromKafkaEnv } from '../src';

defineConformanceSuite({
  name: 'kafka',
  createAdapter: () => createKafkaAdapter(fromKafkaEnv()),
  createUnreachableAdapter: () => createKafkaAdapter({ ...fromKafkaEnv(), brokers: ['127.0.0.1:1'] }),
  // Consumer group joins and rebalances take a few hundred ms each on the JVM broker.
  timeoutScale: 1.5,
});
