/**
 * subjectAltNames on generated certificates: `--tls-san` on `inlets tcp server` (IPs and DNS
 * names, kept in the state directory and remade with the same key when they change) and the name
 * inletsctl gives a tunnel's certificate; Node's own verifier accepts them by name.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { engineBundlePath } from '../../src/core/engine-bundle.js';
import { tunnelServerName, tunnelTls } from '../../src/core/tunnel-tls.js';
import { loadOrCreateIdentity } from '../../src/engine/tls/identity-store.js';
import { subjectAltNames } from '../../src/engine/tls/self-signed.js';
import { cleanupAll, spawnInlets, tempDir, track } from '../helpers/engine-harness.js';

afterEach(cleanupAll);

/** Whether a TLS client trusting only `certPem` accepts the server as `servername`. */
async function verifies(tls: { certPem: string; keyPem: string }, servername: string): Promise<true | string> {
  const server = createTlsServer({ cert: tls.certPem, key: tls.keyPem }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  track(() => new Promise((r) => server.close(r)));
  const { port } = server.address() as { port: number };
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: tls.certPem, servername }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe('--tls-san values', () => {
  it('sorts IPs from DNS names, lowercases and keeps each once', () => {
    expect(subjectAltNames(['127.0.0.1', 'Exit.Example.com', '::1', 'exit.example.com', '*.tunnels.example'])).toEqual({
      dnsNames: ['exit.example.com', '*.tunnels.example'],
      ips: ['127.0.0.1', '::1'],
    });
  });

  it.each(['bad name', '-lead.example', 'a..b', 'x'.repeat(64) + '.example', 'exit.example.com/path', ''])('refuses %j', (value) => {
    expect(() => subjectAltNames([value])).toThrow(expect.objectContaining({ code: 'TLS_SAN_INVALID' }));
  });
});

describe('generated certificates carry subjectAltNames', () => {
  it('the state directory keeps them, and a changed --tls-san remakes the certificate with the same key', async () => {
    const dir = await tempDir();
    const first = await loadOrCreateIdentity(dir, { dnsNames: ['exit.example.com'], ips: ['192.0.2.7'] });
    const cert = new X509Certificate(first.certPem);
    expect(cert.checkHost('exit.example.com')).toBe('exit.example.com');
    expect(cert.checkIP('192.0.2.7')).toBe('192.0.2.7');

    const same = await loadOrCreateIdentity(dir, { dnsNames: ['exit.example.com'], ips: ['192.0.2.7'] });
    expect(same.created).toBe(false);
    expect(same.certPem).toBe(first.certPem);

    const changed = await loadOrCreateIdentity(dir, { dnsNames: ['other.example.com'], ips: ['2001:db8::1'] });
    expect(changed.created).toBe(true);
    expect(changed.pin).toBe(first.pin);
    const cert2 = new X509Certificate(changed.certPem);
    expect(cert2.checkHost('exit.example.com')).toBeUndefined();
    expect(cert2.checkHost('other.example.com')).toBe('other.example.com');
    expect(cert2.checkIP('2001:db8::1')).toBe('2001:db8::1');
    expect(await readFile(join(dir, 'server.crt'), 'utf8')).toBe(changed.certPem);
    // An IPv6 name reads back the same (Node prints it uncompressed): the certificate is kept.
    expect((await loadOrCreateIdentity(dir, { dnsNames: ['Other.Example.com'], ips: ['2001:db8:0::1'] })).created).toBe(false);

    const none = await loadOrCreateIdentity(dir);
    expect(none.created).toBe(true);
    expect(new X509Certificate(none.certPem).subjectAltName).toBeUndefined();
    expect(none.pin).toBe(first.pin);
  });

  it("inletsctl's tunnel certificate verifies as <tunnelId>.inlets.invalid and as nothing else", async () => {
    const tls = tunnelTls({ name: 'inlets-san-check', tunnelId: 'a1b2c3d4e5f6' });
    expect(tunnelServerName('a1b2c3d4e5f6')).toBe('a1b2c3d4e5f6.inlets.invalid');
    expect(new X509Certificate(tls.certPem).subjectAltName).toBe('DNS:a1b2c3d4e5f6.inlets.invalid');
    expect(await verifies(tls, 'a1b2c3d4e5f6.inlets.invalid')).toBe(true);
    expect(await verifies(tls, 'ffffffffffff.inlets.invalid')).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});

describe('inlets tcp server --tls-san', () => {
  it('is a usage error with --tls-cert or --disable-tls, or for a value that is no name', async () => {
    for (const extra of [['--tls-cert', '/nonexistent.crt', '--tls-key', '/nonexistent.key'], ['--disable-tls'], []]) {
      const value = extra.length ? 'exit.example.com' : 'not a name';
      const p = spawnInlets(['tcp', 'server', '--token-env', 'T', '--state-dir', await tempDir(), '--control-port', '1', '--tls-san', value, ...extra], { T: 'x'.repeat(32) });
      expect(await p.exited).toBe(2);
      expect(p.stderr()).toMatch(extra.length ? /--tls-san names go into the generated certificate/ : /--tls-san: "not a name" is neither an IP address nor a DNS name/);
    }
  });

  it("is described in the full inlets's --help; the exit node's build has no --tls-san and no descriptions", async () => {
    const full = spawnInlets(['tcp', 'server', '--help']);
    expect(await full.exited).toBe(0);
    expect(full.stdout()).toMatch(/--tls-san NAME\s+a DNS name or IP the generated certificate is valid for/);
    const run = promisify(execFile);
    const lean = await run(process.execPath, [engineBundlePath('tcp'), 'tcp', 'server', '--help']);
    expect(lean.stdout).not.toContain('--tls-san');
    expect(lean.stdout).toMatch(/^ {2}--control-port PORT$/m);
    const refused = await run(process.execPath, [engineBundlePath('tcp'), 'tcp', 'server', '--tls-san', 'x.example']).catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 2 });
    expect((refused as { stderr: string }).stderr).toMatch(/tls-san/);
  });
});
