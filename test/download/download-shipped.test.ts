// `inletsctl download` without --version: installs the engine shipped in this package (the built
// dist/inlets.mjs), atomically, with mode 0755; and refuses an unwritable target clearly.
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadEngine } from '../../src/core/download/download-engine.js';
import { BUILT_ENGINE, cleanEnv, runCli } from './stage-package.js';

/** The error `work` fails with; fails the test if it succeeds. */
async function rejection(work: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await work;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a failure, but it succeeded');
}

let dir: string;
let home: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inletsctl-shipped-'));
  home = join(dir, 'home');
  await mkdir(home);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => cleanEnv({ HOME: home, PATH: process.env.PATH ?? '', ...extra });

describe('inletsctl download (shipped copy)', () => {
  it('installs dist/inlets.mjs as an executable inlets, replacing an older one atomically', async () => {
    const target = join(dir, 'bin');
    await mkdir(target);
    await writeFile(join(target, 'inlets'), 'old engine', { mode: 0o700 });
    const r = await runCli(['download', '--download-to', target], { env: env(), cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Installed inlets \S+ \(shipped with this inletsctl\) to /);
    expect(r.stdout).toContain('is not on your PATH');
    const installed = join(target, 'inlets');
    expect((await readFile(installed)).equals(await readFile(BUILT_ENGINE))).toBe(true);
    expect((await stat(installed)).mode & 0o777).toBe(0o755);
    expect(await readdir(target)).toEqual(['inlets']);
  });

  it('creates a missing directory and reports JSON, noting when it is on PATH', async () => {
    const target = join(dir, 'new', 'bin');
    const r = await runCli(['download', '--download-to', target, '--json'], { env: env({ PATH: `${target}:${process.env.PATH}` }), cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ source: 'shipped', path: join(target, 'inlets'), onPath: true });
  });

  it('takes --registry without --version as "the newest there", and names why it cannot be reached', async () => {
    const r = await runCli(['download', '--registry', 'http://127.0.0.1:9/', '--download-to', join(dir, 'x')], { env: env(), cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('Implications failed');
    // fetch refuses port 9 itself ("bad port"): the reason is named, not "(TypeError)".
    expect(r.stderr).toContain('cannot reach http://127.0.0.1:9/inletsctl-ts (bad port)');
  });

  it('refuses a target that is a file (function API)', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    const err = await rejection(downloadEngine({ downloadTo: file }));
    expect(err.code).toBe('DOWNLOAD_NOT_WRITABLE');
    expect(err.message).toContain('not a directory');
  });

  it('exits non-zero with advice when the directory is not writable, leaving it untouched', async () => {
    // Root may write anywhere, so as root the CLI runs as nobody against a root-owned directory.
    const asRoot = process.getuid?.() === 0;
    const target = join(dir, 'locked');
    await mkdir(target, { mode: 0o755 });
    await chmod(dir, 0o755); // let nobody reach it
    if (!asRoot) await chmod(target, 0o555);
    else await chown(target, 0, 0);
    const user = asRoot ? { uid: 65534, gid: 65534 } : {};
    const r = await runCli(['download', '--download-to', target], { env: env({ HOME: '/nonexistent' }), cwd: '/', ...user });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`inletsctl: cannot write to ${target} (permission denied)`);
    expect(r.stderr).toContain('sudo');
    expect(r.stderr).toContain('--download-to ~/.local/bin');
    expect(await readdir(target)).toEqual([]);
  });
});
