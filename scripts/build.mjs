// Builds the two programs:
// - dist/inlets.mjs: the standalone tunnel engine, one minified file with no dependencies, for
//   Node 18+. inletsctl embeds it in cloud-init user-data, so its gzip size is reported every time.
// - dist/inletsctl/: the inletsctl CLI, split so that each command and provider loads on demand and
//   dependencies stay in node_modules (loaded lazily, keeping `inletsctl --help` fast).
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { readFileSync, rmSync, chmodSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const define = { __INLETS_VERSION__: JSON.stringify(version) };

rmSync(join(root, 'dist'), { recursive: true, force: true });

await build({
  entryPoints: [join(root, 'src/engine/cli/inlets-main.ts')],
  outfile: join(root, 'dist/inlets.mjs'),
  bundle: true,
  minify: true,
  platform: 'node',
  target: 'node18',
  format: 'esm',
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  define,
  logLevel: 'warning',
});
chmodSync(join(root, 'dist/inlets.mjs'), 0o755);

await build({
  entryPoints: { inletsctl: join(root, 'src/cli/inletsctl.ts') },
  outdir: join(root, 'dist/inletsctl'),
  bundle: true,
  splitting: true,
  packages: 'external',
  platform: 'node',
  target: 'node20',
  format: 'esm',
  chunkNames: 'chunks/[name]-[hash]',
  define,
  logLevel: 'warning',
});

const engine = readFileSync(join(root, 'dist/inlets.mjs'));
const gz = gzipSync(engine, { level: 9 }).length;
if (!quiet) {
  console.log(`dist/inlets.mjs: ${engine.length} bytes, ${gz} bytes gzip -9 (EC2 user-data limit is 16384 bytes)`);
}
