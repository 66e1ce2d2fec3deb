/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per package/file,
 * and total (inclusive) time of the heaviest call paths' frames.
 *
 * Usage: tsx src/profile-summary.ts <file.cpuprofile | results/profiles/server-...> [top=25] [--all]
 * Given a folder, it reads the main thread's profile and keeps the samples inside the measured
 * windows the benchmark marked (windows.json); --all keeps everything.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  bySelf: { name: string; ms: number }[];
  byFile: { name: string; ms: number }[];
  byInclusive: { name: string; ms: number }[];
}

function fileOf(url: string): string {
  if (url === '') return '(native)';
  const path = url.replace(/^file:\/\//, '');
  const pnpm = /node_modules\/\.pnpm\/([^/]+)\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(path);
  if (pnpm) return `${pnpm[2]}/${pnpm[3]}`;
  const repo = /\/(packages|apps|bench)\/(.*)$/.exec(path);
  if (repo) return `${repo[1]}/${repo[2]}`;
  return path.replace(/^node:/, 'node:');
}

export interface TimeWindow {
  label: string;
  fromUs: number;
  toUs: number;
}

/** Keeps the samples taken inside one of `windows` (monotonic µs, like the profile's own timestamps). */
export function onlyWindows(profile: CpuProfile, windows: TimeWindow[]): CpuProfile {
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (windows.some((w) => at >= w.fromUs && at <= w.toUs)) {
      samples.push(profile.samples[i]!);
      timeDeltas.push(profile.timeDeltas[i] ?? 0);
    }
  }
  return { ...profile, samples, timeDeltas };
}

export function summarise(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const label = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${fileOf(f.url)}:${f.lineNumber + 1}`;
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    total += us;
    const name = node.callFrame.functionName;
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    self.set(label(node.callFrame), (self.get(label(node.callFrame)) ?? 0) + us);
    const file = name === '(garbage collector)' || name === '(program)' ? name : fileOf(node.callFrame.url);
    files.set(file, (files.get(file) ?? 0) + us);
    // Inclusive: every distinct frame on the stack once.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const l = label(byId.get(at)!.callFrame);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + us);
    }
  }
  const sorted = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, ms: us / 1000 }));
  return { totalMs: total / 1000, idleMs: idle / 1000, bySelf: sorted(self), byFile: sorted(files), byInclusive: sorted(inclusive) };
}

if (process.argv[1]?.endsWith('profile-summary.ts')) {
  const args = process.argv.slice(2);
  const all = args.includes('--all');
  const [file, topArg] = args.filter((a) => !a.startsWith('--'));
  if (!file) throw new Error('usage: tsx src/profile-summary.ts <file.cpuprofile | profile folder> [top] [--all]');
  const top = Number(topArg ?? 25);
  // A folder (as the bench writes them): its main-thread profile, cut to the measured windows.
  const isDir = statSync(file).isDirectory();
  const path = isDir ? join(file, readdirSync(file).filter((f) => f.endsWith('.cpuprofile')).sort()[0] ?? '') : file;
  let profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const windowsFile = join(dirname(path), 'windows.json');
  if (!all && existsSync(windowsFile)) {
    const windows = JSON.parse(readFileSync(windowsFile, 'utf8')) as TimeWindow[];
    if (windows.length > 0) {
      profile = onlyWindows(profile, windows);
      console.log(`measured windows only: ${windows.map((w) => `${w.label} ${((w.toUs - w.fromUs) / 1e6).toFixed(1)} s`).join(', ')} (--all for the whole run)`);
    }
  }
  const s = summarise(profile, top);
  const busy = s.totalMs - s.idleMs;
  const pct = (ms: number) => `${((ms / busy) * 100).toFixed(1).padStart(5)}%`;
  console.log(`total ${s.totalMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms, busy ${busy.toFixed(0)} ms`);
  console.log('\nself time by function:');
  for (const e of s.bySelf) console.log(`  ${pct(e.ms)} ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`);
  console.log('\nself time by file:');
  for (const e of s.byFile) console.log(`  ${pct(e.ms)} ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`);
  console.log('\ninclusive time by function:');
  for (const e of s.byInclusive) console.log(`  ${pct(e.ms)} ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`);
}
