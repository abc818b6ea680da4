/**
 * Where this package is installed, its name and version, and the engine bundle it ships. Found by
 * walking up from this module to the nearest package.json, so it works from `src/` (tests), from
 * the built `dist/inletsctl/` chunks, and from a global npm install alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodedError } from '../../errors.js';

export interface PackageInfo {
  /** The directory holding package.json. */
  root: string;
  name: string;
  version: string;
  /** `<root>/dist/inlets.mjs`, the standalone engine this package ships. */
  enginePath: string;
}

/** The path of the engine inside the package (and inside its npm tarball, under `package/`). */
export const ENGINE_IN_PACKAGE = 'dist/inlets.mjs';

/** Reads the nearest package.json above `from` (default: this module's directory). */
export function readPackageInfo(from: string = dirname(fileURLToPath(import.meta.url))): PackageInfo {
  let dir = from;
  for (let i = 0; i < 32; i++) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (!pkg.name || !pkg.version) break;
      return { root: dir, name: pkg.name, version: pkg.version, enginePath: join(dir, ENGINE_IN_PACKAGE) };
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new CodedError('DOWNLOAD_PACKAGE_JSON_MISSING', `cannot find this package's package.json above ${from}`);
}

/** The shipped engine's bytes; CodedError `DOWNLOAD_BUNDLE_MISSING` when it was never built. */
export function readShippedEngine(info: PackageInfo): Buffer {
  try {
    return readFileSync(info.enginePath);
  } catch (err) {
    throw new CodedError(
      'DOWNLOAD_BUNDLE_MISSING',
      `this copy of ${info.name} has no ${ENGINE_IN_PACKAGE} (in a source checkout, run: npm run build)`,
      { cause: err },
    );
  }
}
