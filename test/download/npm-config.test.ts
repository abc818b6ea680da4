// Which registry `download --version` uses, and which credentials go where, from real .npmrc files.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyIntegrity } from '../../src/core/download/integrity.js';
import { DEFAULT_REGISTRY, readNpmConfig } from '../../src/core/download/npm-config.js';
import { packumentUrl, redactUrl } from '../../src/core/download/registry-client.js';

let dir: string;
let home: string;
let project: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inletsctl-npmrc-'));
  home = join(dir, 'home');
  project = join(dir, 'project');
  await mkdir(join(project, 'sub'), { recursive: true });
  await mkdir(home);
  await writeFile(join(project, 'package.json'), '{}');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An environment with nothing of npm's, and no global config (prefix points into the temp dir). */
const env = (extra: Record<string, string> = {}) => ({ npm_config_prefix: join(dir, 'prefix'), ...extra });
const read = (extra: Record<string, string> = {}, registryFlag?: string, packageName = 'inletsctl-ts') =>
  readNpmConfig({ packageName, registryFlag, env: env(extra), cwd: join(project, 'sub'), home });

describe('readNpmConfig: the registry', () => {
  it("uses npm's default when nothing is configured", () => {
    const c = read();
    expect(c.registry).toBe(DEFAULT_REGISTRY);
    expect(c.source).toBe("npm's default");
  });

  it('takes global < user < project < environment < --registry, and says where it came from', async () => {
    await mkdir(join(dir, 'prefix', 'etc'), { recursive: true });
    await writeFile(join(dir, 'prefix', 'etc', 'npmrc'), 'registry=http://global.invalid/\n');
    expect(read().registry).toBe('http://global.invalid/');
    await writeFile(join(home, '.npmrc'), '; a comment\nregistry = "http://user.invalid"\n');
    expect(read()).toMatchObject({ registry: 'http://user.invalid/', source: '~/.npmrc' });
    await writeFile(join(project, '.npmrc'), '# project\nregistry=http://project.invalid/\n');
    expect(read()).toMatchObject({ registry: 'http://project.invalid/', source: join(project, '.npmrc') });
    expect(read({ NPM_CONFIG_REGISTRY: 'http://env.invalid/' })).toMatchObject({ registry: 'http://env.invalid/', source: expect.stringContaining('npm_config_registry') });
    expect(read({ NPM_CONFIG_REGISTRY: 'http://env.invalid/' }, 'http://flag.invalid')).toMatchObject({ registry: 'http://flag.invalid/', source: '--registry' });
  });

  it('honours npm_config_userconfig and a scope registry for scoped names', async () => {
    const other = join(dir, 'other.npmrc');
    await writeFile(other, 'registry=http://other.invalid/\n@acme:registry=http://acme.invalid/\n');
    expect(read({ npm_config_userconfig: other }).registry).toBe('http://other.invalid/');
    expect(read({ npm_config_userconfig: other }, undefined, '@acme/inletsctl').registry).toBe('http://acme.invalid/');
  });
});

describe('readNpmConfig: credentials', () => {
  it('sends a token only to the registry path it was issued for, expanding ${VAR}', async () => {
    await writeFile(
      join(home, '.npmrc'),
      ['registry=https://npm.example.test/team/', '//npm.example.test/team/:_authToken=${TEAM_TOKEN}', '//npm.example.test/:_auth=dXNlcjpwYXNz', '//other.test:8443/:_authToken=other'].join('\n'),
    );
    const c = read({ TEAM_TOKEN: 'secret-team-token' });
    expect(c.authHeaderFor('https://npm.example.test/team/inletsctl-ts')).toBe('Bearer secret-team-token');
    expect(c.authHeaderFor('https://npm.example.test/team/inletsctl-ts/-/inletsctl-ts-1.0.0.tgz')).toBe('Bearer secret-team-token');
    expect(c.authHeaderFor('https://npm.example.test/elsewhere/x.tgz')).toBe('Basic dXNlcjpwYXNz');
    expect(c.authHeaderFor('https://other.test:8443/x')).toBe('Bearer other');
    expect(c.authHeaderFor('https://other.test/x')).toBeUndefined();
    expect(c.authHeaderFor('https://cdn.example.test/team/x.tgz')).toBeUndefined();
    // Nothing secret is exposed on the object itself.
    expect(JSON.stringify(c)).not.toContain('secret-team-token');
  });

  it('builds Basic auth from username and base64 _password', async () => {
    await writeFile(join(home, '.npmrc'), `//reg.test/:username=alice\n//reg.test/:_password=${Buffer.from('pw').toString('base64')}\n`);
    expect(read().authHeaderFor('http://reg.test/pkg')).toBe(`Basic ${Buffer.from('alice:pw').toString('base64')}`);
  });
});

describe('verifyIntegrity', () => {
  const data = Buffer.from('tarball bytes');
  const sri = (alg: string, d: Buffer) => `${alg}-${createHash(alg).update(d).digest('base64')}`;
  const sha1 = createHash('sha1').update(data).digest('hex');

  it('accepts matching sha512 and shasum, preferring the strongest of several entries', () => {
    expect(verifyIntegrity(data, sri('sha512', data), sha1, 'x@1')).toEqual({ algorithm: 'sha512', shasumChecked: true });
    expect(verifyIntegrity(data, `${sri('sha1', Buffer.from('other'))} ${sri('sha512', data)}`, undefined, 'x@1').algorithm).toBe('sha512');
  });

  it('refuses a mismatch in integrity or shasum, and a missing sha512', () => {
    expect(() => verifyIntegrity(data, sri('sha512', Buffer.from('other')), sha1, 'x@1')).toThrow(expect.objectContaining({ code: 'DOWNLOAD_INTEGRITY_MISMATCH' }));
    expect(() => verifyIntegrity(data, sri('sha512', data), '0'.repeat(40), 'x@1')).toThrow(expect.objectContaining({ code: 'DOWNLOAD_INTEGRITY_MISMATCH' }));
    expect(() => verifyIntegrity(data, sri('sha1', data), sha1, 'x@1')).toThrow(expect.objectContaining({ code: 'DOWNLOAD_INTEGRITY_MISSING' }));
    expect(() => verifyIntegrity(data, undefined, sha1, 'x@1')).toThrow(expect.objectContaining({ code: 'DOWNLOAD_INTEGRITY_MISSING' }));
  });
});

describe('registry URLs', () => {
  it('escapes scoped names and removes credentials and query strings from URLs shown to the user', () => {
    expect(packumentUrl('http://r.test/', '@acme/tool')).toBe('http://r.test/@acme%2Ftool');
    expect(packumentUrl('http://r.test/', 'inletsctl-ts')).toBe('http://r.test/inletsctl-ts');
    expect(redactUrl('https://alice:s3cret@r.test/pkg/-/pkg-1.0.0.tgz?X-Signature=abc')).toBe('https://r.test/pkg/-/pkg-1.0.0.tgz');
  });
});
