/**
 * The `local` provider: an exit node booted on this machine from the rendered user-data (see
 * src/boot/boot-user-data.ts), each on its own loopback address 127.0.0.x so that several can
 * use port 8123 at once. Everything it has lives in `<stateDir>/local/<name>/`, so a later inletsctl
 * process can check, list and delete what an earlier one created.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ProviderError } from '../../src/errors.js';
import type { Host, HostRef, Provider, ProviderContext, CreateRequest } from '../../src/core/provider.js';
import { bootUserData } from '../../src/boot/boot-user-data.js';
import { bootLogTail, isBootedProcessAlive, readBootRecord, stopBootedNode } from '../../src/boot/booted-process.js';
import { writeFileAtomic } from '../../src/util/atomic-file.js';
import { requireIdentity } from '../shared/ownership.js';
import { localDescription } from './description.js';

const NAME = 'local';
const HOST_FILE = 'host.json';
/** Addresses tried, 127.0.0.FIRST upward (127.0.0.1 is left to everything else on the machine). */
const FIRST = 2;
const LAST = 254;

interface HostFile {
  id: string;
  name: string;
  /** The marks (absent in nodes made before v2). */
  tunnelId?: string;
  /** `create --ttl`'s expiry (the local form of the expiry mark). */
  expiresAt?: string;
  ip: string;
  region: string;
  createdAt: string;
}

export function createLocalProvider(ctx: ProviderContext): Provider {
  return new LocalProvider(join(ctx.stateDir, NAME));
}

class LocalProvider implements Provider {
  constructor(private readonly base: string) {}

  async create(req: CreateRequest): Promise<Host> {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(req.name)) {
      throw new ProviderError(NAME, 'INVALID', `"${req.name}" cannot name a local exit node (letters, digits, . _ -)`);
    }
    if (!localDescription.regions.includes(req.region)) {
      throw new ProviderError(NAME, 'INVALID', `the local provider has no region "${req.region}" (only ${localDescription.regions.join(', ')})`);
    }
    mkdirSync(this.base, { recursive: true, mode: 0o700 });
    const dir = join(this.base, req.name);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ProviderError(NAME, 'INVALID', `a local exit node named "${req.name}" already exists`);
      throw err;
    }
    let ip: string | undefined;
    try {
      ip = await this.claimAddress(req.name, req.controlPort);
      const host: HostFile = { id: req.name, name: req.name, tunnelId: req.tunnelId, expiresAt: req.expiresAt, ip, region: req.region, createdAt: new Date().toISOString() };
      await writeFileAtomic(join(dir, HOST_FILE), JSON.stringify(host, null, 2) + '\n');
      await bootUserData(req.userData, { address: ip, rootDir: join(dir, 'root') });
      return { ...host, status: 'provisioning', providerStatus: 'booting' };
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      if (ip) this.releaseAddress(ip);
      if (err instanceof ProviderError) throw err;
      throw new ProviderError(NAME, 'CREATE_FAILED', `cannot boot the local exit node: ${(err as Error).message}`, { cause: err, retryable: false });
    }
  }

  async status(ref: HostRef): Promise<Host> {
    const [dir] = this.find(ref);
    if (!dir) throw new ProviderError(NAME, 'NOT_FOUND', `no local exit node ${describe(ref)}`);
    return this.hostIn(dir);
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    requireIdentity(NAME, ref);
    let pending = false;
    for (const dir of this.find(ref)) {
      if ((await stopBootedNode(join(dir, 'root'))) === 'stopping') {
        pending = true;
        continue;
      }
      const host = readHostFile(dir);
      rmSync(dir, { recursive: true, force: true });
      if (host) this.releaseAddress(host.ip);
    }
    return pending ? 'pending' : 'done';
  }

  async list(): Promise<Host[]> {
    if (!existsSync(this.base)) return [];
    const hosts: Host[] = [];
    for (const entry of readdirSync(this.base)) {
      const dir = join(this.base, entry);
      if (!entry.startsWith('.') && readHostFile(dir)) hosts.push(this.hostIn(dir));
    }
    return hosts;
  }

  private hostIn(dir: string): Host {
    const file = readHostFile(dir);
    if (!file) throw new ProviderError(NAME, 'NOT_FOUND', `${dir} holds no local exit node`);
    const record = readBootRecord(join(dir, 'root'));
    const host: Host = { ...file, status: 'provisioning', providerStatus: 'booting' };
    if (!record) return host;
    if (isBootedProcessAlive(record)) {
      return record.stopRequestedAt
        ? { ...host, status: 'deleting', providerStatus: `stopping (pid ${record.pid})` }
        : { ...host, status: 'active', providerStatus: `running (pid ${record.pid})` };
    }
    if (record.stopRequestedAt) return { ...host, status: 'deleting', providerStatus: 'stopped' };
    const tail = bootLogTail(record, 1500).trim().split('\n').slice(-8).join('\n');
    return { ...host, status: 'error', providerStatus: `the tunnel server exited; last lines of ${record.logFile}:\n${tail}` };
  }

  /** The directories of the node with id `ref.id` and of nodes carrying `ref.tunnelId`; never by name. */
  private find(ref: HostRef): string[] {
    if (!existsSync(this.base)) return [];
    const found: string[] = [];
    for (const entry of readdirSync(this.base)) {
      const file = entry.startsWith('.') ? undefined : readHostFile(join(this.base, entry));
      if (file && ((ref.id && file.id === ref.id) || (ref.tunnelId && file.tunnelId === ref.tunnelId))) found.push(join(this.base, entry));
    }
    return found;
  }

  /**
   * Takes the first 127.0.0.x that no other local node holds and where nothing listens on the
   * control port. The claim is a file created exclusively, so two creates never share an address.
   */
  private async claimAddress(name: string, controlPort: number): Promise<string> {
    const claims = join(this.base, '.addresses');
    mkdirSync(claims, { recursive: true, mode: 0o700 });
    for (let x = FIRST; x <= LAST; x++) {
      const ip = `127.0.0.${x}`;
      const claim = join(claims, ip);
      if (!takeClaim(claim, name)) {
        const owner = readText(claim)?.trim();
        // A claim whose node directory is gone was left by a crash: take it over.
        if (!owner || owner === name || existsSync(join(this.base, owner))) continue;
        rmSync(claim, { force: true });
        if (!takeClaim(claim, name)) continue;
      }
      const free = await portIsFree(ip, controlPort);
      if (free === true) return ip;
      rmSync(claim, { force: true });
      if (free === 'unavailable') {
        throw new ProviderError(NAME, 'UNSUPPORTED', `${ip} is not usable on this machine (on macOS, add it with: sudo ifconfig lo0 alias ${ip})`);
      }
    }
    throw new ProviderError(NAME, 'QUOTA', `no free loopback address 127.0.0.${FIRST}-${LAST} with port ${controlPort} free`);
  }

  private releaseAddress(ip: string): void {
    rmSync(join(this.base, '.addresses', ip), { force: true });
  }
}

/** Creates the claim file exclusively; false when someone holds it already. */
function takeClaim(path: string, name: string): boolean {
  try {
    writeFileSync(path, name, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readHostFile(dir: string): HostFile | undefined {
  const text = readText(join(dir, HOST_FILE));
  return text ? (JSON.parse(text) as HostFile) : undefined;
}

/** true when `port` can be bound on `ip`; 'unavailable' when the address does not exist here. */
function portIsFree(ip: string, port: number): Promise<boolean | 'unavailable'> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRNOTAVAIL' ? 'unavailable' : false));
    server.listen({ host: ip, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function describe(ref: HostRef): string {
  return [ref.id && `with id ${ref.id}`, ref.tunnelId && `with tunnel id ${ref.tunnelId}`].filter(Boolean).join(' or ') || `for "${ref.name}"`;
}

