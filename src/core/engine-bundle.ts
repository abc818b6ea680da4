/**
 * The standalone engine (`dist/inlets.mjs`) that every exit node runs: found relative to this
 * package's root, so it works from `src/` (tests, tsx), from the built `dist/inletsctl/` chunks and
 * from an npm install alike.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { ENGINE_IN_PACKAGE, readPackageInfo } from './download/package-info.js';

/** The directory holding this package's package.json (and templates/, dist/). */
export function packageRoot(): string {
  return readPackageInfo().root;
}

/** Absolute path of the engine bundle inside this package. */
export function engineBundlePath(): string {
  return join(packageRoot(), ENGINE_IN_PACKAGE);
}

/**
 * The engine bundle's bytes.
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
