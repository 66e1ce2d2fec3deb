/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per package/file,
 * and total (inclusive) time of the heaviest call paths' frames.
 *
 * Usage: tsx src/profile-summary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';

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
  const file = process.argv[2];
  if (!file) throw new Error('usage: tsx src/profile-summary.ts <file.cpuprofile> [top]');
  const top = Number(process.argv[3] ?? 25);
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top);
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
