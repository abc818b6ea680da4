// `download --version` against a small registry of our own on 127.0.0.1 that can lie: a tampered
// tarball, a wrong shasum, no integrity, no engine inside, an unknown version. Each must fail with
// a clear error and leave the target directory exactly as it was (no file, no temp leftovers).
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadEngine, type DownloadOptions } from '../../src/core/download/download-engine.js';
import { readPackageInfo } from '../../src/core/download/package-info.js';
import { BUILT_ENGINE, cleanEnv, pack, runCli, stagePackage } from './stage-package.js';

/** The error `work` fails with; fails the test if it succeeds. */
async function rejection(work: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await work;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a failure, but it succeeded');
}

const pkg = readPackageInfo();
const engine = Buffer.from(`#!/usr/bin/env node\n// stand-in engine ${Date.now()}\n`);
const SECRET = 'fake-registry-token-5f1e';
let dir: string;
let good: Buffer;
let noEngine: Buffer;
let registry: Server;
let cdn: Server;
let registryUrl: string;
const seen: { url: string; headers: IncomingHttpHeaders; server: string }[] = [];

const sri = (data: Buffer) => `sha512-${createHash('sha512').update(data).digest('base64')}`;
const sha1 = (data: Buffer) => createHash('sha1').update(data).digest('hex');

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inletsctl-tamper-'));
  const home = join(dir, 'home');
  await mkdir(home);
  const withEngine = await stagePackage(engine);
  const withoutEngine = await stagePackage(engine);
  try {
    good = await readFile(await pack(withEngine, dir, home));
    await rm(join(withoutEngine.dir, 'dist/inlets.mjs'));
    await writeFile(join(withoutEngine.dir, 'dist/other.mjs'), 'x');
    noEngine = await readFile(await pack(withoutEngine, dir, home));
  } finally {
    await rm(withEngine.dir, { recursive: true, force: true });
    await rm(withoutEngine.dir, { recursive: true, force: true });
  }
  const tampered = Buffer.from(good);
  tampered[tampered.length - 20] ^= 0x01;

  // Tarballs live on a second host ("cdn"), as with real registries: the token must not go there.
  const tarballs: Record<string, Buffer> = { good, tampered, noEngine };
  cdn = createServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers, server: 'cdn' });
    const body = tarballs[req.url!.slice(1)];
    res.writeHead(body ? 200 : 404).end(body);
  });
  const cdnUrl = await listen(cdn);
  const version = (tarball: string, dist: Record<string, string>) => ({ name: pkg.name, version: 'x', dist: { tarball: cdnUrl + tarball, ...dist } });
  const packument = {
    name: pkg.name,
    'dist-tags': { latest: '1.0.0' },
    versions: {
      '1.0.0': version('good', { integrity: sri(good), shasum: sha1(good) }),
      '1.0.1-tampered': version('tampered', { integrity: sri(good), shasum: sha1(good) }),
      '1.0.2-badshasum': version('good', { integrity: sri(good), shasum: '0'.repeat(40) }),
      '1.0.3-sha1only': version('good', { shasum: sha1(good) }),
      '1.0.4-noengine': version('noEngine', { integrity: sri(noEngine) }),
    },
  };
  registry = createServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers, server: 'registry' });
    if (req.url === `/${pkg.name}`) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(packument));
    else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  });
  registryUrl = await listen(registry);
  // The token is configured for the registry host only.
  await writeFile(join(home, '.npmrc'), `//127.0.0.1:${new URL(registryUrl).port}/:_authToken=${SECRET}\n`);
});

afterAll(async () => {
  await new Promise((r) => registry?.close(r));
  await new Promise((r) => cdn?.close(r));
  await rm(dir, { recursive: true, force: true });
});

/** A fresh, empty target directory and options pointing at the fake registry. */
async function setup(version: string): Promise<{ target: string; opts: DownloadOptions }> {
  const target = await mkdtemp(join(dir, 'bin-'));
  const opts: DownloadOptions = {
    downloadTo: target,
    version,
    registry: registryUrl,
    env: { npm_config_prefix: join(dir, 'prefix') },
    cwd: dir,
    home: join(dir, 'home'),
  };
  return { target, opts };
}

async function expectFailure(version: string, code: string, message: RegExp): Promise<void> {
  const { target, opts } = await setup(version);
  const err = await rejection(downloadEngine(opts));
  expect(err).toBeInstanceOf(Error);
  expect(err.code).toBe(code);
  expect(err.message).toMatch(message);
  expect(err.message).not.toContain(SECRET);
  expect(await readdir(target)).toEqual([]); // nothing installed, no temp file left
}

describe('download --version against a registry that can lie', () => {
  it('installs a good version (control case: the fake registry itself works)', async () => {
    const { target, opts } = await setup('1.0.0');
    const result = await downloadEngine(opts);
    expect(result).toMatchObject({ source: 'registry', version: '1.0.0', integrity: 'sha512', shasumChecked: true, registrySource: '--registry' });
    expect(await readFile(join(target, 'inlets'))).toEqual(engine);
    expect((await stat(join(target, 'inlets'))).mode & 0o777).toBe(0o755);
    expect(await readdir(target)).toEqual(['inlets']);
    // The token went to the registry, never to the tarball host.
    const mine = seen.filter((s) => s.url.endsWith(pkg.name) || s.url === '/good');
    expect(mine.find((s) => s.server === 'registry')?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(mine.find((s) => s.server === 'cdn')?.headers.authorization).toBeUndefined();
  });

  it('resolves a dist-tag', async () => {
    const { opts } = await setup('latest');
    expect((await downloadEngine(opts)).version).toBe('1.0.0');
  });

  it('refuses a tarball that does not match its integrity', () => expectFailure('1.0.1-tampered', 'DOWNLOAD_INTEGRITY_MISMATCH', /does not match the registry's sha512 integrity.*nothing was installed/));
  it('refuses a tarball that does not match its shasum', () => expectFailure('1.0.2-badshasum', 'DOWNLOAD_INTEGRITY_MISMATCH', /shasum/));
  it('refuses a version with only a sha1 shasum', () => expectFailure('1.0.3-sha1only', 'DOWNLOAD_INTEGRITY_MISSING', /no sha512 integrity/));
  it('refuses a package without dist/inlets.mjs', () => expectFailure('1.0.4-noengine', 'DOWNLOAD_BAD_TARBALL', /does not contain dist\/inlets\.mjs/));
  it('names an unknown version and what exists', () => expectFailure('9.9.9', 'DOWNLOAD_VERSION_NOT_FOUND', /inletsctl-ts@9\.9\.9 is not in the registry.*newest: .*1\.0\.0/));

  it('says when the registry cannot be reached', async () => {
    const { target, opts } = await setup('1.0.0');
    const closed = await new Promise<string>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const url = `http://127.0.0.1:${(s.address() as { port: number }).port}/`;
        s.close(() => resolve(url));
      });
    });
    const err = await rejection(downloadEngine({ ...opts, registry: closed }));
    expect(err.code).toBe('DOWNLOAD_NETWORK');
    expect(err.message).toContain(closed);
    // The cause, not fetch's bare "TypeError".
    expect(err.message).toMatch(/\(ECONNREFUSED\)$/);
    expect(await readdir(target)).toEqual([]);
  });

  it('fails at once, not never, on a directory that cannot exist (/proc/nope)', async () => {
    const { opts } = await setup('1.0.0');
    const err = await rejection(downloadEngine({ ...opts, downloadTo: '/proc/nope/bin' }));
    expect(err.code).toBe('DOWNLOAD_NOT_WRITABLE');
    expect(err.message).toContain('cannot write to /proc/nope/bin');
  });
});

describe('inletsctl download (built CLI) against the lying registry', () => {
  it('exits non-zero with a clear message on a tampered tarball, installing nothing', async () => {
    expect(existsSync(BUILT_ENGINE), 'run npm run build first').toBe(true);
    const target = await mkdtemp(join(dir, 'cli-'));
    const env = cleanEnv({ HOME: join(dir, 'home'), npm_config_prefix: join(dir, 'prefix') });
    const r = await runCli(['download', '--version', '1.0.1-tampered', '--registry', registryUrl, '--download-to', target], { env, cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/inletsctl: .*does not match the registry's sha512 integrity/);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(await readdir(target)).toEqual([]);
  });

  it('takes --registry without --version as the newest version there', async () => {
    const target = await mkdtemp(join(dir, 'cli-'));
    const env = cleanEnv({ HOME: join(dir, 'home'), npm_config_prefix: join(dir, 'prefix') });
    const r = await runCli(['download', '--registry', registryUrl, '--download-to', target, '--json'], { env, cwd: dir });
    expect(r.stderr).not.toContain('Implications failed');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ source: 'registry', version: '1.0.0' });
    expect(await readFile(join(target, 'inlets'))).toEqual(engine);
  });
});
