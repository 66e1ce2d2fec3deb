import { defineConformanceSuite } from '@mailroom/conformance';
import { createRabbitMqAdapter } from '../src/index';
import { testConfig, unreachableConfig } from './env';

defineConformanceSuite({
  name: 'rabbitmq',
  createAdapter: () => createRabbitMqAdapter(testConfig()),
  createUnreachableAdapter: () => createRabbitMqAdapter(unreachableConfig()),
  // Listings come from the management statistics (refreshed every 5 s, later on a loaded machine).
  timeoutScale: 1.5,
});
