import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Broker tests share real brokers and a 2-core machine: one file at a time.
    fileParallelism: false,
  },
});
