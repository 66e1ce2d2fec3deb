// Screenshots of the fitness page (one connection and all connections) and the overview cards,
// light and dark, in real Chromium against a running server; fails on console errors.
//   MAILROOM_URL=http://127.0.0.1:8080 node scripts/fitness-screenshots.mjs
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const base = (process.env.MAILROOM_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const out = process.env.MAILROOM_SHOT_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');
const conn = process.env.MAILROOM_SHOT_CONNECTION ?? 'memory';
mkdirSync(out, { recursive: true });

const shots = [
  // The app scrolls inside its main pane, so the whole page is shot with a tall viewport.
  { name: 'fitness', path: `/c/${conn}/fitness`, height: 2200, ready: (p) => p.getByRole('region', { name: 'To fix' }).waitFor({ timeout: 30_000 }) },
  { name: 'fitness-all', path: '/fitness', ready: (p) => p.getByRole('list', { name: 'Fitness scores' }).first().waitFor({ timeout: 30_000 }) },
  { name: 'fitness-overview-cards', path: '/', ready: (p) => p.locator('.score[data-state="pass"], .score[data-state="fail"]').first().waitFor({ timeout: 30_000 }) },
];

const problems = [];
for (const scheme of ['light', 'dark']) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'mailroom-fitness-shots-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
    colorScheme: scheme,
  });
  try {
    for (const shot of shots) {
      const page = await context.newPage();
      if (shot.height !== undefined) await page.setViewportSize({ width: 1440, height: shot.height });
      page.on('console', (msg) => { if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`[${scheme}/${shot.name}] console.${msg.type()}: ${msg.text()}`); });
      page.on('pageerror', (err) => problems.push(`[${scheme}/${shot.name}] page error: ${err.message}`));
      await page.goto(`${base}${shot.path}`);
      await shot.ready(page);
      await page.waitForTimeout(500);
      const file = join(out, `${shot.name}-${scheme}.png`);
      await page.screenshot({ path: file });
      console.log(file);
      await page.close();
    }
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
