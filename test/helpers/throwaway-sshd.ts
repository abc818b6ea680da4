/**
 * A throw-away OpenSSH sshd on 127.0.0.1, run as the current user with its own host key, config
 * and authorized key in a temp directory (no root needed). Its ForceCommand is a recorder: every
 * command a client asks for is appended to `commands` and its stdin saved to `stdin.<n>`, and
 * nothing else runs, so tests can drive a provider against a real SSH server without changing
 * this machine.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

export interface ThrowawaySshd {
  port: number;
  dir: string;
  /** The client's private key file. */
  userKey: string;
  /** The host's public key line (`ssh-ed25519 AAAA… comment`). */
  hostPublicKey: string;
  /** The host key's fingerprint as `ssh-keygen -lf -E sha256` prints it. */
  hostFingerprint: string;
  /** Commands the recorder saw, one per connection that got as far as a command. */
  commands(): string[];
  /** What each command got on stdin, in order. */
  stdins(): string[];
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startThrowawaySshd(): Promise<ThrowawaySshd> {
  const dir = mkdtempSync(join(tmpdir(), 'inletsctl-sshd-'));
  const hostKey = join(dir, 'host_ed25519');
  const userKey = join(dir, 'user_ed25519');
  for (const f of [hostKey, userKey]) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'inletsctl-test', '-f', f]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${userKey}.pub`), { mode: 0o600 });
  const recorder = join(dir, 'recorder.sh');
  writeFileSync(
    recorder,
    ['#!/bin/sh', `dir=${dir}/rec`, 'mkdir -p "$dir"', 'n=$(ls "$dir" | grep -c "^stdin\\." || true)', 'printf "%s\\n" "$SSH_ORIGINAL_COMMAND" >>"$dir/commands"', 'cat >"$dir/stdin.$n"', ''].join('\n'),
    { mode: 0o700 },
  );
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `ForceCommand ${recorder}`,
      'UsePAM no',
      'StrictModes no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding no',
      'X11Forwarding no',
      'PrintMotd no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  // sshd started as root insists on its privilege-separation directory (Debian's unit makes it).
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
  // Ready when the port accepts connections (bounded).
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${log}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error(`sshd did not listen: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const hostPublicKey = readFileSync(`${hostKey}.pub`, 'utf8').trim();
  const hostFingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`], { encoding: 'utf8' }).split(' ')[1];
  const rec = join(dir, 'rec');
  return {
    port,
    dir,
    userKey,
    hostPublicKey,
    hostFingerprint,
    commands: () => (existsSync(join(rec, 'commands')) ? readFileSync(join(rec, 'commands'), 'utf8').split('\n').filter(Boolean) : []),
    stdins: () =>
      existsSync(rec)
        ? readdirSync(rec)
            .filter((f) => f.startsWith('stdin.'))
            .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)))
            .map((f) => readFileSync(join(rec, f), 'utf8'))
        : [],
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
