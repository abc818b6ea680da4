// Child processes for the benchmark: spawn, wait for a line of output, read RSS, and kill every
// process we started (also on error and Ctrl-C). Node built-ins only.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';

/** Every child we spawned and have not yet seen exit. */
const live = new Set();
/** Set by killAll(): no new process may start while (or after) everything is being stopped. */
let stopping = false;

/**
 * Spawns a command in its own process group (so Ctrl-C in the terminal reaches only us, and we
 * stop children in order). stdout/stderr are kept in memory (last 64 KiB each) for error messages.
 * @param {string} name short label used in messages
 * @param {string} cmd
 * @param {string[]} args
 * @param {import('node:child_process').SpawnOptions} [opts]
 */
export function startProcess(name, cmd, args, opts = {}) {
  if (stopping) throw new Error(`not starting ${name}: the benchmark is stopping`);
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true, ...opts });
  const entry = { name, child, stdout: '', stderr: '', exited: false, code: null, signal: null };
  live.add(entry);
  const keep = (key) => (chunk) => {
    entry[key] = (entry[key] + chunk.toString('utf8')).slice(-65536);
  };
  child.stdout?.on('data', keep('stdout'));
  child.stderr?.on('data', keep('stderr'));
  entry.exit = new Promise((resolve) => {
    child.on('error', (err) => {
      entry.stderr += `\nspawn error: ${err.message}`;
      entry.exited = true;
      live.delete(entry);
      resolve(entry);
    });
    child.on('exit', (code, signal) => {
      entry.exited = true;
      entry.code = code;
      entry.signal = signal;
      live.delete(entry);
      resolve(entry);
    });
  });
  return entry;
}

/**
 * Resolves with the first match of `pattern` in the process's stdout or stderr; rejects when the
 * process exits first or after `timeoutMs`.
 */
export function waitForOutput(entry, pattern, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = pattern.exec(entry.stdout) ?? pattern.exec(entry.stderr);
      if (m) {
        done();
        resolve(m);
        return true;
      }
      return false;
    };
    const onData = () => check();
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${entry.name}: no ${what} within ${timeoutMs} ms\n${tail(entry)}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      entry.child.stdout?.off('data', onData);
      entry.child.stderr?.off('data', onData);
    };
    entry.child.stdout?.on('data', onData);
    entry.child.stderr?.on('data', onData);
    entry.exit.then(() => {
      // Let buffered output land first.
      setImmediate(() => {
        if (!check()) {
          done();
          reject(new Error(`${entry.name} exited (code ${entry.code}, signal ${entry.signal}) before ${what}\n${tail(entry)}`));
        }
      });
    });
    check();
  });
}

/** Last lines of a process's output, for error messages. */
export function tail(entry, lines = 15) {
  const text = `${entry.stdout}\n${entry.stderr}`.trim().split('\n').slice(-lines).join('\n');
  return text ? `--- ${entry.name} output (tail) ---\n${text}` : `(${entry.name} printed nothing)`;
}

/** Runs a command to completion with a hard time limit; resolves with { code, stdout, stderr }. */
export async function runToEnd(name, cmd, args, timeoutMs, opts = {}) {
  const entry = startProcess(name, cmd, args, opts);
  entry.child.stdin?.end();
  const timer = setTimeout(() => killEntry(entry), timeoutMs);
  await entry.exit;
  clearTimeout(timer);
  return { code: entry.code, signal: entry.signal, stdout: entry.stdout, stderr: entry.stderr, entry };
}

/** Pids of all descendants of `pid` (children, grandchildren, ...), read from /proc. */
export function descendants(pid) {
  const parentOf = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 is the ppid; the command name (field 2) may contain spaces, so split after ')'.
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(name), Number(after[1]));
    } catch {
      // The process exited while we looked.
    }
  }
  const out = [];
  const queue = [pid];
  for (let guard = 0; queue.length > 0 && guard < 100000; guard++) {
    const p = queue.shift();
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

/** Resident set size of one process in bytes (VmRSS), or null if it is gone. */
export function rssBytes(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Sum of VmRSS over several pids (gone ones count 0), in bytes. */
export function rssSum(pids) {
  return pids.reduce((sum, pid) => sum + (rssBytes(pid) ?? 0), 0);
}

function signalTree(pid, signal) {
  const pids = [...descendants(pid), pid];
  for (const p of pids) {
    try {
      process.kill(p, signal);
    } catch {
      // Already gone.
    }
  }
  try {
    process.kill(-pid, signal);
  } catch {
    // No such group.
  }
}

/** Stops one process and its descendants: SIGTERM, then SIGKILL after `graceMs`. */
export async function killEntry(entry, graceMs = 1500) {
  if (entry.exited || entry.child.pid === undefined) return;
  const pid = entry.child.pid;
  signalTree(pid, 'SIGTERM');
  const timer = setTimeout(() => signalTree(pid, 'SIGKILL'), graceMs);
  await entry.exit;
  clearTimeout(timer);
  // Descendants that outlived their parent (sshd sessions call setsid) get the same treatment.
  for (const p of descendants(pid)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Stops every process still running, newest first. */
export async function killAll() {
  stopping = true;
  const entries = [...live].reverse();
  await Promise.all(entries.map((e) => killEntry(e)));
}

/** Synchronous last-resort kill, for process 'exit' handlers where nothing async runs. */
export function killAllSync() {
  for (const e of live) {
    if (e.child.pid !== undefined) signalTree(e.child.pid, 'SIGKILL');
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** `n` distinct free ports. */
export async function freePorts(n) {
  const ports = new Set();
  for (let i = 0; ports.size < n && i < n * 20; i++) ports.add(await freePort());
  if (ports.size < n) throw new Error('could not find free ports on 127.0.0.1');
  return [...ports];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Clock ticks per second for /proc/<pid>/stat times (`getconf CLK_TCK`; 100 on Linux). */
let clkTck = null;
function ticksPerSecond() {
  if (clkTck === null) {
    try {
      const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
      clkTck = Number(r.stdout.trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** user + system CPU seconds of one process (fields 14 and 15 of /proc/<pid>/stat), or null. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): index 0 is field 3 (state).
    const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(after[11]) + Number(after[12])) / ticksPerSecond();
  } catch {
    return null;
  }
}

/** CPU seconds per pid, for a before/after difference (see cpuDelta). */
export function cpuSnapshot(pids) {
  return new Map(pids.map((pid) => [pid, cpuSeconds(pid) ?? 0]));
}

/**
 * CPU seconds spent between `before` and now by `pids`; a pid not in `before` (started meanwhile,
 * e.g. an sshd session child) counts from 0.
 */
export function cpuDelta(before, pids) {
  return pids.reduce((sum, pid) => sum + Math.max(0, (cpuSeconds(pid) ?? before.get(pid) ?? 0) - (before.get(pid) ?? 0)), 0);
}
