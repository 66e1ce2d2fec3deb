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
/** A destination and group with pending (delivered, unacked) entries; the memory demo's fraud-check lags on payments. */
const pendingTopic = process.env.MAILROOM_SHOT_PENDING_DESTINATION ?? 'payments';
const pendingGroup = process.env.MAILROOM_SHOT_PENDING_GROUP ?? 'fraud-check';
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
  { name: 'destination-tail', path: `/c/${conn}/d/${e(topic)}/tail`, ready: async (p) => { await p.locator('[data-tail-ready="true"]').waitFor({ timeout: 15_000 }); await p.getByRole('grid', { name: 'Tailed messages' }).waitFor({ timeout: 15_000 }); await p.waitForTimeout(2500); } },
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
    name: 'redrive-dry-run-options', path: `/c/${conn}/dead-letters/${e(dlq)}`,
    ready: async (p) => {
      await p.getByRole('region', { name: 'Dead-lettered messages' }).waitFor();
      const button = p.getByRole('button', { name: /Redrive all/ });
      if (await button.isEnabled()) {
        await button.click();
        const dialog = p.getByRole('dialog');
        await dialog.getByRole('checkbox', { name: 'Dry run (count only, move nothing)' }).check();
        await dialog.getByRole('textbox', { name: 'Rate limit (messages per second)' }).or(dialog.getByRole('spinbutton', { name: 'Rate limit (messages per second)' })).fill('50');
      }
    },
  },
  { name: 'audit', path: '/audit', ready: async (p) => p.getByRole('region', { name: 'Audit entries' }).waitFor() },
  // Only on a server that asks for sign-in (e.g. one started without MAILROOM_ANONYMOUS_ROLE): `node scripts/screenshots.mjs sign-in`.
  ...(only.has('sign-in') ? [{ name: 'sign-in', path: '/signin', ready: async (p) => { await p.getByRole('button', { name: 'Sign in' }).waitFor(); await p.getByText(/printed when it started/).waitFor(); } }] : []),
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
    name: 'reset-offsets-form', path: `/c/${conn}/d/${e(topic)}/consumers`,
    ready: async (p) => {
      await p.getByRole('button', { name: 'Reset offsets…' }).click();
      const dialog = p.getByRole('dialog');
      await dialog.getByRole('radio', { name: /A point in time/ }).check();
    },
  },
  {
    // The demo's groups all have running consumers, so the broker refuses: the CONFLICT state
    // (Chromium logs the 409 response; that one is expected).
    name: 'reset-offsets-refused', path: `/c/${conn}/d/${e(topic)}/consumers`, allow: /status of 409/,
    ready: async (p) => {
      await p.getByRole('button', { name: 'Reset offsets…' }).click();
      await p.getByRole('dialog').getByRole('button', { name: 'Review…' }).click();
      await p.getByRole('dialog').getByRole('button', { name: 'Reset offsets' }).click();
      await p.getByRole('dialog').getByRole('alert').waitFor();
    },
  },
  {
    name: 'pending-entries', path: `/c/${conn}/d/${e(pendingTopic)}/consumers`,
    ready: async (p) => {
      if (pendingGroup) await p.getByRole('button', { name: pendingGroup, exact: true }).click();
      const region = p.getByRole('region', { name: /^Pending entries of/ });
      await region.getByRole('checkbox').nth(1).waitFor({ timeout: 15_000 });
      await region.getByRole('checkbox').nth(1).check();
      await region.scrollIntoViewIfNeeded();
    },
  },
  {
    name: 'pending-claim', path: `/c/${conn}/d/${e(pendingTopic)}/consumers`,
    ready: async (p) => {
      if (pendingGroup) await p.getByRole('button', { name: pendingGroup, exact: true }).click();
      const region = p.getByRole('region', { name: /^Pending entries of/ });
      await region.getByRole('checkbox').nth(1).waitFor({ timeout: 15_000 });
      await region.getByRole('checkbox').first().check();
      await region.getByRole('button', { name: 'Claim…' }).click();
      await p.getByRole('dialog').getByRole('combobox', { name: 'Consumer' }).fill('recovery-worker');
    },
  },
  {
    name: 'destination-create', path: `/c/${conn}/destinations`,
    ready: async (p) => {
      await p.getByRole('button', { name: 'New destination' }).click();
      const dialog = p.getByRole('dialog');
      await dialog.getByRole('textbox', { name: 'Name' }).fill('invoices.v2');
      await dialog.getByRole('checkbox', { name: /dead-letter queue/ }).check();
      await p.waitForFunction(() => document.querySelector('[role=dialog] input[id$="-dlq"]')?.value === 'invoices.v2.dlq', null, { timeout: 5_000 }).catch(() => undefined);
    },
  },
  {
    name: 'destination-delete-confirm', path: `/c/${conn}/d/${e(dlq)}`,
    ready: async (p) => {
      await p.getByRole('button', { name: 'Delete…' }).click();
      await p.getByRole('dialog').getByRole('textbox').fill(dlq.slice(0, 6));
    },
  },
  {
    // A value over the tail's 64 KiB cut, published from the page: first as the tail shows it,
    name: 'tail-truncated', path: `/c/${conn}/d/${e(topic)}/tail`,
    ready: (p) => tailBigValue(p, false),
  },
  {
    // then loaded whole by position.
    name: 'tail-full-value', path: `/c/${conn}/d/${e(topic)}/tail`,
    ready: (p) => tailBigValue(p, true),
  },
  ...(process.env.MAILROOM_SHOT_READONLY
    ? [{ name: 'read-only-consumers', path: `/c/${process.env.MAILROOM_SHOT_READONLY}/d/${e(pendingTopic)}/consumers`, ready: async (p) => { await p.getByText('Read-only connection').waitFor(); if (pendingGroup) await p.getByRole('button', { name: pendingGroup, exact: true }).click(); await p.getByRole('region', { name: /^Pending entries of/ }).waitFor(); } }]
    : []),
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

/** Publishes a JSON value over the tail's 64 KiB cut from the page, opens it in the tail, optionally loads it whole. */
async function tailBigValue(p, loadWhole) {
  await p.getByRole('status', { name: /Tail status: Live/ }).waitFor({ timeout: 15_000 });
  const marker = `big-${Date.now()}`;
  await p.evaluate(async ({ conn, topic, marker }) => {
    const value = JSON.stringify({ marker, note: 'a large order export', rows: Array.from({ length: 2500 }, (_, i) => ({ line: i, sku: `SKU-${String(i).padStart(5, '0')}`, qty: (i % 7) + 1 })) });
    // Mutations carry the session's CSRF token (any non-empty value without a session).
    const me = await fetch('/trpc/session.me').then((r) => (r.ok ? r.json() : null), () => null);
    const csrf = me?.result?.data?.csrfToken ?? 'screenshots';
    const res = await fetch('/trpc/messages.publish', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mailroom-csrf': csrf },
      body: JSON.stringify({ connectionId: conn, destination: topic, messages: [{ key: marker, headers: {}, value: { encoding: 'json', data: value } }] }),
    });
    if (!res.ok) throw new Error(`publish failed: ${res.status} ${await res.text()}`);
  }, { conn, topic, marker });
  await p.getByRole('grid', { name: 'Tailed messages' }).getByText(marker).first().click({ timeout: 15_000 });
  await p.getByRole('button', { name: /Load full value/ }).waitFor();
  if (!loadWhole) return;
  await p.getByRole('button', { name: /Load full value/ }).click();
  await p.getByText('Whole value loaded from the broker').waitFor();
}

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
      page.on('console', (msg) => {
        if (shot.allow?.test(msg.text())) return;
        problems.push(`[${scheme}/${shot.name}] console.${msg.type()}: ${msg.text()}`);
      });
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
