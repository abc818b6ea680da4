// Builds the two programs:
// - dist/inlets.mjs: the standalone tunnel engine, one minified file with no dependencies, for
//   Node 18+ (what `inletsctl download` installs), and dist/inlets-server.mjs, the same engine with
//   only `inlets tcp server`, which inletsctl embeds in cloud-init user-data (EC2 allows 16 KiB),
//   so the sizes of both are reported every time.
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

// The engine, twice from the same sources: the full program, and the exit node's server-only
// build that the user-data embeds. Class internals are ES #private fields (minified by esbuild);
// no property mangling, so Node's stream internals (_read, _write, ...) stay untouched.
const ENGINES = { 'inlets.mjs': 'inlets-main.ts', 'inlets-server.mjs': 'inlets-server-main.ts' };
for (const [out, entry] of Object.entries(ENGINES)) {
  await build({
    entryPoints: [join(root, 'src/engine/cli', entry)],
    outfile: join(root, 'dist', out),
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node18',
    format: 'esm',
    legalComments: 'none',
    charset: 'utf8',
    banner: { js: '#!/usr/bin/env node' },
    define,
    logLevel: 'warning',
  });
  chmodSync(join(root, 'dist', out), 0o755);
}

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

if (!quiet) {
  for (const out of Object.keys(ENGINES)) {
    const engine = readFileSync(join(root, 'dist', out));
    console.log(`dist/${out}: ${engine.length} bytes, ${gzipSync(engine, { level: 9 }).length} bytes gzip -9`);
  }
}
