/**
 * Builds a publishable copy of this package for registry tests: this repo's package name with a
 * throw-away prerelease version, and the built dist/ (run `npm run build` first). npm runs with a
 * clean environment (no inherited npm_config_*), its own cache, and the given userconfig.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BUILT_ENGINE = join(ROOT, 'dist/inlets.mjs');

/** process.env without npm's own variables (an `npm test` run sets npm_config_userconfig etc.). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export interface StagedPackage {
  dir: string;
  name: string;
  version: string;
}

/**
 * Stages the package in a temp dir. With `engine`, dist/inlets.mjs holds those bytes instead of
 * the build output (for tests of the download path that do not depend on the engine's content).
 */
export async function stagePackage(engine?: Buffer): Promise<StagedPackage> {
  if (!engine && !existsSync(BUILT_ENGINE)) throw new Error(`${BUILT_ENGINE} is missing: run npm run build first`);
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const dir = await mkdtemp(join(tmpdir(), 'inletsctl-stage-'));
  const version = `0.0.1-test.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const staged = {
    name: pkg.name,
    version,
    description: pkg.description,
    license: pkg.license,
    type: 'module',
    bin: { inlets: 'dist/inlets.mjs' },
    files: ['dist'],
  };
  await writeFile(join(dir, 'package.json'), JSON.stringify(staged, null, 2));
  if (engine) {
    await mkdir(join(dir, 'dist'));
    await writeFile(join(dir, 'dist/inlets.mjs'), engine, { mode: 0o755 });
  } else {
    await cp(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  }
  return { dir, name: String(pkg.name), version };
}

/** `npm publish` to `registry` with the token in `npmrc`. */
export async function publish(staged: StagedPackage, registry: string, npmrc: string, home: string): Promise<void> {
  await run('npm', ['publish', '--registry', registry, '--tag', 'test', '--userconfig', npmrc, '--cache', join(home, 'npm-cache'), '--no-audit', '--no-fund'], {
    cwd: staged.dir,
    env: cleanEnv({ HOME: home }),
    timeout: 120_000,
  });
}

/** `npm pack` into `dest`; returns the tarball's path. */
export async function pack(staged: StagedPackage, dest: string, home: string): Promise<string> {
  const { stdout } = await run('npm', ['pack', '--pack-destination', dest, '--cache', join(home, 'npm-cache'), '--json'], {
    cwd: staged.dir,
    env: cleanEnv({ HOME: home }),
    timeout: 120_000,
  });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  return join(dest, filename);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  timeoutMs?: number;
  /** Run as this user (root only), to test permissions that root would bypass. */
  uid?: number;
  gid?: number;
}

/** Runs the built CLI (`node bin/inletsctl.mjs …`); never rejects on a non-zero exit. */
export function runCli(args: string[], opts: CliOptions): Promise<CliResult> {
  const { env, cwd, timeoutMs = 120_000, uid, gid } = opts;
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin/inletsctl.mjs'), ...args], { env, cwd, uid, gid, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) ?? null : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}
