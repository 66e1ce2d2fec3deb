import { defineConformanceSuite } from '@mailroom/conformance';
import { createMemoryAdapter } from '../src';

defineConformanceSuite({
  name: 'memory',
  createAdapter: () => createMemoryAdapter(),
  createUnreachableAdapter: () => createMemoryAdapter({ unreachable: true }),
});
