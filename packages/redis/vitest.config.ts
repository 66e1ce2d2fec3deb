import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The tests share one real Redis; files run one after another to keep the 2-core machine calm.
    fileParallelism: false,
  },
});
