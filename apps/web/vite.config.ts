import { defineConfig } from 'vitest/config';

const server = process.env.MAILROOM_SERVER_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic' } },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: { '/trpc': { target: server, changeOrigin: false } },
  },
  preview: {
    host: '127.0.0.1',
    proxy: { '/trpc': { target: server, changeOrigin: false } },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    manifest: true,
    target: 'es2022',
    rolldownOptions: {
      onwarn(warning, warn) {
        // react-query ships "use client" directives, meaningless in a client-only SPA bundle.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./vitest.setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    testTimeout: 30_000,
  },
});
