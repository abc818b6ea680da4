// `inletsctl download --version` against a REAL npm registry (Verdaccio) on 127.0.0.1: this repo's
// build is published with `npm publish` under a throw-away version, then downloaded, verified and
// installed. Reading the registry needs the token from .npmrc, which must never be printed.
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadEngine } from '../../src/core/download/download-engine.js';
import { startLocalRegistry, type LocalRegistry } from './local-registry.js';
import { cleanEnv, publish, runCli, stagePackage, type StagedPackage } from './stage-package.js';

/** The error `work` fails with; fails the test if it succeeds. */
async function rejection(work: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await work;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a failure, but it succeeded');
}

let reg: LocalRegistry;
let staged: StagedPackage;
let published: Buffer;
let dir: string;
let home: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inletsctl-verdaccio-test-'));
  home = join(dir, 'home');
  await mkdir(home);
  reg = await startLocalRegistry();
  staged = await stagePackage();
  // Compare against the staged copy: another build may rewrite dist/ while this test runs.
  published = await readFile(join(staged.dir, 'dist/inlets.mjs'));
  await publish(staged, reg.url, reg.npmrc, home);
}, 180_000);

afterAll(async () => {
  await reg?.stop();
  if (staged) await rm(staged.dir, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
});

/** The CLI's environment: npm's config comes only from the registry's userconfig file. */
const env = () => cleanEnv({ HOME: home, npm_config_userconfig: reg.npmrc, npm_config_prefix: join(dir, 'prefix') });

describe('inletsctl download from a real local registry', () => {
  it('installs the published engine: executable, byte-identical, token never shown', async () => {
    const target = join(dir, 'bin-cli');
    const r = await runCli(['download', '--version', staged.version, '--registry', reg.url, '--download-to', target], { env: env(), cwd: dir });
    expect(r.stderr).not.toMatch(/^inletsctl: /m);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Installed inlets ${staged.version} (from ${reg.url}) to ${join(target, 'inlets')}`);
    expect(r.stderr).toContain(`registry ${reg.url} (from --registry)`);
    expect(r.stderr).toMatch(/sha512 integrity and shasum verified/);
    expect(r.stdout + r.stderr).not.toContain(reg.token);
    const installed = join(target, 'inlets');
    expect((await stat(installed)).mode & 0o777).toBe(0o755);
    expect((await readFile(installed)).equals(published)).toBe(true);
    expect(await readdir(target)).toEqual(['inlets']);
  });

  it("uses npm's configured registry when --registry is not given, and says so (--json)", async () => {
    const target = join(dir, 'bin-json');
    const r = await runCli(['download', '--version', staged.version, '--download-to', target, '--json'], { env: env(), cwd: dir });
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ source: 'registry', version: staged.version, registry: reg.url, registrySource: reg.npmrc, integrity: 'sha512', path: join(target, 'inlets') });
    expect(r.stdout + r.stderr).not.toContain(reg.token);
    expect((await readFile(join(target, 'inlets'))).equals(published)).toBe(true);
  });

  it('fails clearly on an unknown version, installing nothing', async () => {
    const target = join(dir, 'bin-unknown');
    await mkdir(target);
    const r = await runCli(['download', '--version', '0.0.0-does-not-exist', '--registry', reg.url, '--download-to', target], { env: env(), cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`inletsctl: ${staged.name}@0.0.0-does-not-exist is not in the registry ${reg.url}`);
    expect(r.stderr).toContain(staged.version); // lists what exists
    expect(await readdir(target)).toEqual([]);
  });

  it('installs the published engine through the function API, with the token from npm_config_userconfig', async () => {
    const target = join(dir, 'bin-api');
    const lines: string[] = [];
    const result = await downloadEngine({ downloadTo: target, version: staged.version, env: env(), cwd: dir, home, log: (l) => lines.push(l) });
    expect(result).toMatchObject({ source: 'registry', version: staged.version, registry: reg.url, registrySource: reg.npmrc, shasumChecked: true });
    expect((await readFile(join(target, 'inlets'))).equals(published)).toBe(true);
    expect(lines.join('\n')).not.toContain(reg.token);
  });

  it('reports a refusal when no credentials are configured (function API)', async () => {
    const target = join(dir, 'bin-noauth');
    const err = await rejection(downloadEngine({ downloadTo: target, version: staged.version, registry: reg.url, env: { npm_config_prefix: join(dir, 'prefix') }, cwd: dir, home: join(dir, 'nohome') }));
    expect(err.code).toBe('DOWNLOAD_REGISTRY_AUTH');
    expect(err.message).toContain('npm login --registry');
    expect(await readdir(target)).toEqual([]);
  });
});
