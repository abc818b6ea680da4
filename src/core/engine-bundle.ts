/**
 * The engine that exit nodes run: `dist/inlets-server-<mode>.mjs`, one server-only build of the
 * standalone engine per tunnel mode (the full `dist/inlets.mjs` is what `inletsctl download`
 * installs; scripts/build.mjs makes both). Found
 * relative to this package's root, so it works from `src/` (tests, tsx), from the built
 * `dist/inletsctl/` chunks and from an npm install alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { readPackageInfo } from './download/package-info.js';
import { knownBrotli } from './user-data/brotli-cache.js';

/** A mode with a server bundle of its own (scripts/build.mjs SERVER_BUNDLES). */
export type ServerMode = 'tcp' | 'http';

/** Each mode's exit-node engine inside the package: that mode's server only, to fit the user-data. */
export const SERVER_BUNDLES: Record<ServerMode, string> = { tcp: 'dist/inlets-server-tcp.mjs', http: 'dist/inlets-server-http.mjs' };

/** The directory holding this package's package.json (and templates/, dist/). */
export function packageRoot(): string {
  return readPackageInfo().root;
}

/** Absolute path of `mode`'s exit-node engine bundle inside this package. */
export function engineBundlePath(mode: ServerMode = 'tcp'): string {
  return join(packageRoot(), SERVER_BUNDLES[mode]);
}

/**
 * The exit node's engine bundle's bytes (and, when the build left it beside them, their brotli form).
 * @throws UsageError `ENGINE_BUNDLE_MISSING` when it was never built (a source checkout before
 *   `npm run build`).
 */
export function readEngineBundle(path = engineBundlePath()): Buffer {
  try {
    const bundle = readFileSync(path);
    // Its brotli form (`<path>.br`, made by the build): used when it holds exactly these bytes.
    if (existsSync(`${path}.br`)) knownBrotli(bundle, readFileSync(`${path}.br`));
    return bundle;
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(
      `the engine bundle ${path} is missing (${reason}); in a source checkout run: npm run build`,
      'ENGINE_BUNDLE_MISSING',
    );
  }
}
