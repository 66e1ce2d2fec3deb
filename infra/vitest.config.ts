import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real brokers: a consumer group join or a transaction takes a few seconds on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The files share one Kafka/RabbitMQ/... and a 2-core machine: run them one at a time.
    fileParallelism: false,
  },
});
