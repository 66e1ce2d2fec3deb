// Reports the gzipped size of the JS the browser loads before the first view renders (the
// entry chunk and its static imports) and of each lazy route chunk. Fails above the budget.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET_KB = 300;
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const manifest = JSON.parse(readFileSync(join(dist, '.vite', 'manifest.json'), 'utf8'));
const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).byteLength;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

const entryKey = Object.keys(manifest).find((k) => manifest[k].isEntry);
if (entryKey === undefined) throw new Error('no entry chunk in the Vite manifest');
const initial = new Set();
const visit = (key) => {
  const chunk = manifest[key];
  if (chunk === undefined || initial.has(chunk.file)) return;
  initial.add(chunk.file);
  for (const imp of chunk.imports ?? []) visit(imp);
};
visit(entryKey);

let initialTotal = 0;
console.log('Initial JS (entry + static imports), gzipped:');
for (const file of initial) {
  const size = gz(file);
  initialTotal += size;
  console.log(`  ${file.padEnd(44)} ${kb(size).padStart(10)}`);
}
const css = (manifest[entryKey].css ?? []).reduce((n, f) => n + gz(f), 0);
console.log(`  ${'total initial JS'.padEnd(44)} ${kb(initialTotal).padStart(10)}  (budget ${BUDGET_KB} KB)`);
console.log(`  ${'CSS'.padEnd(44)} ${kb(css).padStart(10)}`);
console.log('Lazy chunks, gzipped:');
for (const [key, chunk] of Object.entries(manifest)) {
  if (initial.has(chunk.file) || !chunk.file.endsWith('.js')) continue;
  console.log(`  ${(chunk.name ?? key).padEnd(22)} ${chunk.file.padEnd(44)} ${kb(gz(chunk.file)).padStart(10)}`);
}
if (initialTotal > BUDGET_KB * 1024) {
  console.error(`Initial JS ${kb(initialTotal)} is over the ${BUDGET_KB} KB budget`);
  process.exit(1);
}
