import { formatNumber } from './stats';
import type { MachineInfo } from './machine';

/**
 * One line of the results table. `mailroom` and `raw` are in `unit`; `ratio` is Mailroom's
 * throughput over the raw client's (higher is better) where the benchmark compares the two.
 */
export interface BenchRow {
  benchmark: string;
  /** What is measured, e.g. "tail: SSE delivery at full speed". */
  title: string;
  broker: string | null;
  unit: string;
  mailroom: number | null;
  raw: number | null;
  /** Which raw client / move the figure comes from. */
  rawLabel: string | null;
  ratio: number | null;
  target: string;
  met: boolean | null;
  /** Absolute figures and anything else worth keeping (sizes, durations, skipped, RSS...). */
  details: Record<string, unknown>;
  notes: string[];
}

export interface BenchResults {
  version: 1;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  command: string;
  scale: number;
  settings: Record<string, unknown>;
  machine: MachineInfo;
  rows: BenchRow[];
  errors: { benchmark: string; broker: string | null; error: string }[];
}

function cell(value: string): string {
  return value.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function figure(value: number | null, unit: string): string {
  if (value === null) return '—';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${formatNumber(value, digits)} ${unit}`;
}

export function renderMarkdown(results: BenchResults): string {
  const m = results.machine;
  const lines: string[] = [];
  lines.push(`Run ${results.startedAt} · ${formatNumber(results.durationSeconds)} s · BENCH_SCALE=${results.scale} · \`${results.command}\``);
  lines.push('');
  lines.push(
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${formatNumber(m.memoryGb, 1)} GB RAM, ${m.os}, Node ${m.node}; load average ${m.loadAverageStart.map((l) => l.toFixed(2)).join(' / ')} at start, ${m.loadAverageEnd.map((l) => l.toFixed(2)).join(' / ')} at end (other processes share these cores).`,
  );
  lines.push(`Brokers: ${Object.entries(m.brokers).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  lines.push('');
  lines.push('| benchmark | broker | Mailroom | raw client | ratio | target | met | figures |');
  lines.push('|---|---|---:|---:|---:|---|:---:|---|');
  for (const row of results.rows) {
    const ratio = row.ratio === null ? '—' : row.ratio.toFixed(2);
    const met = row.met === null ? '—' : row.met ? 'yes' : '**no**';
    const raw = row.raw === null ? '—' : `${figure(row.raw, row.unit)}${row.rawLabel ? ` (${row.rawLabel})` : ''}`;
    const extra = summary(row.details);
    lines.push(`| ${cell(row.title)} | ${row.broker ?? '—'} | ${cell(figure(row.mailroom, row.unit))} | ${cell(raw)} | ${ratio} | ${cell(row.target)} | ${met} | ${cell(extra)} |`);
  }
  const notes = results.rows.flatMap((r) => r.notes.map((n) => `- ${r.title}${r.broker ? ` (${r.broker})` : ''}: ${n}`));
  if (notes.length > 0) {
    lines.push('');
    lines.push('Notes:');
    lines.push(...notes);
  }
  if (results.errors.length > 0) {
    lines.push('');
    lines.push('Failed:');
    for (const e of results.errors) lines.push(`- ${e.benchmark}${e.broker ? ` (${e.broker})` : ''}: ${cell(e.error)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The `details` entries meant for the table (keys starting with `_` stay in the JSON only). */
function summary(details: Record<string, unknown>): string {
  return Object.entries(details)
    .filter(([key, value]) => !key.startsWith('_') && (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean'))
    .map(([key, value]) => `${key} ${typeof value === 'number' ? formatNumber(value, Math.abs(value) < 10 ? 2 : 0) : String(value)}`)
    .join(', ');
}

/** Terminal version of the table. */
export function renderText(results: BenchResults): string {
  const header = ['benchmark', 'broker', 'Mailroom', 'raw', 'ratio', 'target', 'met'];
  const rows = results.rows.map((r) => [
    r.title,
    r.broker ?? '-',
    figure(r.mailroom, r.unit),
    r.raw === null ? '-' : figure(r.raw, r.unit),
    r.ratio === null ? '-' : r.ratio.toFixed(2),
    r.target,
    r.met === null ? '-' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
