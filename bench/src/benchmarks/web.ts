import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { BenchConfig } from '../config';
import { forEachBroker, type BenchContext } from '../context';
import { createLiveDestination } from '../fixtures';
import { messageValue } from '../payload';
import { rawSender } from '../raw/producers';
import { ServerProcess } from '../server-process';
import { waitUntil } from '../stats';

export const WEB_TAIL_MESSAGES = 50_000;
const BUNDLE_BUDGET_KB = 300;
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  css?: string[];
}

export interface BundleSize {
  files: string[];
  jsBytes: number;
  jsGzipBytes: number;
  cssGzipBytes: number;
}

/** What the browser loads before the first view renders: the entry chunk and its static imports (as apps/web/scripts/bundle-size.mjs counts). */
export function initialBundle(dist: string): BundleSize {
  const manifest = JSON.parse(readFileSync(path.join(dist, '.vite', 'manifest.json'), 'utf8')) as Record<string, ManifestChunk>;
  const entryKey = Object.keys(manifest).find((k) => manifest[k]!.isEntry);
  if (entryKey === undefined) throw new Error('no entry chunk in the Vite manifest');
  const files = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || files.has(chunk.file)) return;
    files.add(chunk.file);
    for (const imp of chunk.imports ?? []) visit(imp);
  };
  visit(entryKey);
  let jsBytes = 0;
  let jsGzipBytes = 0;
  for (const file of files) {
    const bytes = readFileSync(path.join(dist, file));
    jsBytes += bytes.byteLength;
    jsGzipBytes += gzipSync(bytes, { level: 9 }).byteLength;
  }
  const cssGzipBytes = (manifest[entryKey]!.css ?? []).reduce((n, f) => n + gzipSync(readFileSync(path.join(dist, f)), { level: 9 }).byteLength, 0);
  return { files: [...files], jsBytes, jsGzipBytes, cssGzipBytes };
}

/** `vite build` of apps/web into a temporary folder (apps/web/dist belongs to the web app). */
async function buildWeb(config: BenchConfig): Promise<{ dist: string; ms: number }> {
  const webDir = path.join(config.repoRoot, 'apps/web');
  const vitePackage = createRequire(path.join(webDir, 'package.json')).resolve('vite/package.json');
  const viteBin = path.join(path.dirname(vitePackage), 'bin', 'vite.js');
  const dist = mkdtempSync(path.join(tmpdir(), 'mailroom-bench-web-'));
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [viteBin, 'build', '--outDir', dist, '--emptyOutDir', '--logLevel', 'warn'], { cwd: webDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vite build failed (${code}): ${output.slice(-2000)}`))));
  });
  return { dist, ms: performance.now() - started };
}

async function tailCounts(page: Page): Promise<{ received: number; skipped: number; rows: number }> {
  return page.evaluate(() => {
    const section = document.querySelector('section[aria-label="Live tail"]');
    const toolbar = section?.querySelectorAll('.toolbar')[1];
    const numbers = [...(toolbar?.querySelectorAll('strong') ?? [])].map((s) => Number((s.textContent ?? '').replace(/[^0-9]/g, '')));
    return { received: numbers[0] ?? 0, skipped: numbers[2] ?? 0, rows: document.querySelectorAll('.vtable-row').length };
  });
}

/**
 * Web: the initial bundle, and a live tail in real Chromium receiving 50,000 messages (sent at
 * full speed by a raw Redis producer): time until the view counts all of them, main-thread
 * long tasks meanwhile, and the time to re-render the list it holds (Pause, then Resume).
 */
export async function runWeb(ctx: BenchContext): Promise<void> {
  const { config } = ctx;
  const { dist, ms: buildMs } = await buildWeb(config);
  try {
    const bundle = initialBundle(dist);
    ctx.log(`  initial JS ${(bundle.jsGzipBytes / 1024).toFixed(1)} KB gzip (${(bundle.jsBytes / 1024).toFixed(0)} KB), built in ${(buildMs / 1000).toFixed(1)} s`);
    ctx.add({
      benchmark: 'web',
      title: 'Web: initial JS (entry + static imports), gzip',
      broker: null,
      unit: 'KB',
      mailroom: bundle.jsGzipBytes / 1024,
      raw: null,
      rawLabel: null,
      ratio: null,
      target: `≤ ${BUNDLE_BUDGET_KB} KB (apps/web budget)`,
      met: bundle.jsGzipBytes <= BUNDLE_BUDGET_KB * 1024,
      details: { 'uncompressed KB': bundle.jsBytes / 1024, 'CSS gzip KB': bundle.cssGzipBytes / 1024, files: bundle.files.length },
      notes: [],
    });
    await forEachBroker(ctx, 'web', ['redis'], async (broker) => {
      const executablePath = process.env.BENCH_CHROMIUM ?? '/usr/bin/chromium';
      if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath} (set BENCH_CHROMIUM)`);
      const destination = await createLiveDestination(config, broker, 'web');
      let server: ServerProcess | null = null;
      let browser: Browser | null = null;
      let sender: Awaited<ReturnType<typeof rawSender>> | null = null;
      try {
        server = await ServerProcess.start(config, { brokers: [broker], label: 'web', webDist: dist });
        browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
        const liveSender = await rawSender(broker, config.endpoints, destination.name);
        sender = liveSender;
        const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
        const pageErrors: string[] = [];
        page.on('pageerror', (error) => pageErrors.push(error.message));
        await page.addInitScript(() => {
          const w = window as unknown as { __longTasks: { start: number; duration: number }[] };
          w.__longTasks = [];
          new PerformanceObserver((list) => {
            for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration });
          }).observe({ type: 'longtask', buffered: true });
        });
        const loadStarted = performance.now();
        await page.goto(`${server.url}/c/${broker}/d/${encodeURIComponent(destination.name)}/tail`);
        await page.locator('[aria-label="Tail status: Live"]').waitFor({ timeout: 30_000 });
        const liveMs = performance.now() - loadStarted;
        // The tail positions at the stream's end after it opened: one probe message first.
        await waitUntil('the probe message in the page', async () => {
          await liveSender.send([messageValue(-1)]);
          return (await tailCounts(page)).received > 0;
        }, 30_000, 500);
        const before = (await tailCounts(page)).received;
        const longTasksBefore = await page.evaluate(() => (window as unknown as { __longTasks: unknown[] }).__longTasks.length);
        const sendStarted = performance.now();
        server.profileWindow('web tail');
        for (let from = 0; from < WEB_TAIL_MESSAGES; from += 1000) {
          await liveSender.send(Array.from({ length: Math.min(1000, WEB_TAIL_MESSAGES - from) }, (_, i) => messageValue(from + i)));
        }
        const sendMs = performance.now() - sendStarted;
        // Done when the page received all of them, or (had the server skipped some for a slow
        // reader) when its count stopped moving for 3 s. The view's "skipped" also counts what
        // its own buffer dropped, so it cannot tell the two apart.
        let last = { value: -1, at: performance.now() };
        const counts = await waitUntil(
          'the page to count every message',
          async () => {
            const c = await tailCounts(page);
            if (c.received !== last.value) last = { value: c.received, at: performance.now() };
            const complete = c.received - before >= WEB_TAIL_MESSAGES;
            return complete || performance.now() - last.at > 3_000 ? c : null;
          },
          180_000,
          100,
        );
        const stalledMs = counts.received - before >= WEB_TAIL_MESSAGES ? 0 : performance.now() - last.at;
        const allMs = performance.now() - sendStarted - stalledMs;
        server.endProfileWindow();
        const longTasks = await page.evaluate((from) => (window as unknown as { __longTasks: { duration: number }[] }).__longTasks.slice(from), longTasksBefore);
        // Re-render of everything the view holds: Pause, then time Resume to the next painted frame.
        await page.getByRole('button', { name: /^Pause/ }).click();
        const renderMs = await page.evaluate(async () => {
          const button = [...document.querySelectorAll('button')].find((b) => (b.textContent ?? '').trim().startsWith('Resume'));
          if (!button) throw new Error('no Resume button');
          const started = performance.now();
          button.click();
          await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
          return performance.now() - started;
        });
        const held = await page.evaluate(() => {
          const text = document.querySelector('section[aria-label="Live tail"]')?.textContent ?? '';
          const match = /([\d,]+) shown/.exec(text);
          return match ? Number(match[1]!.replace(/,/g, '')) : null;
        });
        const heapMb = await page.evaluate(() => ((performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0) / 1048576);
        ctx.log(`  ${WEB_TAIL_MESSAGES} messages counted by the page ${(allMs / 1000).toFixed(1)} s after the first was sent; holds ${held}; re-render ${renderMs.toFixed(0)} ms`);
        const notes: string[] = [];
        if (held !== null && held < WEB_TAIL_MESSAGES) notes.push(`the view keeps the newest ${held.toLocaleString('en-US')} (its buffer capacity) and counts the rest as skipped, so "holding 50,000" means holding its capacity after 50,000 arrived.`);
        if (counts.received - before < WEB_TAIL_MESSAGES) notes.push(`the page received ${(counts.received - before).toLocaleString('en-US')} of ${WEB_TAIL_MESSAGES.toLocaleString('en-US')}; the server skipped the rest for a slow reader (time is until the last one arrived).`);
        if (pageErrors.length > 0) notes.push(`page errors: ${pageErrors.slice(0, 3).join('; ')}`);
        ctx.add({
          benchmark: 'web',
          title: `Web: live tail of ${WEB_TAIL_MESSAGES.toLocaleString('en-US')} messages in Chromium, time to count all`,
          broker,
          unit: 'ms',
          mailroom: allMs,
          raw: null,
          rawLabel: null,
          ratio: null,
          target: 'report only',
          met: null,
          details: {
            'producer send ms': sendMs,
            'long tasks': longTasks.length,
            'longest task ms': longTasks.reduce((m, t) => Math.max(m, t.duration), 0),
            'main thread blocked ms': longTasks.reduce((m, t) => m + t.duration, 0),
            'received': counts.received - before,
            'JS heap MB': heapMb,
            'page load to live ms': liveMs,
          },
          notes,
        });
        ctx.add({
          benchmark: 'web',
          title: 'Web: re-render of the held tail (Resume → painted frame)',
          broker,
          unit: 'ms',
          mailroom: renderMs,
          raw: null,
          rawLabel: null,
          ratio: null,
          target: 'report only',
          met: null,
          details: { 'messages held': held ?? Number.NaN, 'rendered rows': (await tailCounts(page)).rows },
          notes: [],
        });
      } finally {
        await sender?.close().catch(() => undefined);
        await browser?.close();
        await server?.stop();
        await destination.remove().catch(() => undefined);
      }
    });
  } finally {
    rmSync(dist, { recursive: true, force: true });
  }
}
