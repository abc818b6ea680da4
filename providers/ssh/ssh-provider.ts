/**
 * The ssh provider: installs the exit node on a server the user already has. create sends the
 * rendered boot script (the same `#!/bin/bash` form the templates produce) on stdin and starts it
 * detached, so it returns at once; status reads the marker and the unit's state; delete removes
 * what the marker lists and leaves the machine. The host key is checked on every connection
 * (ssh-host-key.ts). Commands run with `sudo -n` unless the user is root.
 */
import { readFileSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { NodeSSH } from 'node-ssh';
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest, Host, HostRef, Provider, ProviderContext } from '../../src/core/provider.js';
import { parseUserData, userDataText } from '../../src/core/user-data/render.js';
import { checkHostKey, normalizePin, type HostKeyVerdict } from './ssh-host-key.js';
import { EXIT_FOREIGN_UNIT, EXIT_OTHER_TUNNEL, deleteScript, installScript, listScript, readKeyValues, statusScript } from './ssh-remote-scripts.js';

const PROVIDER = 'ssh';

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  keyFile?: string;
  pin?: string;
  knownHostsFile: string;
  acceptNew: boolean;
  timeoutMs: number;
}

function option<T>(ctx: ProviderContext, name: string, type: 'string' | 'number' | 'boolean'): T | undefined {
  const v = ctx.options[name];
  return typeof v === type ? (v as T) : undefined;
}

export function createSshProvider(ctx: ProviderContext): Provider {
  const pinText = option<string>(ctx, 'ssh-host-key', 'string');
  const pin = pinText === undefined ? undefined : normalizePin(pinText);
  if (pinText !== undefined && !pin) throw new ProviderError(PROVIDER, 'INVALID', '--ssh-host-key must be SHA256:<43 base64 characters>, as `ssh-keygen -lf KEY.pub` prints it', { retryable: false });
  const target = {
    host: option<string>(ctx, 'host', 'string'),
    port: option<number>(ctx, 'ssh-port', 'number') ?? 22,
    user: option<string>(ctx, 'ssh-user', 'string') ?? 'root',
    keyFile: option<string>(ctx, 'ssh-key', 'string'),
    pin,
    knownHostsFile: option<string>(ctx, 'ssh-known-hosts', 'string') ?? join(homedir(), '.ssh', 'known_hosts'),
    acceptNew: option<boolean>(ctx, 'ssh-accept-new-host-key', 'boolean') ?? false,
    timeoutMs: (option<number>(ctx, 'ssh-timeout', 'number') ?? 20) * 1000,
  };
  return new SshProvider(target);
}

class SshProvider implements Provider {
  constructor(private readonly t: Omit<SshTarget, 'host'> & { host?: string }) {}

  async create(req: CreateRequest): Promise<Host> {
    const target = this.target();
    const { format, plan } = parseUserData(req.userData);
    if (format !== 'script') throw new ProviderError(PROVIDER, 'INVALID', 'the ssh provider installs the boot script form of the user-data', { retryable: false });
    const script = installScript({ tunnelId: req.tunnelId, name: req.name, bootScript: userDataText(req.userData), files: plan.files.map((f) => f.path) });
    const { verdict, result } = await this.run(target, script);
    if (result.code === EXIT_OTHER_TUNNEL || result.code === EXIT_FOREIGN_UNIT) {
      throw new ProviderError(PROVIDER, 'FORBIDDEN', `${target.host}: ${lastLine(result.stderr)}`, { retryable: false });
    }
    if (result.code !== 0) throw new ProviderError(PROVIDER, 'CREATE_FAILED', `${target.host}: the install did not start (exit ${result.code}): ${lastLine(result.stderr)}`, { retryable: false });
    return {
      name: req.name,
      tunnelId: req.tunnelId,
      id: this.id(target),
      ip: await address(target.host),
      region: 'existing',
      status: 'provisioning',
      providerStatus: 'installing',
      data: { host: target.host, hostKey: verdict.fingerprint },
    };
  }

  async status(ref: HostRef): Promise<Host> {
    if (!ref.tunnelId) throw new ProviderError(PROVIDER, 'NOT_FOUND', `tunnel ${ref.name} has no tunnel id, so nothing of it can be found on the host`);
    const target = this.target(ref);
    const { result } = await this.run(target, statusScript(ref.tunnelId));
    if (result.code !== 0) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `${target.host}: reading the state failed (exit ${result.code}): ${lastLine(result.stderr)}`);
    const s = readKeyValues(result.stdout);
    if (s.marker !== 'present') throw new ProviderError(PROVIDER, 'NOT_FOUND', `${target.host} has no tunnel ${ref.tunnelId}`);
    const base = { name: s.name || ref.name, tunnelId: ref.tunnelId, id: this.id(target), ip: await address(target.host), region: 'existing', data: ref.data };
    if (s.rc && s.rc !== '0') return { ...base, status: 'error', providerStatus: `the boot script failed with exit ${s.rc}; see ${'/etc/inletsctl/'}${ref.tunnelId}/install.log on the host` };
    if (s.unit === 'active') return { ...base, status: 'active', providerStatus: 'inlets.service active' };
    return { ...base, status: s.rc === '0' && s.unit === 'failed' ? 'error' : 'provisioning', providerStatus: s.rc ? `inlets.service ${s.unit || 'unknown'}` : 'installing' };
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    if (!ref.tunnelId) throw new ProviderError(PROVIDER, 'FORBIDDEN', `tunnel ${ref.name} has no tunnel id; inletsctl removes only what carries one`, { retryable: false });
    const target = this.target(ref);
    const { result } = await this.run(target, deleteScript(ref.tunnelId));
    if (result.code !== 0) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `${target.host}: removing tunnel ${ref.tunnelId} failed (exit ${result.code}): ${lastLine(result.stderr)}`);
    return result.stdout.trim().split('\n').pop() === 'gone' ? 'done' : 'pending';
  }

  async list(): Promise<Host[]> {
    if (!this.t.host) return []; // nothing to ask without --host: the state file lists the rest
    const target = this.target();
    const { result } = await this.run(target, listScript());
    if (result.code !== 0) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `${target.host}: listing failed (exit ${result.code}): ${lastLine(result.stderr)}`);
    const ip = await address(target.host);
    return result.stdout
      .split('\n')
      .map((line) => /^tunnel=([0-9a-f]{12}) name=(.*)$/.exec(line.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ name: m[2], tunnelId: m[1], id: this.id(target), ip, region: 'existing', status: 'active' as const, providerStatus: 'installed' }));
  }

  private id(t: SshTarget): string {
    return `${t.user}@${t.host}:${t.port}`;
  }

  /** The connection for `ref`: the flags, else what create recorded (host, and the key it saw: pinned from then on). */
  private target(ref?: HostRef): SshTarget {
    const host = this.t.host ?? ref?.data?.host;
    if (!host) throw new ProviderError(PROVIDER, 'INVALID', 'give the server with --host (or $INLETSCTL_SSH_HOST)', { retryable: false });
    return { ...this.t, host, pin: this.t.pin ?? ref?.data?.hostKey };
  }

  /** Connects (checking the host key), runs `script` on stdin with sh (sudo -n unless root), disconnects. */
  private async run(t: SshTarget, script: string): Promise<{ verdict: Extract<HostKeyVerdict, { ok: true }>; result: { code: number | null; stdout: string; stderr: string } }> {
    let verdict: HostKeyVerdict | undefined;
    let knownHosts = '';
    try {
      knownHosts = readFileSync(t.knownHostsFile, 'utf8');
    } catch {
      // no known_hosts: only a pin or --ssh-accept-new-host-key can let us in
    }
    const ssh = new NodeSSH();
    try {
      await ssh.connect({
        host: t.host,
        port: t.port,
        username: t.user,
        privateKeyPath: t.keyFile,
        agent: t.keyFile ? undefined : process.env.SSH_AUTH_SOCK,
        readyTimeout: t.timeoutMs,
        hostVerifier: (key: Buffer) => {
          verdict = checkHostKey(key, { host: t.host, port: t.port, pin: t.pin, knownHosts, acceptNew: t.acceptNew });
          return verdict.ok;
        },
      });
    } catch (err) {
      ssh.dispose();
      if (verdict && !verdict.ok) throw new ProviderError(PROVIDER, 'AUTH', `refusing ${t.host}:${t.port}: ${verdict.why}`, { retryable: false });
      const message = (err as Error)?.message ?? String(err);
      const auth = /authentication/i.test(message);
      throw new ProviderError(PROVIDER, auth ? 'AUTH' : 'NETWORK', `ssh ${t.user}@${t.host}:${t.port}: ${message}`, { retryable: !auth, cause: err });
    }
    if (!verdict?.ok) {
      ssh.dispose();
      throw new ProviderError(PROVIDER, 'AUTH', `refusing ${t.host}:${t.port}: the host key was not checked`, { retryable: false });
    }
    if (verdict.how === 'accepted-new') {
      process.stderr.write(`WARNING: trusting a host key never seen before for ${t.host}:${t.port} because of --ssh-accept-new-host-key: ${verdict.fingerprint}. inletsctl pins it for this tunnel from now on; check it with the server's owner.\n`);
    }
    try {
      const command = t.user === 'root' ? 'sh -s' : 'sudo -n sh -s';
      const result = await withTimeout(ssh.execCommand(command, { stdin: script }), t.timeoutMs, `${t.host}: the command did not finish within ${t.timeoutMs} ms`);
      return { verdict, result };
    } finally {
      ssh.dispose();
    }
  }
}

async function address(host: string): Promise<string> {
  if (isIP(host)) return host;
  try {
    return (await lookup(host, { family: 4 })).address;
  } catch {
    return host;
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.slice(0, 300) || 'no message';
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProviderError(PROVIDER, 'NETWORK', message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
