import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';

// Fixed once in the main process; the workers inherit these through their environment.
process.env.MAILROOM_E2E_RUN ??= `mr-e2e-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
// Below Linux's ephemeral range (32768+), where outgoing connections would collide with them.
process.env.MAILROOM_E2E_PORT ??= String(21_000 + Math.floor(Math.random() * 10_000));
process.env.MAILROOM_E2E_VOLATILE_REDIS_PORT ??= String(11_000 + Math.floor(Math.random() * 9_000));
process.env.MAILROOM_E2E_RUN_DIR ??= mkdtempSync(path.join(tmpdir(), 'mailroom-e2e-'));
// The password of the server's one local account (the sign-in view's journeys), new every run.
process.env.MAILROOM_E2E_PASSWORD ??= randomBytes(12).toString('base64url');

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  globalSetup: './src/global-setup.ts',
  timeout: 120_000,
  expect: { timeout: 10_000 },
  // Journeys of one broker run in order. One worker by default: this machine has 2 cores, shared
  // with the JVM brokers and the server, and the live-tail timing (2 s) must not compete with a
  // second browser. MAILROOM_E2E_WORKERS=2 halves the wall time on a quiet machine.
  fullyParallel: false,
  workers: Number(process.env.MAILROOM_E2E_WORKERS ?? 1),
  retries: 0,
  forbidOnly: true,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    baseURL: `http://127.0.0.1:${process.env.MAILROOM_E2E_PORT}`,
    headless: true,
    viewport: { width: 1440, height: 900 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    actionTimeout: 15_000,
    launchOptions: {
      executablePath: process.env.MAILROOM_E2E_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
});
