import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Real broker: one file at a time keeps the shared 2-core machine responsive.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
