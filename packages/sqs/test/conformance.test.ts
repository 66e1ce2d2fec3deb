import { defineConformanceSuite } from '@mailroom/conformance';
import { createSqsAdapter } from '../src';
import { testAdapter, testConfig } from './helpers';

defineConformanceSuite({
  name: 'sqs',
  // SQS's per-message limit is 1 MiB on AWS (since 2025) and on ElasticMQ; the adapter's default is still 256 KiB.
  // A 1 MiB binary value cannot fit even so: it travels base64-encoded (4/3 of its size), so the round-trip case
  // sends the largest value that always fits, capabilities.maxMessageBytes = 783,360 bytes.
  createAdapter: () => testAdapter({ maxMessageBytes: 1_048_576 }),
  createUnreachableAdapter: () => createSqsAdapter(testConfig({ endpoint: 'http://127.0.0.1:1' })),
  skip: {
    order:
      'SQS standard queues are best-effort ordered (ElasticMQ reorders messages sent in the same batch too); per-key order needs a FIFO queue, whose name must end in .fifo, and the suite names its queues without it. FIFO order is tested in test/fifo.test.ts',
    'publish-subscribe':
      'SQS queues are point-to-point; fan-out needs SNS topics (out of scope), so capabilities.publishSubscribe is the reason string',
  },
});
