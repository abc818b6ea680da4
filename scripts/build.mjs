// Builds the programs:
// - dist/inlets.mjs: the standalone tunnel engine, one minified file with no dependencies, for
//   Node 18+ (what `inletsctl download` installs).
// - dist/inlets-server-<mode>.mjs: one exit-node server per tunnel mode (SERVER_BUNDLES: tcp, and
//   http for inletsctl's HTTPS mode), which inletsctl embeds in cloud-init user-data, and its
//   smallest brotli form beside it (.mjs.br). EC2 takes 16,384 bytes of user-data; the size and
//   margin of each mode at each provider are printed.
// Both engines are minified twice (esbuild, then uglify-js: about 500 bytes less after compression on
// the tcp server), so the engine's end-to-end tests, which run dist/inlets.mjs, test what uglify-js
// made too; each bundle must start and answer before the build succeeds.
// - dist/inletsctl/: the inletsctl CLI, split so that each command and provider loads on demand and
//   dependencies stay in node_modules (loaded lazily, keeping `inletsctl --help` fast).
import { build } from 'esbuild';
import uglify from 'uglify-js';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const define = { __INLETS_VERSION__: JSON.stringify(version) };

/**
 * The exit node's server per mode: entry under src/engine/cli/ → dist/inlets-server-<mode>.mjs
 * (src/core/engine-bundle.ts reads it by mode). Each carries only its mode's server: no client,
 * no status command, no flag descriptions (src/engine/cli/flag-help.ts), no --generate.
 */
const SERVER_BUNDLES = { tcp: 'inlets-server-main.ts', http: 'inlets-server-http-main.ts' };

rmSync(join(root, 'dist'), { recursive: true, force: true });
mkdirSync(join(root, 'dist'));

// Class internals are ES #private fields (minified by esbuild); no property mangling, so Node's
// stream internals (_read, _write, ...) and the JSON of control messages stay untouched. Target
// node18: Debian 12 images (DigitalOcean, Hetzner, GCE, Azure defaults) run Node 18.
const engineOptions = {
  bundle: true,
  minify: true,
  treeShaking: true,
  platform: 'node',
  target: 'node18',
  format: 'esm',
  legalComments: 'none',
  charset: 'utf8',
  define,
  logLevel: 'warning',
};
const engines = [{ out: 'inlets.mjs', entry: 'inlets-main.ts', mode: 'tcp' }];
for (const [mode, entry] of Object.entries(SERVER_BUNDLES)) engines.push({ out: `inlets-server-${mode}.mjs`, entry, server: true, mode });

for (const { out, entry, server, mode } of engines) {
  const file = join(root, 'dist', out);
  const result = await build({ ...engineOptions, entryPoints: [join(root, 'src/engine/cli', entry)], write: false, outfile: file });
  let code = result.outputFiles[0].text;
  code = squeeze(code, out);
  // On the exit node the server runs from a data: URL (templates/inlets-loader.mjs): name it in stack traces.
  const footer = server ? '//# sourceURL=inlets-server.mjs\n' : '';
  writeFileSync(file, `#!/usr/bin/env node\n${code.replace(/^#!.*\n/, '')}${code.endsWith('\n') ? '' : '\n'}${footer}`);
  chmodSync(file, 0o755);
  selfCheck(file, mode);
  if (server) writeFileSync(`${file}.br`, smallestBrotli(readFileSync(file)));
}

/**
 * The exit node's server as the user-data carries it (src/core/user-data/brotli-cache.ts): brotli
 * quality 11 with the distance code parameters (NPOSTFIX 0-3, NDIRECT 0-15 steps of 2^NPOSTFIX)
 * that make it smallest. Which ones win changes with every edit of the code, by up to ~50 bytes
 * after base64 and gzip; trying all 64 takes about 4 s. Any brotli decoder reads every choice.
 */
function smallestBrotli(data) {
  let best;
  for (let postfix = 0; postfix <= 3; postfix++) {
    for (let k = 0; k <= 15; k++) {
      const out = brotliCompressSync(data, {
        params: {
          [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY,
          [zlib.BROTLI_PARAM_SIZE_HINT]: data.length,
          [zlib.BROTLI_PARAM_NPOSTFIX]: postfix,
          [zlib.BROTLI_PARAM_NDIRECT]: k << postfix,
        },
      });
      if (!best || out.length < best.length) best = out;
    }
  }
  return best;
}

/** uglify-js over esbuild's output: it folds what esbuild leaves (passes=2, top-level names). */
function squeeze(code, name) {
  const r = uglify.minify(code, { module: true, compress: { passes: 3, toplevel: true, pure_getters: true }, mangle: { toplevel: true }, output: { comments: false } });
  if (r.error) throw new Error(`uglify-js on ${name}: ${r.error.message}`);
  return r.code;
}

/** The second minifier is trusted only as far as the bundle still starts and answers. */
function selfCheck(file, mode = 'tcp') {
  const out = execFileSync(process.execPath, [file, 'version'], { encoding: 'utf8', timeout: 10_000 });
  if (out.trim() !== `inlets ${version}`) throw new Error(`${file} version printed ${JSON.stringify(out)}`);
  execFileSync(process.execPath, [file, mode, 'server', '--help'], { encoding: 'utf8', timeout: 10_000 });
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
  for (const { out } of engines) {
    const bytes = readFileSync(join(root, 'dist', out)).length;
    console.log(`dist/${out}: ${bytes} bytes`);
  }
  // Each mode's whole user-data against each provider's limit (src/core/user-data/size-report.ts,
  // the same figures test/templates/size.test.ts holds to); run from .tmp/ so it finds package.json.
  const report = join(root, '.tmp', 'size-report.mjs');
  await build({ entryPoints: [join(root, 'src/core/user-data/size-report.ts')], outfile: report, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'warning' });
  const { userDataBudget, formatBudget } = await import(pathToFileURL(report).href);
  console.log(formatBudget(userDataBudget()));
  rmSync(report, { force: true });
}
