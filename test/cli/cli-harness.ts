/**
 * Runs the BUILT inletsctl (`node bin/inletsctl.mjs`, after `npm run build`) as a subprocess with
 * its own HOME and XDG_CONFIG_HOME in a temporary directory, stdin not a terminal, and a clean
 * environment (no cloud credentials leak in from the machine running the tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { inletsctlPrefix, inletsPrefix } from '../../src/core/invocation.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bin = join(root, 'bin', 'inletsctl.mjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Fails with a clear message when `npm run build` has not been run. */
export function requireBuild(): void {
  if (!existsSync(join(root, 'dist', 'inletsctl', 'inletsctl.js')) || !existsSync(join(root, 'dist', 'inlets.mjs'))) {
    throw new Error('dist/ is missing: run `npm run build` before the CLI tests');
  }
}

/** A temporary home for one test: config dir, fake cloud dir, and the env to run the CLI with. */
export interface Sandbox {
  dir: string;
  configDir: string;
  cloudDir: string;
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

export async function makeSandbox(extraEnv: NodeJS.ProcessEnv = {}, fakeProviderModule?: string): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'inletsctl-cli-'));
  const home = join(dir, 'home');
  const configHome = join(dir, 'config');
  const cloudDir = join(dir, 'cloud');
  await Promise.all([mkdir(home), mkdir(configHome), mkdir(cloudDir)]);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: configHome,
    FAKE_CLOUD_DIR: cloudDir,
    LANG: 'C.UTF-8',
    ...(fakeProviderModule ? { INLETSCTL_EXTRA_PROVIDERS: fakeProviderModule } : {}),
    ...extraEnv,
  };
  return {
    dir,
    configDir: join(configHome, 'inletsctl'),
    cloudDir,
    env,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Starts the CLI; output is collected on `child.output`. */
export function startCli(args: string[], env: NodeJS.ProcessEnv): ChildProcess & { output: { stdout: string; stderr: string }; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'], cwd: root });
  child.stdin!.end(); // not a terminal, and nothing to read
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output.stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output.stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, ...output })));
  return Object.assign(child, { output, done });
}

/** Runs the CLI to the end; kills it (and fails) after `timeoutMs`. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  const child = startCli(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const result = await child.done;
    if (result.signal === 'SIGKILL') throw new Error(`inletsctl ${args.join(' ')} did not finish in ${timeoutMs} ms\n${result.stderr}`);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/** Bundles test/cli/fixtures/fake-provider.ts into `dir` and returns the module's path. */
export async function bundleFakeProvider(dir: string): Promise<string> {
  const outfile = join(dir, 'fake-provider.mjs');
  await build({
    entryPoints: [join(root, 'test', 'cli', 'fixtures', 'fake-provider.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  return outfile;
}

/** Lines the fake provider logged (see fixtures/fake-provider.ts). */
export async function fakeEvents(cloudDir: string): Promise<string[]> {
  try {
    return (await readFile(join(cloudDir, 'events.log'), 'utf8')).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** Waits (bounded) until the fake logged `event`. */
export async function waitForEvent(cloudDir: string, event: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await fakeEvents(cloudDir)).includes(event)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the fake provider never logged "${event}"; it logged: ${(await fakeEvents(cloudDir)).join(', ')}`);
}

/** What the fake cloud still holds. */
export async function fakeCloud(cloudDir: string): Promise<{ hosts: { id: string; name: string; ip?: string; booted: boolean }[]; firewalls: string[] }> {
  try {
    return JSON.parse(await readFile(join(cloudDir, 'cloud.json'), 'utf8'));
  } catch {
    return { hosts: [], firewalls: [] };
  }
}

/** The state file's records, or [] when there is no file. */
export async function stateRecords(configDir: string): Promise<{ name: string; status: string; [k: string]: unknown }[]> {
  try {
    return JSON.parse(await readFile(join(configDir, 'tunnels.json'), 'utf8')).tunnels;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** How the CLI under test prints its own commands (not on PATH here: `node …/bin/inletsctl.mjs`). */
export const INLETSCTL = inletsctlPrefix({ path: process.env.PATH, execPath: process.execPath, script: bin, root });
/** How the CLI under test prints the engine's commands. */
export const INLETS = inletsPrefix({ path: process.env.PATH, execPath: process.execPath, script: bin, root });
