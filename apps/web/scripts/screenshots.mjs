// Screenshots of every view in light and dark, taken in real Chromium against a running server
// (the memory broker's demo traffic is enough). Also fails on anything the page logs to the console.
//   MAILROOM_URL=http://127.0.0.1:8080 node scripts/screenshots.mjs [only-name...]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const base = (process.env.MAILROOM_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');
const only = new Set(process.argv.slice(2));
const conn = process.env.MAILROOM_SHOT_CONNECTION ?? 'memory';
const topic = process.env.MAILROOM_SHOT_DESTINATION ?? 'orders';
const dlq = process.env.MAILROOM_SHOT_DLQ ?? `${topic}.dlq`;
const e = (s) => encodeURIComponent(s);
mkdirSync(out, { recursive: true });

/** name, path, and what to do before the shot. */
const shots = [
  { name: 'overview', path: '/', ready: async (p) => p.getByRole('list', { name: 'Fitness scores' }).first().waitFor() },
  { name: 'destinations', path: `/c/${conn}/destinations?sort=lag&dir=desc`, ready: async (p) => p.getByRole('grid', { name: 'Destinations' }).waitFor() },
  {
    name: 'destination-messages', path: `/c/${conn}/d/${e(topic)}`,
    ready: async (p) => {
      await p.getByRole('grid', { name: 'Messages' }).waitFor();
      await p.locator('.vtable-row').nth(1).click();
      await p.getByRole('region', { name: 'Message', exact: true }).waitFor();
    },
  },
  { name: 'destination-tail', path: `/c/${conn}/d/${e(topic)}/tail`, ready: async (p) => { await p.getByRole('grid', { name: 'Tailed messages' }).waitFor({ timeout: 15_000 }); await p.waitForTimeout(2500); } },
  { name: 'destination-consumers', path: `/c/${conn}/d/${e(topic)}/consumers`, ready: async (p) => { await p.getByText('Lag per partition').first().waitFor(); await p.waitForTimeout(11_000); } },
  { name: 'destination-metrics', path: `/c/${conn}/d/${e(topic)}/metrics`, ready: async (p) => { await p.getByText('Rates').first().waitFor(); await p.waitForTimeout(10_000); } },
  { name: 'destination-config', path: `/c/${conn}/d/${e(topic)}/config`, ready: async (p) => p.getByText('Broker configuration').waitFor() },
  { name: 'publish', path: `/c/${conn}/d/${e(topic)}/publish`, ready: async (p) => p.getByRole('form', { name: 'Publish a message' }).waitFor() },
  { name: 'dead-letters', path: `/c/${conn}/dead-letters`, ready: async (p) => p.getByRole('region', { name: 'Dead-letter queues' }).waitFor() },
  {
    name: 'dead-letter-queue', path: `/c/${conn}/dead-letters/${e(dlq)}`,
    ready: async (p) => {
      await p.getByRole('region', { name: 'Dead-lettered messages' }).waitFor();
      await p.locator('.vtable-row').first().waitFor({ timeout: 5_000 }).catch(() => undefined);
      if ((await p.locator('.vtable-row').count()) > 0) await p.locator('.vtable-row').first().click();
    },
  },
  {
    name: 'redrive-confirm', path: `/c/${conn}/dead-letters/${e(dlq)}`,
    ready: async (p) => {
      await p.getByRole('region', { name: 'Dead-lettered messages' }).waitFor();
      const button = p.getByRole('button', { name: /Redrive all/ });
      if (await button.isEnabled()) {
        await button.click();
        await p.getByRole('dialog').waitFor();
      }
    },
  },
  {
    name: 'purge-confirm', path: `/c/${conn}/dead-letters/${e(dlq)}`,
    ready: async (p) => {
      await p.getByRole('region', { name: 'Dead-lettered messages' }).waitFor();
      const button = p.getByRole('button', { name: /Purge/ });
      if (await button.isEnabled()) {
        await button.click();
        await p.getByRole('dialog').waitFor();
        await p.getByRole('dialog').getByRole('textbox').fill(dlq.slice(0, 4));
      }
    },
  },
  {
    name: 'message-link', path: null,
    ready: async (p) => {
      await p.goto(`${base}/c/${conn}/d/${e(topic)}`);
      await p.locator('.vtable-row').first().click();
      await p.getByRole('link', { name: /^Link$/ }).click();
      await p.getByRole('heading', { name: /^Message/ }).first().waitFor();
      await p.getByText('Headers').first().waitFor();
    },
  },
  {
    // Last: it really redrives the demo DLQ (the demo keeps dead-lettering, so it refills).
    name: 'redrive-report', path: `/c/${conn}/dead-letters/${e(dlq)}`,
    ready: async (p) => {
      await p.getByRole('region', { name: 'Dead-lettered messages' }).waitFor();
      const button = p.getByRole('button', { name: /Redrive all/ });
      await p.waitForFunction(() => [...document.querySelectorAll('button')].some((b) => /Redrive all/.test(b.textContent ?? '') && !b.disabled), null, { timeout: 30_000 });
      await button.click();
      await p.getByRole('dialog').getByRole('button', { name: /^Redrive/ }).click();
      await p.locator('[aria-label="Redrive progress"][data-status="completed"]').waitFor({ timeout: 30_000 });
    },
  },
  ...(process.env.MAILROOM_SHOT_DESTRUCTIVE
    ? [{ name: 'peek-warning', path: process.env.MAILROOM_SHOT_DESTRUCTIVE, ready: async (p) => p.getByText('Reading these messages changes them').waitFor() }]
    : []),
  ...(process.env.MAILROOM_SHOT_DOWN
    ? [{ name: 'broker-down', path: `/c/${process.env.MAILROOM_SHOT_DOWN}/destinations`, ready: async (p) => p.getByText('Broker unreachable').first().waitFor({ timeout: 30_000 }) }]
    : []),
  ...(process.env.MAILROOM_SHOT_READONLY
    ? [{ name: 'read-only-publish', path: `/c/${process.env.MAILROOM_SHOT_READONLY}/publish`, ready: async (p) => p.getByText('Read-only connection').waitFor() }]
    : []),
];

const problems = [];
for (const scheme of ['light', 'dark']) {
  // A fresh profile per run: no cached state, no stored theme choice.
  const userDataDir = mkdtempSync(join(tmpdir(), 'mailroom-shots-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
    colorScheme: scheme,
    deviceScaleFactor: 1,
  });
  try {
    for (const shot of shots) {
      if (only.size > 0 && !only.has(shot.name)) continue;
      const page = await context.newPage();
      page.on('console', (msg) => problems.push(`[${scheme}/${shot.name}] console.${msg.type()}: ${msg.text()}`));
      page.on('pageerror', (err) => problems.push(`[${scheme}/${shot.name}] page error: ${err.message}`));
      const started = Date.now();
      try {
        if (shot.path !== null) await page.goto(`${base}${shot.path}`);
        await shot.ready(page);
        await page.waitForTimeout(300);
        const file = join(out, `${shot.name}-${scheme}.png`);
        await page.screenshot({ path: file });
        console.log(`${file} (${Date.now() - started} ms)`);
      } catch (err) {
        problems.push(`[${scheme}/${shot.name}] ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
        await page.screenshot({ path: join(out, `${shot.name}-${scheme}.failed.png`) }).catch(() => undefined);
      }
      await page.close();
    }
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}
if (problems.length > 0) {
  console.error(`${problems.length} problem(s):\n${problems.join('\n')}`);
  process.exit(1);
}
console.log('No console output, no page errors.');
