/**
 * The engine that exit nodes run: `dist/inlets-server.mjs`, the server-only build of the
 * standalone engine (the full `dist/inlets.mjs` is what `inletsctl download` installs). Found
 * relative to this package's root, so it works from `src/` (tests, tsx), from the built
 * `dist/inletsctl/` chunks and from an npm install alike.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { readPackageInfo } from './download/package-info.js';

/** The exit node's engine inside the package: `inlets tcp server` only, to fit the user-data. */
export const SERVER_ENGINE_IN_PACKAGE = 'dist/inlets-server.mjs';

/** The directory holding this package's package.json (and templates/, dist/). */
export function packageRoot(): string {
  return readPackageInfo().root;
}

/** Absolute path of the exit node's engine bundle inside this package. */
export function engineBundlePath(): string {
  return join(packageRoot(), SERVER_ENGINE_IN_PACKAGE);
}

/**
 * The exit node's engine bundle's bytes.
 * @throws UsageError `ENGINE_BUNDLE_MISSING` when it was never built (a source checkout before
 *   `npm run build`).
 */
export function readEngineBundle(path = engineBundlePath()): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(
      `the engine bundle ${path} is missing (${reason}); in a source checkout run: npm run build`,
      'ENGINE_BUNDLE_MISSING',
    );
  }
}
