/**
 * A private copy of the built CLI (package.json, bin/, dist/, templates/, with node_modules linked
 * back), so a suite that runs for minutes is not broken half-way by someone running
 * `npm run build` in the same tree, which deletes and rewrites dist/.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireBuild, root } from '../cli/cli-harness.js';

export interface BuildSnapshot {
  root: string;
  /** The CLI entry point: bin/inletsctl.mjs of the copy. */
  bin: string;
  /** The standalone engine of the copy. */
  engine: string;
  cleanup(): Promise<void>;
}

/**
 * Copies the build and checks the copy runs (`inletsctl version`); retries a few times when the
 * build was being rewritten while it was copied.
 * @throws when there is no build (run `npm run build`) or no working copy could be made.
 */
export async function snapshotBuild(): Promise<BuildSnapshot> {
  requireBuild();
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), 'inletsctl-build-'));
    try {
      for (const part of ['package.json', 'bin', 'dist', 'templates']) await cp(join(root, part), join(dir, part), { recursive: true });
      await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
      const bin = join(dir, 'bin', 'inletsctl.mjs');
      await promisify(execFile)(process.execPath, [bin, 'version'], { timeout: 30_000 });
      return { root: dir, bin, engine: join(dir, 'dist', 'inlets.mjs'), cleanup: () => rm(dir, { recursive: true, force: true }) };
    } catch (err) {
      lastError = err;
      await rm(dir, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  throw new Error(`could not copy a working build: ${(lastError as Error)?.message ?? String(lastError)}`);
}
