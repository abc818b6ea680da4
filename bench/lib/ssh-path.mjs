// The `ssh -R` path: OpenSSH's sshd on 127.0.0.1 with a throw-away host key, authorized key and
// config in a temp dir, run as the current user, and `ssh -N -R` forwarding public ports to the
// upstreams. Server-side RSS is the sshd processes below our listener (the per-connection monitor
// and session), client-side RSS is the ssh process. `via` may put something (the WAN delay relay)
// between ssh and sshd.
import { mkdirSync, writeFileSync, readFileSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { startProcess, waitForOutput, runToEnd, killEntry, descendants, freePorts } from './procs.mjs';

export const SSHD = '/usr/sbin/sshd';

async function keygen(file) {
  const res = await runToEnd('ssh-keygen', 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'inlets-bench', '-f', file], 20000);
  if (res.code !== 0) throw new Error(`ssh-keygen failed: ${res.stderr}`);
}

/**
 * Starts sshd and `ssh -N -R` for each forward. `via(sshPort)` resolves with the port ssh connects
 * to (default: sshd's port).
 * @param {{ dir: string, forwards: Array<{ publicPort: number, upstreamPort: number }>, via?: (port: number) => Promise<number> }} opts
 */
export async function startSshPath({ dir, forwards, via = async (port) => port }) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const hostKey = join(dir, 'host_ed25519');
  const userKey = join(dir, 'user_ed25519');
  await keygen(hostKey);
  await keygen(userKey);
  const authorized = join(dir, 'authorized_keys');
  writeFileSync(authorized, readFileSync(`${userKey}.pub`), { mode: 0o600 });
  const [sshPort] = await freePorts(1);
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      'ListenAddress 127.0.0.1',
      `Port ${sshPort}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorized}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'UsePAM no',
      'StrictModes no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding yes',
      'GatewayPorts no',
      'X11Forwarding no',
      'PrintMotd no',
      'MaxStartups 100:30:200',
      'LogLevel INFO',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );

  // sshd started as root insists on its privilege-separation directory (Debian's unit creates it).
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    chmodSync('/run/sshd', 0o755);
    console.error('note: created /run/sshd (sshd privilege-separation directory, normally made by its service unit)');
  }

  const sshd = startProcess('sshd', SSHD, ['-D', '-e', '-f', config]);
  await waitForOutput(sshd, /Server listening on 127\.0\.0\.1 port/, 15000, '"Server listening" line');

  const connectPort = await via(sshPort);
  const forwardArgs = forwards.flatMap(({ publicPort, upstreamPort }) => ['-R', `127.0.0.1:${publicPort}:127.0.0.1:${upstreamPort}`]);
  const ssh = startProcess('ssh -R', 'ssh', [
    '-N',
    '-F', '/dev/null',
    '-i', userKey,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'ExitOnForwardFailure=yes',
    '-o', 'LogLevel=ERROR',
    '-p', String(connectPort),
    ...forwardArgs,
    `${userInfo().username}@127.0.0.1`,
  ]);

  return {
    name: 'ssh -R',
    processes: [ssh, sshd],
    /** sshd processes below our listener: the monitor and the session of the ssh connection. */
    serverPids: () => descendants(sshd.child.pid),
    listenerPid: () => sshd.child.pid,
    clientPids: () => [ssh.child.pid],
    alive: () => (!ssh.exited && !sshd.exited ? null : ssh.exited ? ssh : sshd),
    async stop() {
      await killEntry(ssh);
      await killEntry(sshd);
    },
  };
}
