import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One real ElasticMQ shared by every file: run them one after another on the 2-core machine.
    fileParallelism: false,
    // The SDK warns once per process that future versions need Node 22; the project targets Node 20.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
