// Bundles the server (and the workspace packages it imports as TypeScript source) into dist/main.mjs,
// so `node dist/main.mjs` runs without tsx. `pnpm start` runs the source with tsx and needs no build.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

await build({
  entryPoints: [path.join(root, 'src/main.ts')],
  outfile: path.join(root, 'dist/main.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'info',
  // CommonJS dependencies (express, kafkajs...) call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __mailroomCreateRequire } from 'node:module'; const require = __mailroomCreateRequire(import.meta.url);",
  },
});
