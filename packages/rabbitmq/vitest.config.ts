import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Real broker: one file at a time keeps the shared 2-core machine responsive.
    fileParallelism: false,
    // Tests wait for the management statistics (up to STATS_DEADLINE_MS in test/wait.ts) and
    // call rabbitmqctl (a second or more per call on a loaded machine): room for both, yet a hang fails.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
