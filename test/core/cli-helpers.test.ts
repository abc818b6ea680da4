import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chmod, mkdir, symlink } from 'node:fs/promises';
import { clientCommand, tunnelUrl } from '../../src/core/connection-info.js';
import { inletsPrefix, inletsctlPrefix, shellWord } from '../../src/core/invocation.js';
import { credentialMissing, describeCredential, resolveCredentials } from '../../src/core/credentials.js';
import { parseDuration } from '../../src/core/duration.js';
import { joinListings } from '../../src/core/list-tunnels.js';
import { generateName, validateName } from '../../src/core/names.js';
import type { CredentialSpec, Host } from '../../src/core/provider.js';
import type { TunnelRecord } from '../../src/core/state-store.js';

describe('names', () => {
  it('generates readable valid names that differ', () => {
    const names = new Set(Array.from({ length: 50 }, generateName));
    expect(names.size).toBeGreaterThan(45);
    for (const n of names) {
      expect(n).toMatch(/^inlets-[a-z]+-[a-z]+-[0-9a-f]{4}$/);
      expect(validateName(n)).toBe(n);
    }
  });

  it('rejects names clouds would refuse', () => {
    for (const bad of ['', 'Upper', '1abc', 'a_b', 'trailing-', 'a--b', 'x'.repeat(64), 'spa ce']) {
      expect(() => validateName(bad)).toThrow(/invalid tunnel name/);
    }
    expect(validateName('a')).toBe('a');
    expect(validateName('x'.repeat(63))).toBe('x'.repeat(63));
  });
});

describe('parseDuration', () => {
  it('reads units, days included', () => {
    expect(parseDuration('500ms', 'poll')).toBe(500);
    expect(parseDuration('2s', 'poll')).toBe(2000);
    expect(parseDuration('10m', 'timeout')).toBe(600_000);
    expect(parseDuration('1m30s', 'timeout')).toBe(90_000);
    expect(parseDuration('1h', 'timeout')).toBe(3_600_000);
    expect(parseDuration('2d', 'ttl')).toBe(172_800_000);
    expect(parseDuration('1.5s', 'poll')).toBe(1500);
  });

  it('refuses a bare number (seconds or minutes?) naming the flag and the value', () => {
    expect(() => parseDuration('10', 'timeout')).toThrow('--timeout "10" needs a unit: for example 10s or 10m');
    expect(() => parseDuration(30, 'timeout')).toThrow(/--timeout "30" needs a unit/);
  });

  it('names the flag when the text is not a duration', () => {
    for (const bad of ['abc', '10 minutes', '5x', '0', '0s', '-1s', '']) {
      expect(() => parseDuration(bad, 'timeout')).toThrow(`--timeout "${bad}"`);
    }
  });
});

describe('credentials', () => {
  const spec: CredentialSpec = { flags: ['access-token', 'access-token-file'], env: ['INLETS_ACCESS_TOKEN', 'FAKE_TOKEN'], howTo: 'Settings → API', required: true };

  it('prefers the flag, then the file, then env vars in order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inletsctl-cred-'));
    try {
      const file = join(dir, 'token');
      await writeFile(file, 'from-file\n');
      const env = { INLETS_ACCESS_TOKEN: '', FAKE_TOKEN: 'from-env2' };
      expect((await resolveCredentials(spec, { 'access-token': 'from-flag', 'access-token-file': file }, env)).values['access-token']).toBe('from-flag');
      const viaFile = await resolveCredentials(spec, { 'access-token-file': file }, env);
      expect(viaFile.values['access-token']).toBe('from-file');
      expect(viaFile.values['access-token-file']).toBe(file);
      expect((await resolveCredentials(spec, {}, env)).values['access-token']).toBe('from-env2');
      expect((await resolveCredentials(spec, {}, { ...env, INLETS_ACCESS_TOKEN: 'from-env1' })).values['access-token']).toBe('from-env1');
      const none = await resolveCredentials(spec, {}, {});
      expect(credentialMissing(spec, none)).toBe(true);
      expect(credentialMissing({ ...spec, required: false }, none)).toBe(false);
      // Either of two secrets will do (a token, or a password with a user name)…
      const either: CredentialSpec = { ...spec, flags: [...spec.flags, 'password', 'password-file'], envOf: { password: ['FAKE_PASSWORD'] }, sufficient: ['access-token', 'password'] };
      expect(credentialMissing(either, await resolveCredentials(either, {}, { FAKE_PASSWORD: 'pw' }))).toBe(false);
      expect(credentialMissing(either, await resolveCredentials(either, {}, {}))).toBe(true);
      // …but by default a second secret only completes the first (EC2's secret key).
      const pair: CredentialSpec = { ...spec, flags: [...spec.flags, 'secret-key'] };
      expect(credentialMissing(pair, await resolveCredentials(pair, { 'secret-key': 's' }, {}))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports an unreadable file without its contents, and flags the provider does not read', async () => {
    await expect(resolveCredentials(spec, { 'access-token-file': '/nonexistent/secret' }, {})).rejects.toMatchObject({ code: 'CREDENTIAL_FILE' });
    const r = await resolveCredentials(spec, { 'secret-key': 's3cret' }, {});
    expect(r.unused).toEqual(['secret-key']);
    expect(describeCredential(spec)).toBe('--access-token, --access-token-file, $INLETS_ACCESS_TOKEN or $FAKE_TOKEN (Settings → API)');
  });
});

describe('connection info', () => {
  it('keeps the token out of the client command and brackets IPv6', () => {
    const cmd = clientCommand({ ip: '203.0.113.7', controlPort: 8123, pin: `sha256:${'c'.repeat(64)}`, ports: [] });
    expect(cmd).toBe(`${inletsPrefix()} tcp client --url wss://203.0.113.7:8123 --token-env INLETS_TOKEN --tls-pin sha256:${'c'.repeat(64)} --upstream 127.0.0.1 --port 8080`);
    expect(clientCommand({ ip: '1.2.3.4', controlPort: 9000, pin: 'sha256:x', ports: [80, 443] })).toContain('--port 80 --port 443');
    expect(tunnelUrl('2001:db8::1', 8123)).toBe('wss://[2001:db8::1]:8123');
  });
});

describe('joinListings', () => {
  const rec = (name: string, extra: Partial<TunnelRecord> = {}): TunnelRecord => ({
    name, provider: 'p', region: 'r', status: 'ready', token: 't', pin: 'sha256:x', controlPort: 8123, ports: [], createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z', ...extra,
  });
  const host = (name: string, id: string, extra: Partial<Host> = {}): Host => ({ name, id, status: 'active', ip: `10.0.0.${id}`, ...extra });

  it('marks ok, missing, untracked and unknown', () => {
    const records = [rec('a', { id: '1' }), rec('b', { id: '2' }), rec('c'), rec('d', { provider: 'q' })];
    const listings = new Map([
      ['p', { hosts: [host('a', '1'), host('c', '3'), host('zz', '9')] }],
      ['q', { error: 'missing credentials' }],
    ]);
    const rows = joinListings(records, listings);
    expect(rows.map((r) => `${r.name}:${r.drift}`)).toEqual(['a:ok', 'b:missing', 'c:ok', 'd:unknown', 'zz:untracked']);
    expect(rows.find((r) => r.name === 'c')?.id).toBe('3');
  });

  it('matches by id before name, so a recreated host of the same name is drift', () => {
    const rows = joinListings([rec('a', { id: '1' })], new Map([['p', { hosts: [host('a', '7')] }]]));
    expect(rows.map((r) => `${r.name}:${r.id}:${r.drift}`)).toEqual(['a:1:missing', 'a:7:untracked']);
  });
});

describe('printed command prefixes', () => {
  it('use the short names only when PATH has this very package, else how this process was started', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inletsctl-path-'));
    try {
      const root = join(dir, 'pkg');
      await mkdir(join(root, 'bin'), { recursive: true });
      await mkdir(join(root, 'dist'));
      for (const f of ['bin/inletsctl.mjs', 'dist/inlets.mjs']) {
        await writeFile(join(root, f), '');
        await chmod(join(root, f), 0o755);
      }
      const ours = join(dir, 'ours');
      const other = join(dir, 'other');
      await mkdir(ours);
      await mkdir(other);
      await symlink(join(root, 'bin/inletsctl.mjs'), join(ours, 'inletsctl'));
      await symlink(join(root, 'dist/inlets.mjs'), join(ours, 'inlets'));
      for (const f of ['inletsctl', 'inlets']) {
        await writeFile(join(other, f), '#!/bin/sh\n'); // say, the Go inletsctl
        await chmod(join(other, f), 0o755);
      }
      const env = (path: string) => ({ path, execPath: '/opt/node 20/bin/node', script: join(root, 'bin/inletsctl.mjs'), root });
      expect(inletsctlPrefix(env(ours))).toBe('inletsctl');
      expect(inletsPrefix(env(ours))).toBe('inlets');
      expect(inletsctlPrefix(env(other))).toBe(`'/opt/node 20/bin/node' ${join(root, 'bin/inletsctl.mjs')}`);
      expect(inletsPrefix(env(''))).toBe(`'/opt/node 20/bin/node' ${join(root, 'dist/inlets.mjs')}`);
      expect(shellWord("it's")).toBe(`'it'\\''s'`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
