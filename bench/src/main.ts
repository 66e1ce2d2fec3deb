/**
 * `pnpm --filter @mailroom/bench bench`: brings the brokers up, runs every benchmark against the
 * real server over HTTP, prints the table and writes results/latest.{json,md} (plus default.* or
 * full.* for BENCH_SCALE=1, and the matching table in README.md). A run limited by BENCH_ONLY /
 * BENCH_BROKERS writes results/run-<time>.{json,md} instead and leaves the rest alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runListing } from './benchmarks/listing';
import { runLatency } from './benchmarks/latency';
import { runPublish } from './benchmarks/publish';
import { runRedrive } from './benchmarks/redrive';
import { runScan } from './benchmarks/scan';
import { runTail } from './benchmarks/tail';
import { runWeb } from './benchmarks/web';
import { BENCHMARKS, BROKERS, DEFAULT_SCALE, loadConfig, type BenchmarkId, type Broker } from './config';
import type { BenchContext } from './context';
import { machineInfo } from './machine';
import { renderMarkdown, renderText, type BenchResults, type BenchRow } from './report';

const RUNNERS: Record<BenchmarkId, (ctx: BenchContext) => Promise<void>> = {
  tail: runTail,
  scan: runScan,
  redrive: runRedrive,
  publish: runPublish,
  listing: runListing,
  latency: runLatency,
  web: runWeb,
};

/** The README keeps the table of the latest default run and of the latest full run (BENCH_SCALE=1). */
function readmeMarkers(section: 'default' | 'full'): [string, string] {
  return [`<!-- bench:${section}:start -->`, `<!-- bench:${section}:end -->`];
}

function log(message: string): void {
  const t = new Date().toISOString().slice(11, 19);
  process.stdout.write(`[bench ${t}] ${message}\n`);
}

function brokersUp(repoRoot: string): void {
  log('bringing the brokers up (bash infra/brokers.sh up)');
  const result = spawnSync('bash', ['infra/brokers.sh', 'up'], { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`infra/brokers.sh up failed (exit ${result.status})`);
}

/** Puts the table between the README's markers, so the README always shows the latest full run. */
function updateReadme(readme: string, section: 'default' | 'full', markdown: string): void {
  let text: string;
  try {
    text = readFileSync(readme, 'utf8');
  } catch {
    return;
  }
  const [startMarker, endMarker] = readmeMarkers(section);
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker);
  if (start < 0 || end < start) return;
  writeFileSync(readme, `${text.slice(0, start + startMarker.length)}\n${markdown}${text.slice(end)}`);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const startedAt = new Date();
  if (config.brokersUp) brokersUp(config.repoRoot);
  const machine = machineInfo(config.repoRoot);
  const rows: BenchRow[] = [];
  const errors: BenchResults['errors'] = [];
  const ctx: BenchContext = {
    config,
    log,
    // The 1-minute load average when the row was measured: other processes share these cores.
    add: (row) => rows.push({ ...row, details: { ...row.details, 'load avg': os.loadavg()[0] ?? Number.NaN } }),
    fail: (benchmark, broker, error) => {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`FAILED ${benchmark}${broker ? ` (${broker})` : ''}: ${text}`);
      errors.push({ benchmark, broker, error: error instanceof Error ? error.message : String(error) });
    },
  };
  log(`scale ${config.scale}; benchmarks ${config.only.join(', ')}; brokers ${config.brokers.join(', ')}`);
  for (const id of config.only) {
    const started = performance.now();
    try {
      await RUNNERS[id](ctx);
    } catch (error) {
      ctx.fail(id, null, error);
    }
    log(`${id} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  machine.loadAverageEnd = os.loadavg();
  const finishedAt = new Date();
  const complete = config.only.length === BENCHMARKS.length && config.brokers.length === BROKERS.length;
  const results: BenchResults = {
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    command: complete ? `${config.scale !== DEFAULT_SCALE ? `BENCH_SCALE=${config.scale} ` : ''}pnpm --filter @mailroom/bench bench` : `BENCH_ONLY=${config.only.join(',')} BENCH_BROKERS=${config.brokers.join(',')} pnpm --filter @mailroom/bench bench`,
    scale: config.scale,
    settings: { tailSeconds: config.tailSeconds, latencySeconds: config.latencySeconds, latencyRate: config.latencyRate, profile: config.profile, benchmarks: config.only, brokers: config.brokers as Broker[] },
    machine,
    rows,
    errors,
  };
  const markdown = renderMarkdown(results);
  mkdirSync(config.resultsDir, { recursive: true });
  // A complete run is the latest, and also the latest of its kind (default or full size); a
  // partial run (BENCH_ONLY / BENCH_BROKERS) gets a file of its own and changes nothing else.
  const section = config.scale === 1 ? 'full' : config.scale === DEFAULT_SCALE ? 'default' : null;
  const bases = complete ? ['latest', ...(section ? [section] : [])] : [`run-${startedAt.toISOString().replace(/[:.]/g, '-')}`];
  for (const base of bases) {
    writeFileSync(path.join(config.resultsDir, `${base}.json`), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(path.join(config.resultsDir, `${base}.md`), markdown);
  }
  if (complete && section) updateReadme(path.join(config.benchDir, 'README.md'), section, markdown);
  const base = bases[0]!;
  process.stdout.write(`\n${renderText(results)}\n\n${markdown}\n`);
  log(`results: ${path.join(config.resultsDir, `${base}.json`)} and .md${errors.length > 0 ? `; ${errors.length} benchmark(s) failed` : ''}`);
  process.exit(errors.length > 0 ? 1 : 0);
}

main().catch((error: unknown) => {
  log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
