import { defineConformanceSuite } from '@mailroom/conformance';
import { createRedisAdapter, fromRedisEnv } from '../src/index';

defineConformanceSuite({
  name: 'redis',
  createAdapter: () => createRedisAdapter(fromRedisEnv()),
  createUnreachableAdapter: () => createRedisAdapter({ ...fromRedisEnv(), url: 'redis://127.0.0.1:1' }),
});
