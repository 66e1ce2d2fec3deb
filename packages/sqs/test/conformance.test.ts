import { defineConformanceSuite } from '@mailroom/conformance';
import { createSqsAdapter } from '../src';
import { testAdapter, testConfig } from './helpers';

defineConformanceSuite({
  name: 'sqs',
  createAdapter: () => testAdapter(),
  createUnreachableAdapter: () => createSqsAdapter(testConfig({ endpoint: 'http://127.0.0.1:1' })),
  skip: {
    order:
      'SQS standard queues are best-effort ordered (ElasticMQ reorders messages sent in the same batch too); per-key order needs a FIFO queue, whose name must end in .fifo, and the suite names its queues without it. FIFO order is tested in test/fifo.test.ts',
    'publish-subscribe':
      'SQS queues are point-to-point; fan-out needs SNS topics (out of scope), so capabilities.publishSubscribe is the reason string',
  },
});
