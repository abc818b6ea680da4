/**
 * The state file: every tunnel inletsctl made and has not deleted yet.
 *
 * It lives at `$XDG_CONFIG_HOME/inletsctl/tunnels.json` (else `~/.config/inletsctl/tunnels.json`)
 * and holds tokens, so the file is mode 0600 in a 0700 directory and is always written whole
 * (temporary file + rename). Changes go through {@link StateStore.update}, which takes a lock file,
 * re-reads, modifies and writes, so two commands running at once never lose each other's records.
 */
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { CodedError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';

/** Where a tunnel is in its life. */
export type TunnelStatus =
  | 'creating' // recorded before provider.create was called
  | 'provisioning' // the cloud accepted the request; waiting for the VM
  | 'active' // the VM is running with an IP; waiting for the tunnel server
  | 'ready' // the tunnel server answered GET /status with our token and pin
  | 'failed' // create failed and --keep-on-failure kept it, or cleanup did not finish
  | 'deleting';

/** One tunnel as recorded in the state file. Holds secrets: never log a whole record. */
export interface TunnelRecord {
  name: string;
  /** Random tunnel id carried by every resource create made (absent in records of older versions). */
  tunnelId?: string;
  provider: string;
  region: string;
  plan?: string;
  image?: string;
  zone?: string;
  status: TunnelStatus;
  id?: string;
  /** Public IPv4 (or IPv6) address of the exit node, once known. */
  ip?: string;
  /** Provider-owned ids returned by create (firewall, IP, group…). */
  data?: Record<string, string>;
  /** The tunnel's bearer token (64 hex characters unless the user gave one). */
  token: string;
  /** `sha256:<64 hex>` pin of the server's TLS public key. */
  pin: string;
  /** Control port, 8123 unless changed. */
  controlPort: number;
  /** Data ports the user asked to open. */
  ports: number[];
  /** `https`: the http server with Let's Encrypt (create --letsencrypt-domain); absent: TCP mode. */
  mode?: 'https';
  /** HTTPS mode: the domains routed and certified, and the public HTTP and HTTPS ports. */
  domains?: string[];
  httpPort?: number;
  httpsPort?: number;
  /** The user-data held only the server's hash; create delivered the server (PROTOCOL.md §15). */
  staged?: boolean;
  /** ISO 8601 time after which `prune` deletes the tunnel (`create --ttl`); absent: never. */
  expiresAt?: string;
  /** API base URL override used at create time (not a secret), so delete talks to the same API. */
  apiUrl?: string;
  /** Values of the provider's extra flags given at create time (never credentials). */
  options?: Record<string, string | number | boolean>;
  /** ISO 8601 timestamps. */
  createdAt: string;
  updatedAt: string;
}

interface StateFile {
  version: 1;
  tunnels: TunnelRecord[];
}

/** How long {@link StateStore.update} waits for another command's lock, in milliseconds. */
const LOCK_WAIT_MS = 10_000;
/** A lock older than this is left over from a crashed command and is broken, in milliseconds. */
const LOCK_STALE_MS = 30_000;
/**
 * An empty lock this old is broken: this build never leaves one (the lock appears with its pid in
 * it), but a command killed mid-write by an older build could, in milliseconds.
 */
const EMPTY_LOCK_STALE_MS = 2_000;

/**
 * The inletsctl configuration directory: `$XDG_CONFIG_HOME/inletsctl` when that is an absolute
 * path (as the XDG spec requires), else `$HOME/.config/inletsctl`.
 */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.config');
  return join(base, 'inletsctl');
}

/** `<pid>.<12 hex>`: the name a command's private pid file has after `tunnels.json.lock.`. */
const PID_FILE = /^(\d+)\.[0-9a-f]{12}$/;

/** Whether a process of that pid exists (EPERM: it exists but is not ours). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export class StateStore {
  /** Absolute path of tunnels.json. */
  readonly path: string;
  private readonly lockPath: string;

  /** @param dir the directory holding tunnels.json (default: {@link configDir}). */
  constructor(readonly dir: string = configDir()) {
    this.path = join(dir, 'tunnels.json');
    this.lockPath = join(dir, 'tunnels.json.lock');
  }

  /** Every record, oldest first. A missing file is an empty list. */
  async list(): Promise<TunnelRecord[]> {
    return (await this.read()).tunnels;
  }

  async get(name: string): Promise<TunnelRecord | undefined> {
    return (await this.list()).find((t) => t.name === name);
  }

  /**
   * Adds a new record; fails with `NAME_TAKEN` when a tunnel of that name is already recorded.
   */
  async insert(record: TunnelRecord): Promise<void> {
    await this.update((tunnels) => {
      if (tunnels.some((t) => t.name === record.name)) {
        throw new CodedError('NAME_TAKEN', `a tunnel named "${record.name}" already exists (see: inletsctl list)`);
      }
      return [...tunnels, record];
    });
  }

  /** Merges `changes` into the named record and stamps `updatedAt`; returns the new record. */
  async patch(name: string, changes: Partial<Omit<TunnelRecord, 'name'>>): Promise<TunnelRecord> {
    let result: TunnelRecord | undefined;
    await this.update((tunnels) =>
      tunnels.map((t) => {
        if (t.name !== name) return t;
        result = { ...t, ...changes, name, updatedAt: new Date().toISOString() };
        return result;
      }),
    );
    if (!result) throw new CodedError('NOT_IN_STATE', `no tunnel named "${name}" in ${this.path}`);
    return result;
  }

  /** Removes the named record; removing an absent record is not an error. */
  async remove(name: string): Promise<void> {
    await this.update((tunnels) => tunnels.filter((t) => t.name !== name));
  }

  /**
   * Locked read-modify-write: `change` gets the current records (re-read under the lock) and
   * returns the new list. The file is written atomically with mode 0600.
   */
  async update(change: (tunnels: TunnelRecord[]) => TunnelRecord[]): Promise<void> {
    await this.ensureDir();
    const release = await this.lock();
    try {
      const current = await this.read();
      const next: StateFile = { version: 1, tunnels: change(current.tunnels) };
      await writeFileAtomic(this.path, JSON.stringify(next, null, 2) + '\n', 0o600);
    } finally {
      await release();
    }
  }

  private async read(): Promise<StateFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, tunnels: [] };
      throw new CodedError('STATE_UNREADABLE', `cannot read ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      // Never overwrite a file we cannot parse: it may hold the only record of a paid VM.
      throw new CodedError('STATE_CORRUPT', `${this.path} is not valid JSON; fix or move it away`, { cause: err });
    }
    const version = (parsed as { version?: unknown } | null)?.version;
    if (version !== undefined && version !== 1) {
      // A newer inletsctl's file: reading (and rewriting) it as version 1 could lose what it holds.
      throw new CodedError('STATE_VERSION', `${this.path} is state version ${JSON.stringify(version)}; this inletsctl reads version 1 only (upgrade inletsctl)`);
    }
    const tunnels = (parsed as Partial<StateFile> | null)?.tunnels;
    if (!Array.isArray(tunnels)) {
      throw new CodedError('STATE_CORRUPT', `${this.path} has no "tunnels" list; fix or move it away`);
    }
    return { version: 1, tunnels };
  }

  private async ensureDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // mkdir leaves an existing directory's mode alone; this one is ours and holds secrets.
    await chmod(this.dir, 0o700);
  }

  /**
   * Takes the lock file, breaking one left by a crashed command; returns the release.
   *
   * The lock is written in full to a private file first and then hard-linked into place (link
   * fails when the lock exists), so the lock never exists without the holder's pid in it: a
   * command killed at any moment leaves either no lock or one naming a dead process.
   */
  private async lock(): Promise<() => Promise<void>> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    const mine = `${this.lockPath}.${process.pid}.${randomBytes(6).toString('hex')}`;
    await writeFile(mine, `${process.pid}\n`, { mode: 0o600, flag: 'wx' });
    try {
      for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
        try {
          await link(mine, this.lockPath);
          await this.sweepPidFiles(mine);
          return () => rm(this.lockPath, { force: true });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        if (await this.lockIsStale()) {
          await rm(this.lockPath, { force: true });
          continue;
        }
        if (Date.now() >= deadline) {
          throw new CodedError('STATE_LOCKED', `${this.lockPath} is held by another inletsctl; try again, or remove it if no inletsctl is running`);
        }
        await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
      }
    } finally {
      await rm(mine, { force: true });
    }
  }

  /** Under the lock: removes the private pid files of commands that were killed before tidying. */
  private async sweepPidFiles(mine: string): Promise<void> {
    const prefix = `${basename(this.lockPath)}.`;
    for (const name of await readdir(this.dir)) {
      const pid = PID_FILE.exec(name.startsWith(prefix) ? name.slice(prefix.length) : '')?.[1];
      if (!pid || join(this.dir, name) === mine || isAlive(Number(pid))) continue;
      await rm(join(this.dir, name), { force: true });
    }
  }

  private async lockIsStale(): Promise<boolean> {
    try {
      const [info, text] = await Promise.all([stat(this.lockPath), readFile(this.lockPath, 'utf8')]);
      if (Date.now() - info.mtimeMs > LOCK_STALE_MS) return true;
      const pid = Number.parseInt(text, 10);
      if (!Number.isInteger(pid) || pid <= 0) return Date.now() - info.mtimeMs > EMPTY_LOCK_STALE_MS;
      return !isAlive(pid);
    } catch {
      return false; // vanished meanwhile: the next open will tell
    }
  }
}
