import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CodedError, UsageError } from '../../src/errors.js';
import { checkUserDataSize, parseUserData, renderUserData } from '../../src/core/user-data/render.js';
import { FIXTURE_BUNDLE, FIXTURE_TOKEN, fixtureInput } from './fixtures.js';

describe('renderUserData', () => {
  it('renders the cloud-config form as in its snapshot', async () => {
    const text = renderUserData(fixtureInput('cloud-config', false)).toString('utf8');
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    await expect(text).toMatchFileSnapshot('./__snapshots__/tcp.cloud-config.yaml');
  });

  it('renders the boot script form as in its snapshot', async () => {
    const text = renderUserData(fixtureInput('script', false)).toString('utf8');
    expect(text.startsWith('#!/bin/bash\n')).toBe(true);
    await expect(text).toMatchFileSnapshot('./__snapshots__/tcp.boot-script.sh');
  });

  it('gzips the whole document when binary, and only then', () => {
    for (const format of ['cloud-config', 'script'] as const) {
      const plain = renderUserData(fixtureInput(format, false));
      const binary = renderUserData(fixtureInput(format, true));
      expect(binary.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      expect(plain.subarray(0, 2)).not.toEqual(Buffer.from([0x1f, 0x8b]));
      expect(gunzipSync(binary).equals(plain)).toBe(true);
    }
  });

  it('embeds the engine bundle brotli-compressed (b64) beside the loader the unit runs', () => {
    const { plan } = parseUserData(renderUserData(fixtureInput('cloud-config', true)));
    const engine = plan.files.find((f) => f.path === '/usr/local/lib/inlets/inlets-server.mjs.br');
    expect(engine?.encoding).toBe('b64');
    expect(brotliDecompressSync(engine!.content).equals(FIXTURE_BUNDLE)).toBe(true);
    const loader = plan.files.find((f) => f.path === '/usr/local/lib/inlets/inlets.mjs');
    expect(loader?.permissions).toBe('0755');
    expect(loader?.content.toString()).toContain("new URL('inlets-server.mjs.br', import.meta.url)");
  });

  it('the loader runs the embedded bundle with its arguments and exit code, naming it in stack traces', () => {
    const bundle = Buffer.from(
      "#!/usr/bin/env node\nconsole.log(JSON.stringify(process.argv.slice(2)));\nif (process.argv[2] === 'throw') throw new Error('boom');\nprocess.exit(3);\n//# sourceURL=inlets-server.mjs\n",
    );
    const { plan } = parseUserData(renderUserData({ ...fixtureInput('script', true), engineBundle: bundle }));
    const dir = mkdtempSync(join(tmpdir(), 'inlets-loader-'));
    try {
      for (const f of plan.files.filter((f) => f.path.startsWith('/usr/local/lib/inlets/'))) writeFileSync(join(dir, basename(f.path)), f.content);
      const run = (...args: string[]) => spawnSync(process.execPath, [join(dir, 'inlets.mjs'), ...args], { encoding: 'utf8', timeout: 30_000 });
      const ok = run('tcp', 'server', '--x');
      expect(ok.stdout).toBe('["tcp","server","--x"]\n');
      expect(ok.status).toBe(3);
      const failed = run('throw');
      expect(failed.status).toBe(1);
      expect(failed.stderr).toMatch(/at inlets-server\.mjs:3:/);
      expect(failed.stderr).not.toContain('data:text/javascript');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps secrets in 0600 files and out of the unit and its command line', () => {
    const { plan } = parseUserData(renderUserData(fixtureInput('cloud-config', false)));
    const byPath = new Map(plan.files.map((f) => [f.path, f]));
    expect(byPath.get('/etc/default/inlets')?.permissions).toBe('0600');
    expect(byPath.get('/etc/default/inlets')?.content.toString()).toContain(`INLETS_TOKEN=${FIXTURE_TOKEN}\n`);
    expect(byPath.get('/etc/inlets/tls/server.key')?.permissions).toBe('0600');
    const unit = byPath.get('/etc/systemd/system/inlets.service')!.content.toString();
    expect(unit).not.toContain(FIXTURE_TOKEN);
    expect(unit).toMatch(/^EnvironmentFile=\/etc\/default\/inlets$/m);
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node \/usr\/local\/lib\/inlets\/inlets\.mjs tcp server --token-env INLETS_TOKEN .*--control-port 8123 /m);
    expect(plan.packages).toEqual(['nodejs']);
    expect(plan.commands).toEqual([['systemctl', 'daemon-reload'], ['systemctl', 'enable', '--now', 'inlets.service']]);
  });

  it('puts the chosen control port into the unit', () => {
    const { plan } = parseUserData(renderUserData({ ...fixtureInput('cloud-config', false), controlPort: 9443 }));
    const unit = plan.files.find((f) => f.path.endsWith('inlets.service'))!.content.toString();
    expect(unit).toContain('--control-port 9443 ');
  });

  it('refuses tokens that would need quoting, bad ports, and HTTPS settings that are missing or would break the unit', () => {
    const base = fixtureInput('cloud-config', false);
    expect(() => renderUserData({ ...base, token: 'has space and "quotes" in it' })).toThrow(expect.objectContaining({ code: 'TOKEN_INVALID' }));
    expect(() => renderUserData({ ...base, token: 'short' })).toThrow(expect.objectContaining({ code: 'TOKEN_INVALID' }));
    expect(() => renderUserData({ ...base, controlPort: 70000 })).toThrow(expect.objectContaining({ code: 'PORT_INVALID' }));
    expect(() => renderUserData({ ...base, mode: 'https' })).toThrow(expect.objectContaining({ code: 'TEMPLATE_INVALID' }));
    for (const https of [{ domains: ['a.example.com --x'] }, { domains: ['a.example.com'], email: 'x@y.com;rm' }, { domains: ['a.example.com'], url: 'https://h/%d' }]) {
      expect(() => renderUserData({ ...base, mode: 'https', https }), JSON.stringify(https)).toThrow(expect.objectContaining({ code: 'TEMPLATE_INVALID' }));
    }
    const ok = renderUserData({ ...base, mode: 'https', https: { domains: ['blog.example.com'], email: 'me@example.com', issuer: 'staging' }, engineBundle: Buffer.from('x') }).toString();
    expect(ok).toContain('http server --token-env INLETS_TOKEN --control-port 8123 --tls-cert %d/tls.crt --tls-key %d/tls.key --state-dir /var/lib/inlets --letsencrypt-domain blog.example.com --letsencrypt-email me@example.com --letsencrypt-issuer staging');
  });

  it('never names the token in its errors', () => {
    const secret = 'secret-token-value with space';
    try {
      renderUserData({ ...fixtureInput('cloud-config', false), token: secret });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('secret-token-value');
    }
  });
});

describe('checkUserDataSize', () => {
  it('passes at the limit and fails one byte over, naming provider, size and limit', () => {
    expect(() => checkUserDataSize(Buffer.alloc(16384), 16384, 'ec2')).not.toThrow();
    let error: unknown;
    try {
      checkUserDataSize(Buffer.alloc(16385), 16384, 'ec2');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('USERDATA_TOO_LARGE');
    expect((error as Error).message).toMatch(/16385 bytes.*ec2.*16384/);
  });
});

describe('parseUserData', () => {
  it('refuses user-data that is neither form', () => {
    expect(() => parseUserData(Buffer.from('#!/bin/sh\necho hi\n'))).toThrow(CodedError);
    expect(() => parseUserData(Buffer.from([0x1f, 0x8b, 1, 2, 3]))).toThrow(expect.objectContaining({ code: 'USERDATA_UNSUPPORTED' }));
  });
});
