/**
 * Helpers of the provider contract suite: the real CLI against a fake cloud, traffic through a
 * created tunnel with the real engine client, and a small limit on how many cases run at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server } from 'node:net';
import { inletsctlPrefix } from '../../src/core/invocation.js';
import type { ProviderDescription } from '../../src/core/provider.js';
import { makeSandbox, stateRecords, type CliResult, type Sandbox } from '../cli/cli-harness.js';
import type { FakeCloudServer } from '../fakes/fake-cloud-server.js';
import type { BuildSnapshot } from './build-snapshot.js';

/** Environment variable: per-request timeout given to the CLI, so hung calls end quickly. */
const API_TIMEOUT_MS = '2000';

/** One sandboxed user of the CLI, pointed at one fake. */
export type RunningCli = ChildProcess & { output: { stdout: string; stderr: string }; done: Promise<CliResult> };

export interface CliUser {
  sandbox: Sandbox;
  /** How this CLI prints its own commands (`node …/bin/inletsctl.mjs`: it is not on PATH). */
  inletsctl: string;
  run(args: string[], timeoutMs?: number): Promise<CliResult>;
  start(args: string[]): RunningCli;
  /** Tunnel records in this user's state file. */
  records(): Promise<Array<{ name: string; status: string }>>;
  cleanup(): Promise<void>;
}

/**
 * A user of the built CLI (from `build`), with its own HOME and state, talking to `fake`;
 * `extraEnv` is what the cloud needs besides its token (FakeEntry.cliEnv), such as a project id.
 */
export async function cliUser(build: BuildSnapshot, description: ProviderDescription, fake: FakeCloudServer, extraEnv: Record<string, string> = {}): Promise<CliUser> {
  const tokenEnv = description.credentials.env[0];
  const sandbox = await makeSandbox({ [tokenEnv]: 'dummy-token-for-the-fake', INLETSCTL_API_TIMEOUT_MS: API_TIMEOUT_MS, ...extraEnv });
  const start = (args: string[]): RunningCli => {
    // A case may point the CLI elsewhere (an unreachable API): then its own --api-url stands.
    const common = ['--provider', description.name, ...(args.includes('--api-url') ? [] : ['--api-url', fake.url])];
    const child = spawn(process.execPath, [build.bin, ...args, ...common], { env: sandbox.env, stdio: ['pipe', 'pipe', 'pipe'], cwd: build.root });
    child.stdin!.end(); // not a terminal, and nothing to read
    const output = { stdout: '', stderr: '' };
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (output.stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (output.stderr += d));
    const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, ...output })));
    return Object.assign(child, { output, done });
  };
  const run = async (args: string[], timeoutMs = 90_000): Promise<CliResult> => {
    const child = start(args);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      const result = await child.done;
      if (result.signal === 'SIGKILL') throw new Error(`inletsctl ${args.join(' ')} did not finish in ${timeoutMs} ms\n${result.stderr}`);
      return result;
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    sandbox,
    inletsctl: inletsctlPrefix({ path: sandbox.env.PATH, execPath: process.execPath, script: build.bin, root: build.root }),
    run,
    start,
    records: () => stateRecords(sandbox.configDir),
    cleanup: () => sandbox.cleanup(),
  };
}

/** The arguments of a quick create (short polls and timeout, JSON out). */
export function createArgs(name: string, options: { port: number; firewall?: boolean; timeout?: string; cleanupTimeout?: string }): string[] {
  return [
    'create', name, '--ports', String(options.port), '--poll', '100ms', '--timeout', options.timeout ?? '45s', '--json',
    ...(options.firewall ? ['--firewall'] : []),
    ...(options.cleanupTimeout ? ['--cleanup-timeout', options.cleanupTimeout] : []),
  ];
}

/** What `create --json` prints. */
export interface CreatedJson {
  name: string;
  tunnelId: string;
  id: string;
  ip: string;
  url: string;
  token: string;
  pin: string;
}

export function parseCreated(result: CliResult): CreatedJson {
  try {
    return JSON.parse(result.stdout) as CreatedJson;
  } catch {
    throw new Error(`create printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

/**
 * Sends 64 KiB through the tunnel: an engine client (`dist/inlets.mjs`, token in its environment)
 * serves public port `port` of the exit node from a local echo server, and the bytes must come back.
 */
export async function checkTraffic(build: BuildSnapshot, created: CreatedJson, port: number, timeoutMs = 30_000): Promise<void> {
  const echo: Server = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  const echoPort = (echo.address() as { port: number }).port;
  const client = spawn(
    process.execPath,
    [build.engine, 'tcp', 'client', '--url', created.url, '--token-env', 'INLETS_TOKEN', '--tls-pin', created.pin, '--upstream', `${port}=127.0.0.1:${echoPort}`],
    { env: { PATH: process.env.PATH, INLETS_TOKEN: created.token }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let clientLog = '';
  client.stderr!.setEncoding('utf8').on('data', (d: string) => (clientLog = (clientLog + d).slice(-4000)));
  try {
    const payload = randomBytes(64 * 1024);
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    while (Date.now() < deadline) {
      try {
        const back = await roundTrip(created.ip, port, payload);
        if (back.equals(payload)) return;
        lastError = `got ${back.length} bytes back, not the same`;
      } catch (err) {
        lastError = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no traffic through ${created.ip}:${port}: ${lastError}\nclient log:\n${clientLog}`);
  } finally {
    client.kill('SIGTERM');
    await new Promise((r) => client.once('close', r));
    await new Promise((r) => echo.close(r));
  }
}

function roundTrip(host: string, port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const s = connect({ host, port });
    const timer = setTimeout(() => s.destroy(new Error('round trip timed out')), 5000);
    s.on('connect', () => s.write(payload));
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      length += d.length;
      if (length >= payload.length) s.end();
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** Waits (bounded) until `check` is true. */
export async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** At most `limit` bodies run at once (the machine has 2 cores shared with other test files). */
export function limiter(limit: number): <T>(body: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: Array<() => void> = [];
  return async (body) => {
    if (active >= limit) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await body();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}
