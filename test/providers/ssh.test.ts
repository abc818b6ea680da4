/**
 * The ssh provider against a real OpenSSH sshd (Debian's openssh-server) started on 127.0.0.1 by
 * the test, as the current user, with its own host key. Its ForceCommand only records what a client
 * asks to run and what it sends on stdin: this tests the host-key checks, that a refused host runs
 * nothing, and that the token travels on stdin and never in a command line. It does not run the
 * install on this machine: the real install, traffic and a clean delete are the ssh case of the
 * boot test (.ci/boot-test-ssh.sh: a systemd container with Debian's openssh-server, root and sudo).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { createSshProvider } from '../../providers/ssh/ssh-provider.js';
import { fingerprint, normalizePin } from '../../providers/ssh/ssh-host-key.js';
import { renderUserData } from '../../src/core/user-data/render.js';
import { generateSelfSigned } from '../../src/engine/tls/self-signed.js';
import type { ProviderContext } from '../../src/core/provider.js';
import { startThrowawaySshd, type ThrowawaySshd } from '../helpers/throwaway-sshd.js';
import { rejection, request } from './provider-steps.js';

let sshd: ThrowawaySshd;
const TOKEN = randomBytes(32).toString('hex');
let userData: Buffer;

beforeAll(async () => {
  sshd = await startThrowawaySshd();
  const tls = generateSelfSigned({ commonName: 'ssh-test' });
  userData = renderUserData({ mode: 'tcp', token: TOKEN, tls: { certPem: tls.certPem, keyPem: tls.keyPem }, controlPort: 8123, format: 'script', binary: false });
});
afterAll(async () => {
  await sshd?.stop();
});

function provider(options: Record<string, string | number | boolean>) {
  const ctx: ProviderContext = {
    credentials: {},
    options: { host: '127.0.0.1', 'ssh-port': sshd.port, 'ssh-user': userInfo().username, 'ssh-key': sshd.userKey, 'ssh-known-hosts': join(sshd.dir, 'none'), ...options },
    stateDir: sshd.dir,
  };
  return createSshProvider(ctx);
}

function knownHostsFile(name: string, lines: string[]): string {
  const file = join(sshd.dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const keyBlob = () => Buffer.from(sshd.hostPublicKey.split(' ')[1], 'base64');

describe('ssh provider host-key checks (real sshd, recorded commands)', () => {
  it('computes the fingerprint exactly as ssh-keygen prints it', () => {
    expect(fingerprint(keyBlob())).toBe(sshd.hostFingerprint);
    expect(normalizePin(sshd.hostFingerprint.replace('SHA256', 'sha256'))).toBe(sshd.hostFingerprint);
    expect(normalizePin('md5:aa:bb')).toBeUndefined();
  });

  it('a wrong pin is refused before anything runs', async () => {
    const wrong = `SHA256:${createHash('sha256').update('another key').digest('base64').replace(/=+$/, '')}`;
    const err = await rejection(provider({ 'ssh-host-key': wrong }).create(request('ssh-wrong-pin', { userData })));
    expect(err.code).toBe('AUTH');
    expect(err.message).toContain(`the host key is ${sshd.hostFingerprint}, not the pinned ${wrong}`);
    expect(sshd.commands()).toEqual([]);
  });

  it('an unknown host is refused (nothing run), naming the fingerprint to pin', async () => {
    const err = await rejection(provider({}).status({ name: 'x', tunnelId: '0123456789ab' }));
    expect(err.code).toBe('AUTH');
    expect(err.message).toContain(`--ssh-host-key ${sshd.hostFingerprint}`);
    expect(sshd.commands()).toEqual([]);
  });

  it('a known_hosts entry with another key for this host is refused even with --ssh-accept-new-host-key', async () => {
    const other = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), randomBytes(32)]).toString('base64');
    const file = knownHostsFile('known_other', [`[127.0.0.1]:${sshd.port} ssh-ed25519 ${other}`]);
    const err = await rejection(provider({ 'ssh-known-hosts': file, 'ssh-accept-new-host-key': true }).status({ name: 'x', tunnelId: '0123456789ab' }));
    expect(err.message).toMatch(/differs from the one in known_hosts/);
    expect(sshd.commands()).toEqual([]);
  });

  it('a pinned key is accepted: the install script goes on stdin, the token never in a command line', async () => {
    const req = request('ssh-pinned', { userData });
    const host = await provider({ 'ssh-host-key': sshd.hostFingerprint }).create(req);
    expect(host).toMatchObject({ name: 'ssh-pinned', tunnelId: req.tunnelId, ip: '127.0.0.1', status: 'provisioning', data: { hostKey: sshd.hostFingerprint } });
    const commands = sshd.commands();
    expect(commands).toEqual([userInfo().username === 'root' ? 'sh -s' : 'sudo -n sh -s']);
    expect(commands.join('\n')).not.toContain(TOKEN);
    const [stdin] = sshd.stdins();
    expect(stdin).toContain(`d=/etc/inletsctl/${req.tunnelId}`);
    expect(stdin).toContain(TOKEN); // inside the boot script, written 0600 under the marker
    expect(stdin).toContain('umask 077');
    execFileSync('sh', ['-n'], { input: stdin }); // parses as a POSIX shell script
  });

  it('a plain or hashed known_hosts match is accepted; status reads the marker (absent here: NOT_FOUND)', async () => {
    const before = sshd.commands().length;
    const plain = knownHostsFile('known_plain', [`[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}`]);
    const err = await rejection(provider({ 'ssh-known-hosts': plain }).status({ name: 'x', tunnelId: '0123456789ab' }));
    expect(err.code).toBe('NOT_FOUND'); // connected; the recorder printed no marker
    const salt = randomBytes(20);
    const hashedName = createHmac('sha1', salt).update(`[127.0.0.1]:${sshd.port}`).digest('base64');
    const hashed = knownHostsFile('known_hashed', [`|1|${salt.toString('base64')}|${hashedName} ${sshd.hostPublicKey.split(' ').slice(0, 2).join(' ')}`]);
    expect((await rejection(provider({ 'ssh-known-hosts': hashed }).status({ name: 'x', tunnelId: '0123456789ab' }))).code).toBe('NOT_FOUND');
    expect(sshd.commands().length).toBe(before + 2);
  });

  it('--ssh-accept-new-host-key trusts an unknown key and says so loudly', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await rejection(provider({ 'ssh-accept-new-host-key': true }).status({ name: 'x', tunnelId: '0123456789ab' }));
      expect(write.mock.calls.map((c) => String(c[0])).join('')).toMatch(new RegExp(`WARNING: trusting a host key never seen before .*${sshd.hostFingerprint.replace(/[+/]/g, '\\$&')}`));
    } finally {
      write.mockRestore();
    }
  });

  it('delete without a tunnel id is FORBIDDEN, without connecting', async () => {
    const before = sshd.commands().length;
    const err = await rejection(provider({ 'ssh-host-key': sshd.hostFingerprint }).delete({ name: 'legacy', id: 'root@127.0.0.1:22' }));
    expect(err.code).toBe('FORBIDDEN');
    expect(sshd.commands().length).toBe(before);
  });
});
