/**
 * The record a locally booted exit node leaves in its root directory (`boot.json`), and what can
 * be asked of it from any later process: is it still running, stop it, what did it log. A PID alone
 * can be reused after the process dies, so on Linux the record also keeps the process's start
 * time and a PID whose start time differs is taken as gone.
 */
import { existsSync, readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { CodedError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';

export interface BootRecord {
  pid: number;
  /** Start time of the process in clock ticks since boot (/proc/PID/stat field 22), Linux only. */
  startTicks?: string;
  address: string;
  controlPort: number;
  controlUrl: string;
  /** Absolute path of the process's stdout/stderr log. */
  logFile: string;
  /** The systemd unit it stands for, e.g. 'inlets.service'. */
  unit: string;
  bootedAt: string;
  /** When stopping was first asked for (ISO time); SIGKILL follows after a grace period. */
  stopRequestedAt?: string;
}

export const BOOT_RECORD = 'boot.json';

/** The record in `rootDir`, or undefined when nothing was booted there. */
export function readBootRecord(rootDir: string): BootRecord | undefined {
  const path = join(rootDir, BOOT_RECORD);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as BootRecord;
}

export async function writeBootRecord(rootDir: string, record: BootRecord): Promise<void> {
  await writeFileAtomic(join(rootDir, BOOT_RECORD), JSON.stringify(record, null, 2) + '\n', 0o600);
}

/** Field 22 of /proc/PID/stat, or undefined off Linux or when the process is gone. */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** True when the recorded process still runs (and is the same process). */
export function isBootedProcessAlive(record: BootRecord): boolean {
  try {
    process.kill(record.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (isZombie(record.pid)) return false;
  if (record.startTicks !== undefined && existsSync('/proc/self/stat')) {
    return processStartTicks(record.pid) === record.startTicks;
  }
  return true;
}

/** Sends `signal` to the node's process group (it was started as a group leader), else to the PID. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

export interface StopOptions {
  /** How long after the first SIGTERM a still-running process gets SIGKILL, in ms. Default 5000. */
  graceMs?: number;
}

/** Where a node was booted: its root directory, or what bootUserData returned. */
export type BootedTarget = string | { rootDir: string };

function rootOf(target: BootedTarget): string {
  return typeof target === 'string' ? target : target.rootDir;
}

/**
 * One step of stopping the node booted in `target`; never waits. The first call sends SIGTERM to
 * its process group; a call after `graceMs` sends SIGKILL. Answers 'stopped' once nothing runs
 * (also when nothing was ever booted there), else 'stopping'.
 */
export async function stopBootedNode(target: BootedTarget, options: StopOptions = {}): Promise<'stopped' | 'stopping'> {
  const rootDir = rootOf(target);
  const record = readBootRecord(rootDir);
  if (!record || !isBootedProcessAlive(record)) return 'stopped';
  if (!record.stopRequestedAt) {
    signalGroup(record.pid, 'SIGTERM');
    await writeBootRecord(rootDir, { ...record, stopRequestedAt: new Date().toISOString() });
  } else if (Date.now() - Date.parse(record.stopRequestedAt) >= (options.graceMs ?? 5000)) {
    signalGroup(record.pid, 'SIGKILL');
  }
  return isBootedProcessAlive(record) ? 'stopping' : 'stopped';
}

/**
 * Stops the node and waits until it is gone (for tests and fakes; providers never wait): SIGTERM,
 * SIGKILL after `graceMs`, checked every 50 ms.
 * @throws CodedError `BOOT_STOP_TIMEOUT` when it still runs after `timeoutMs` (default 15000).
 */
export async function stopBootedNodeAndWait(target: BootedTarget, options: StopOptions & { timeoutMs?: number } = {}): Promise<void> {
  const end = Date.now() + (options.timeoutMs ?? 15_000);
  while ((await stopBootedNode(target, options)) === 'stopping') {
    if (Date.now() > end) throw new CodedError('BOOT_STOP_TIMEOUT', `the node booted in ${rootOf(target)} did not stop`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The last `maxBytes` (default 2000) of the node's log, or '' when there is none. */
export function bootLogTail(record: BootRecord, maxBytes = 2000): string {
  try {
    const size = statSync(record.logFile).size;
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    const fd = openSync(record.logFile, 'r');
    try {
      readSync(fd, buf, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    return buf.toString('utf8');
  } catch {
    return '';
  }
}
