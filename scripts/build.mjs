// Builds the two programs:
// - dist/inlets.mjs: the standalone tunnel engine, one minified file with no dependencies, for
//   Node 18+ (what `inletsctl download` installs), and dist/inlets-server.mjs, the same engine with
//   only `inlets tcp server`, which inletsctl embeds in cloud-init user-data (EC2 allows 16 KiB),
//   so the sizes of both are reported every time.
// - dist/inletsctl/: the inletsctl CLI, split so that each command and provider loads on demand and
//   dependencies stay in node_modules (loaded lazily, keeping `inletsctl --help` fast).
import { build } from 'esbuild';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
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
    // On the exit node this runs from a data: URL (templates/inlets-loader.mjs): name it in stack traces.
    footer: out === 'inlets-server.mjs' ? { js: '//# sourceURL=inlets-server.mjs' } : undefined,
    define,
    logLevel: 'warning',
  });
  chmodSync(join(root, 'dist', out), 0o755);
}

// yargs is bundled into the entry (loading it as ~40 separate files costs ~25 ms of `inletsctl --help`),
// and its `string-width` is swapped for src/cli/string-width-lite.ts (string-width compiles a
// \p{RGI_Emoji} regular expression at start-up: another ~25 ms). Every other package stays external.
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const stringWidthLite = {
  name: 'string-width-lite',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, () => ({ path: join(root, 'src/cli/string-width-lite.ts') }));
  },
};
await build({
  entryPoints: { inletsctl: join(root, 'src/cli/inletsctl.ts') },
  outdir: join(root, 'dist/inletsctl'),
  bundle: true,
  splitting: true,
  external: Object.keys(pkg.dependencies).filter((name) => name !== 'yargs'),
  plugins: [stringWidthLite],
  platform: 'node',
  target: 'node20',
  format: 'esm',
  chunkNames: 'chunks/[name]-[hash]',
  define,
  logLevel: 'warning',
});

if (!quiet) {
  // The exit node gets inlets-server.mjs brotli'd (templates/exit-node.json); the whole TCP-mode
  // user-data must stay within 16384 bytes (npx vitest run test/templates/size.test.ts).
  for (const out of Object.keys(ENGINES)) {
    const engine = readFileSync(join(root, 'dist', out));
    const br = brotliCompressSync(engine, { params: { [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY } }).length;
    console.log(`dist/${out}: ${engine.length} bytes, ${gzipSync(engine, { level: 9 }).length} gzip -9, ${br} brotli`);
  }
}
