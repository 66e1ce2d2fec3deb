import { defineConformanceSuite } from '@mailroom/conformance';
import { createRabbitMqAdapter } from '../src/index';
import { testConfig, unreachableConfig } from './env';

defineConformanceSuite({
  name: 'rabbitmq',
  createAdapter: () => createRabbitMqAdapter(testConfig()),
  createUnreachableAdapter: () => createRabbitMqAdapter(unreachableConfig()),
});
