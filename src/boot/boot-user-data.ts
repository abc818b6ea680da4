/**
 * Boots rendered user-data on this machine, the way cloud-init would on a VM, for exactly the
 * features our templates use: the files are written under a root directory standing in for the
 * node's filesystem, the packages are checked (Node is this Node), and the unit that `runcmd`
 * starts is run as a detached process, so the engine embedded in the user-data is what runs.
 * The local provider and the fake clouds both boot nodes with it. Anything it does not
 * understand fails loudly (CodedError `USERDATA_UNSUPPORTED`) before anything is started.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, posix } from 'node:path';
import { CodedError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { isBootedProcessAlive, processStartTicks, readBootRecord, writeBootRecord, type BootRecord } from './booted-process.js';
import { plannedFile, type ExitNodePlan, type PlannedFile } from '../core/user-data/exit-node-plan.js';
import { parseUserData, type UserDataFormat } from '../core/user-data/render.js';
import { readEnvironmentFile, readServiceUnit, type ServiceUnit } from './unit-file.js';

export { bootLogTail, readBootRecord, stopBootedNode, stopBootedNodeAndWait, type BootRecord } from './booted-process.js';

export interface BootOptions {
  /** Loopback address (127.0.0.0/8 or ::1) that the control and data ports bind to. */
  address: string;
  /** Directory standing in for the node's root filesystem; made (0700) if missing. */
  rootDir: string;
  /** Extra environment for the engine process, on top of what the unit gives it. */
  env?: Record<string, string>;
}

export interface BootedNode extends BootRecord {
  rootDir: string;
  format: UserDataFormat;
}

/** Packages the templates install and what stands in for them here. */
const PROVIDED_PACKAGES: Record<string, string> = { nodejs: '/usr/bin/node' };
const UNIT_DIR = '/etc/systemd/system';
const DEFAULT_CONTROL_PORT = 8123;

function unsupported(why: string): never {
  throw new CodedError('USERDATA_UNSUPPORTED', `${why} (inletsctl's interpreter knows only what its templates write)`);
}

/**
 * Boots `userData` and returns once the engine process is spawned; whether it becomes ready is
 * the caller's business (poll `controlUrl`). Its output goes to `logFile` under `rootDir`, and
 * `boot.json` there lets any later process check or stop it (see booted-process.ts).
 */
export async function bootUserData(userData: Buffer, options: BootOptions): Promise<BootedNode> {
  const { address, rootDir } = options;
  if (!isLoopback(address)) throw new CodedError('BOOT_ADDRESS_INVALID', `${address} is not a loopback address`);
  const { format, plan } = parseUserData(userData);
  for (const pkg of plan.packages) if (!PROVIDED_PACKAGES[pkg]) unsupported(`package "${pkg}"`);
  for (const f of plan.files) checkFile(f);
  const unitName = unitToStart(plan);
  const unit = readServiceUnit(fileText(plan, posix.join(UNIT_DIR, unitName), `unit ${unitName}`), unitName);
  const launch = planLaunch(plan, unit, unitName, options);
  const previous = readBootRecord(rootDir);
  if (previous && isBootedProcessAlive(previous)) {
    throw new CodedError('BOOT_FAILED', `a node booted in ${rootDir} still runs (pid ${previous.pid})`);
  }

  mkdirSync(rootDir, { recursive: true, mode: 0o700 });
  for (const f of plan.files) await writeFileAtomic(reroot(rootDir, f.path), f.content, parseInt(f.permissions, 8));
  for (const c of unit.credentials) {
    await writeFileAtomic(join(launch.credentialsDir, c.id), plannedFile(plan, c.path)!.content, 0o400);
  }
  for (const dir of launch.stateDirs) mkdirSync(dir, { recursive: true, mode: 0o700 });

  const logFile = reroot(rootDir, `/var/log/${unitName}.log`);
  mkdirSync(join(logFile, '..'), { recursive: true, mode: 0o700 });
  const logFd = openSync(logFile, 'a', 0o600);
  let pid: number;
  try {
    const child = spawn(process.execPath, launch.args, { detached: true, stdio: ['ignore', logFd, logFd], env: launch.env, cwd: rootDir });
    pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', (err) => reject(new CodedError('BOOT_FAILED', `cannot start ${unitName}: ${err.message}`, { cause: err })));
    });
    child.unref();
  } finally {
    closeSync(logFd);
  }
  const record: BootRecord = {
    pid,
    startTicks: processStartTicks(pid),
    address,
    controlPort: launch.controlPort,
    controlUrl: launch.controlUrl,
    logFile,
    unit: unitName,
    bootedAt: new Date().toISOString(),
  };
  await writeBootRecord(rootDir, record);
  return { ...record, rootDir, format };
}

function isLoopback(address: string): boolean {
  return (isIP(address) === 4 && address.startsWith('127.')) || address === '::1';
}

function checkFile(f: PlannedFile): void {
  if (!f.path.startsWith('/') || posix.normalize(f.path) !== f.path || f.path.endsWith('/')) unsupported(`file path "${f.path}"`);
  if (!/^0?[0-7]{3}$/.test(f.permissions)) unsupported(`permissions "${f.permissions}" of ${f.path}`);
  if (f.owner !== 'root:root' && f.owner !== 'root') unsupported(`owner "${f.owner}" of ${f.path}`);
}

/** The one unit that runcmd starts; the other commands must be ones we know to be harmless here. */
function unitToStart(plan: ExitNodePlan): string {
  const started: string[] = [];
  for (const argv of plan.commands) {
    const line = argv.join(' ');
    if (line === 'systemctl daemon-reload') continue;
    // The --ttl safety net powers a VM off; here the exit node is a process of this machine, which
    // must never be powered off: expiry is left to `inletsctl prune`.
    if (/^systemd-run --on-calendar=[\d: -]+UTC systemctl poweroff$/.test(line)) continue;
    const m = /^systemctl (?:enable --now|start) ([\w@.-]+\.service)$/.exec(line);
    if (!m) unsupported(`command "${line}"`);
    started.push(m[1]);
  }
  if (started.length !== 1) unsupported(`${started.length} units started; exactly one is supported`);
  return started[0];
}

function fileText(plan: ExitNodePlan, path: string, what: string): string {
  const f = plannedFile(plan, path);
  if (!f) unsupported(`${what}: ${path} is not written by the user-data`);
  return f.content.toString('utf8');
}

/** Maps an absolute path of the node into `rootDir`. */
function reroot(rootDir: string, path: string): string {
  return join(rootDir, ...path.split('/').filter(Boolean));
}

interface Launch {
  args: string[];
  env: Record<string, string>;
  credentialsDir: string;
  stateDirs: string[];
  controlPort: number;
  controlUrl: string;
}

/** Turns the unit into the engine's command line and environment under `rootDir`. */
function planLaunch(plan: ExitNodePlan, unit: ServiceUnit, unitName: string, options: BootOptions): Launch {
  const { rootDir, address } = options;
  const [program, script, ...rest] = unit.execStart;
  if (!Object.values(PROVIDED_PACKAGES).includes(program)) unsupported(`${unitName}: ExecStart runs ${program}`);
  if (!script || !plannedFile(plan, script)) unsupported(`${unitName}: ExecStart's script ${script} is not written by the user-data`);
  const credentialsDir = reroot(rootDir, `/run/credentials/${unitName}`);
  for (const c of unit.credentials) if (!plannedFile(plan, c.path)) unsupported(`${unitName}: credential ${c.path} is not written by the user-data`);
  const stateDirs = unit.stateDirectories.map((d) => reroot(rootDir, `/var/lib/${d}`));

  const expanded = rest.map((word) => {
    const rooted = word.startsWith('/') ? reroot(rootDir, word) : word;
    return rooted.replace(/%(.)/g, (_, s: string) => {
      if (s === 'd') return credentialsDir;
      if (s === '%') return '%';
      return unsupported(`${unitName}: specifier %${s}`);
    });
  });
  const args = [reroot(rootDir, script), ...withAddress(expanded, address)];

  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...unit.environment };
  for (const spec of unit.environmentFiles) {
    const optional = spec.startsWith('-');
    const path = optional ? spec.slice(1) : spec;
    if (!plannedFile(plan, path)) {
      if (optional) continue;
      unsupported(`${unitName}: EnvironmentFile ${path} is not written by the user-data`);
    }
    Object.assign(env, readEnvironmentFile(fileText(plan, path, 'EnvironmentFile'), path));
  }
  if (unit.credentials.length > 0) env.CREDENTIALS_DIRECTORY = credentialsDir;
  if (stateDirs.length > 0) env.STATE_DIRECTORY = stateDirs.join(':');
  Object.assign(env, options.env);

  const portIndex = expanded.indexOf('--control-port');
  const controlPort = portIndex >= 0 ? Number(expanded[portIndex + 1]) : DEFAULT_CONTROL_PORT;
  if (!Number.isInteger(controlPort) || controlPort < 1 || controlPort > 65535) unsupported(`${unitName}: --control-port`);
  const host = address.includes(':') ? `[${address}]` : address;
  const controlUrl = `${expanded.includes('--disable-tls') ? 'ws' : 'wss'}://${host}:${controlPort}`;
  return { args, env, credentialsDir, stateDirs, controlPort, controlUrl };
}

/** Replaces any --control-addr/--data-addr with `address`, so the node binds only there. */
function withAddress(args: string[], address: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--control-addr' || args[i] === '--data-addr') i++;
    else if (!/^--(control|data)-addr=/.test(args[i])) out.push(args[i]);
  }
  return [...out, '--control-addr', address, '--data-addr', address];
}
