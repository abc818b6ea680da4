/**
 * Test harness for the tunnel engine: in-process servers and clients, real subprocesses of the
 * built bundle (dist/inlets.mjs), echo and hashing upstreams, all on 127.0.0.1 with free ports.
 * Every helper registers its cleanup with `track`; call `cleanupAll()` in afterEach.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TunnelClient, type TunnelClientOptions } from '../../src/engine/client/tunnel-client.js';
import { TunnelServer, type TunnelServerOptions } from '../../src/engine/server/tunnel-server.js';
import { generateSelfSigned } from '../../src/engine/tls/self-signed.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BUNDLE = join(ROOT, 'dist/inlets.mjs');

const cleanups: (() => unknown)[] = [];

/** Registers a cleanup, run in reverse order by `cleanupAll`. */
export function track(fn: () => unknown): void {
  cleanups.push(fn);
}

export async function cleanupAll(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      await fn();
    } catch {
      // cleanup continues past one failure
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every `everyMs` until it holds or `timeoutMs` passes; throws with `what` then. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, everyMs = 25): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

export const randomToken = () => randomBytes(32).toString('hex');

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'inlets-test-'));
  track(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A TCP server on 127.0.0.1:0 running `onSocket` for each connection (half open allowed). */
export async function tcpServer(onSocket: (s: Socket) => void): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  track(() => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(r));
  });
  return { server, port: (server.address() as { port: number }).port, sockets };
}

/** An upstream that echoes every byte and ends when its peer ends (pipe ends it). */
export const echoUpstream = () => tcpServer((s) => s.pipe(s));

/** An upstream that answers every connection with `name\n` and then echoes. */
export const namedUpstream = (name: string) =>
  tcpServer((s) => {
    s.write(`${name}\n`);
    s.pipe(s);
  });

/** Connects to 127.0.0.1:`port`. */
export function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ port, host: '127.0.0.1', noDelay: true });
    s.once('connect', () => (s.off('error', reject), resolve(s)));
    s.once('error', reject);
    track(() => s.destroy());
  });
}

/** Reads `socket` until it ends; resolves with the bytes' sha256 and count. */
export function hashUntilEnd(socket: Socket): Promise<{ sha256: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let bytes = 0;
    socket.on('data', (d: Buffer) => {
      h.update(d);
      bytes += d.length;
    });
    socket.once('end', () => resolve({ sha256: h.digest('hex'), bytes }));
    socket.once('error', reject);
  });
}

/** Reads everything until end (or close) as one buffer. */
export function readAll(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    socket.on('data', (d: Buffer) => parts.push(d));
    socket.once('end', () => resolve(Buffer.concat(parts)));
    socket.once('error', reject);
  });
}

/** Reads one `\n`-terminated line. */
export function readLine(socket: Socket, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => done(new Error(`no line within ${timeoutMs} ms (got ${JSON.stringify(text)})`)), timeoutMs);
    const onData = (d: Buffer) => {
      text += d.toString();
      const i = text.indexOf('\n');
      if (i >= 0) done(null, text.slice(0, i));
    };
    const onEnd = () => done(new Error(`connection ended before a line (got ${JSON.stringify(text)})`));
    const done = (err: Error | null, line?: string) => {
      clearTimeout(timer);
      socket.off('data', onData).off('end', onEnd).off('close', onEnd);
      if (err) reject(err);
      else resolve(line!);
    };
    socket.on('data', onData).once('end', onEnd).once('close', onEnd);
  });
}

/** A self-signed identity for 127.0.0.1, made once per test file. */
let identity: ReturnType<typeof generateSelfSigned> | undefined;
export function testIdentity() {
  identity ??= generateSelfSigned({ commonName: 'inlets-test', ips: ['127.0.0.1'] });
  return identity;
}

/** An in-process TunnelServer on 127.0.0.1 with TLS; its data ports bind 127.0.0.1 too. */
export async function startServer(opts: Partial<TunnelServerOptions> = {}) {
  const id = testIdentity();
  const token = opts.token ?? randomToken();
  const server = new TunnelServer({ controlAddr: '127.0.0.1', controlPort: 0, dataAddr: '127.0.0.1', tls: { certPem: id.certPem, keyPem: id.keyPem }, ...opts, token });
  const { port } = await server.start();
  track(() => server.stop());
  const tls = opts.tls !== null;
  return { server, token, port, pin: id.pin, url: `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}` };
}

/** An in-process TunnelClient; resolves once the server welcomed it (or rejects on `fatal`). */
export async function startClient(opts: Partial<TunnelClientOptions> & Pick<TunnelClientOptions, 'url' | 'token' | 'upstreams'>, waitWelcome = true) {
  const client = new TunnelClient({ trust: {}, reconnect: { initialMs: 100, maxMs: 1000 }, ...opts });
  track(() => client.stop());
  const welcomed = new Promise<{ accepted: number[]; refused: { port: number; code: string; message: string }[] }>((resolve, reject) => {
    client.once('welcome', (accepted, refused) => resolve({ accepted, refused }));
    client.once('fatal', reject);
  });
  welcomed.catch(() => {});
  const fatal = new Promise<Error & { code?: string }>((resolve) => client.once('fatal', resolve));
  client.start();
  const welcome = waitWelcome ? await welcomed : undefined;
  return { client, welcome, welcomed, fatal };
}

/** A running `node dist/inlets.mjs …` with its output collected. */
export interface InletsProcess {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  /** Waits until stdout+stderr match `re`. */
  waitOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Spawns the bundle; secrets go through `env`, never `args`. */
export function spawnInlets(args: string[], env: Record<string, string> = {}): InletsProcess {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run npm run build first`);
  const child = spawn(process.execPath, [BUNDLE, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  let exitedNow = false;
  void exited.then(() => (exitedNow = true));
  const p: InletsProcess = {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitOutput(re, timeoutMs = 30_000) {
      await waitFor(() => {
        if (re.test(out + err)) return true;
        if (exitedNow) throw new Error(`inlets exited before printing ${re}; stderr:\n${err}`);
        return false;
      }, `output ${re} (stderr so far:\n${err})`, timeoutMs);
    },
    async kill(signal = 'SIGTERM') {
      if (!exitedNow) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  track(() => p.kill('SIGKILL'));
  return p;
}

/** Resident set size of a process in bytes, from /proc/PID/status. */
export function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** GET on a TLS control port (certificate not verified: tests pin elsewhere). */
export function controlGet(port: number, path: string, token?: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const req = httpsRequest({ host: '127.0.0.1', port, path, rejectUnauthorized: false, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}
