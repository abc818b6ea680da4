/**
 * `inletsctl test`: proves an exit node works end to end from the user's side. It starts a
 * throw-away echo server on 127.0.0.1, connects an in-process engine client with the tunnel's
 * token and pin that serves one data port from that echo server, then talks to the node's PUBLIC
 * address (ip:port) as any visitor would: a burst of small pings (round trip) and one bounded
 * transfer with a SHA-256 checksum (throughput). Everything it started is stopped, also on failure.
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { CodedError, UsageError } from '../errors.js';
import { TunnelClient, type Refusal } from '../engine/client/tunnel-client.js';
import { within } from '../util/within.js';

/** What the test needs of a tunnel record (a subset of the state file's TunnelRecord). */
export interface TunnelTestTarget {
  name: string;
  ip?: string;
  token: string;
  /** `sha256:<hex>` pin of the server key. */
  pin: string;
  controlPort: number;
}

export interface TunnelTestOptions {
  /** Public data port to advertise. Default: a random port in 20000–29999 (retried if in use). */
  port?: number;
  /** Round trips measured after one warm-up. Default 20. */
  pings?: number;
  /** Bytes echoed through the tunnel for the throughput figure. Default 16 MiB, at most 1 GiB. */
  transferBytes?: number;
  /** Limit for connecting and for the pings, in ms. Default 30 000. */
  timeoutMs?: number;
  /** Limit for the transfer, in ms. Default 180 000. */
  transferTimeoutMs?: number;
  /** Progress lines (no secrets). */
  log?: (line: string) => void;
}

/** The result; every figure was measured, none is estimated. */
/** The figures both kinds of test measure; every one measured, none estimated. */
export interface TrafficFigures {
  name: string;
  port: number;
  /** From starting the client to the server's `welcome`, in ms. */
  connectMs: number;
  /** From opening a public connection to its first echoed byte (stream setup included), in ms. */
  firstByteMs: number;
  roundTrip: { samples: number; p50Ms: number; minMs: number; maxMs: number };
  /** Echoed transfer: each byte crossed the tunnel both ways. MB = 10^6 bytes. */
  throughput: { bytes: number; seconds: number; mbPerSec: number; sha256: string };
  checksumOk: true;
  totalMs: number;
}

export interface TestReport extends TrafficFigures {
  /** The public address traffic was sent to, `ip:port`. */
  address: string;
}

const DEFAULT_TRANSFER = 16 * 1024 * 1024;
const MAX_TRANSFER = 1024 * 1024 * 1024;
const PING_BYTES = 64;
const PORT_ATTEMPTS = 5;

const failed = (code: string, message: string, cause?: unknown) => new CodedError(code, message, { cause });
const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** A throw-away TCP echo server on 127.0.0.1. */
async function startEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The settings both kinds of test share, checked; the target's IP. */
export function testSettings(target: { name: string; ip?: string }, opts: Pick<TunnelTestOptions, 'pings' | 'transferBytes' | 'timeoutMs' | 'log'>) {
  const log = opts.log ?? (() => {});
  const pings = opts.pings ?? 20;
  const bytes = opts.transferBytes ?? DEFAULT_TRANSFER;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  if (!Number.isInteger(pings) || pings < 1 || pings > 10_000) throw new UsageError('--pings must be between 1 and 10000');
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > MAX_TRANSFER) throw new UsageError(`the transfer size must be between 1 byte and ${MAX_TRANSFER} bytes`);
  if (!target.ip) throw failed('TEST_NOT_READY', `tunnel "${target.name}" has no public IP yet; wait for create to finish (see: inletsctl list)`);
  return { log, pings, bytes, timeoutMs, ip: target.ip };
}

type Welcome = { ok: true } | { ok: false; refusal: Refusal };

/** What the server's first welcome said: accepted ports, refused ones, and (HTTP mode) hosts. */
export interface WelcomeAnswer {
  accepted: number[];
  refused: Refusal[];
  hosts: string[];
}

/** Starts a client and resolves with the server's first welcome; fails on any session error. */
export function firstWelcome(client: TunnelClient): Promise<WelcomeAnswer> {
  return new Promise((resolve, reject) => {
    const done = () => (client.off('welcome', onWelcome), client.off('fatal', onError), client.off('disconnected', onError));
    const onWelcome = (accepted: number[], refused: Refusal[], hosts: string[] = []) => (done(), resolve({ accepted, refused, hosts }));
    // No reconnect loop here: the node answered at create time, so any error is the finding.
    const onError = (err?: Error) => (done(), reject(err ?? new Error('the session closed')));
    client.on('welcome', onWelcome);
    client.on('fatal', onError);
    client.on('disconnected', onError);
    client.start();
  });
}

/** The server's verdict on `port`. */
async function awaitWelcome(client: TunnelClient, port: number): Promise<Welcome> {
  const { accepted, refused } = await firstWelcome(client);
  if (accepted.includes(port)) return { ok: true };
  return { ok: false, refusal: refused.find((r) => r.port === port) ?? { port, code: 'REFUSED', message: 'not accepted' } };
}

/** Round-trip samples (ms) → the report's figures. */
export function roundTripFigures(samples: number[]): TrafficFigures['roundTrip'] {
  const xs = [...samples].sort((a, b) => a - b);
  const p50Ms = xs.length % 2 ? xs[(xs.length - 1) / 2]! : (xs[xs.length / 2 - 1]! + xs[xs.length / 2]!) / 2;
  return { samples: xs.length, p50Ms, minMs: xs[0]!, maxMs: xs[xs.length - 1]! };
}

/** Reads exact byte counts from a socket, failing if it ends or errors first. */
class ExactReader {
  private buffered = Buffer.alloc(0);
  private pending?: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void };
  private ended?: Error;
  constructor(socket: Socket) {
    socket.on('data', (d: Buffer) => ((this.buffered = Buffer.concat([this.buffered, d])), this.check()));
    const end = (err?: Error) => ((this.ended ??= err ?? new Error('the connection was closed by the exit node')), this.check());
    socket.on('end', () => end());
    socket.on('close', () => end());
    socket.on('error', end);
  }
  read(n: number): Promise<Buffer> {
    return new Promise((resolve, reject) => ((this.pending = { n, resolve, reject }), this.check()));
  }
  private check(): void {
    const p = this.pending;
    if (!p) return;
    if (this.buffered.length >= p.n) {
      this.pending = undefined;
      const out = this.buffered.subarray(0, p.n);
      this.buffered = this.buffered.subarray(p.n);
      p.resolve(out);
    } else if (this.ended) {
      this.pending = undefined;
      p.reject(this.ended);
    }
  }
}

function openPublic(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
    socket.once('connect', () => (socket.off('error', reject), resolve(socket)));
    socket.once('error', reject);
  });
}

/** One warm-up exchange (stream setup) and `count` timed 64-byte round trips on one connection. */
async function measureRoundTrips(socket: Socket, count: number, startedAt: number) {
  const reader = new ExactReader(socket);
  const exchange = async () => {
    const payload = randomBytes(PING_BYTES);
    const t0 = performance.now();
    socket.write(payload);
    const echoed = await reader.read(PING_BYTES);
    if (!echoed.equals(payload)) throw failed('TEST_ECHO_MISMATCH', 'the echo through the tunnel did not match what was sent');
    return performance.now() - t0;
  };
  await exchange();
  const firstByteMs = performance.now() - startedAt;
  const samples: number[] = [];
  for (let i = 0; i < count; i++) samples.push(await exchange());
  return { firstByteMs, roundTrip: roundTripFigures(samples) };
}

/** Sends `bytes` random bytes and checks the echo's length and SHA-256; returns the timing. */
async function measureThroughput(socket: Socket, bytes: number, progress: { received: number }) {
  const data = randomBytes(bytes);
  const sent = createHash('sha256').update(data).digest('hex');
  const hash = createHash('sha256');
  const t0 = performance.now();
  const seconds = await new Promise<number>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      progress.received += chunk.length;
      hash.update(chunk);
      if (progress.received === bytes) resolve((performance.now() - t0) / 1000);
      if (progress.received > bytes) reject(failed('TEST_ECHO_MISMATCH', `the echo returned ${progress.received} bytes for ${bytes} sent`));
    });
    const short = () => reject(failed('TEST_ECHO_MISMATCH', `the connection ended after ${progress.received} of ${bytes} echoed bytes`));
    socket.once('close', short);
    socket.once('error', (err) => reject(failed('TEST_PUBLIC_FAILED', `the public connection failed: ${err.message}`, err)));
    socket.end(data);
  });
  const got = hash.digest('hex');
  if (got !== sent) throw failed('TEST_ECHO_MISMATCH', `the ${bytes} bytes echoed through the tunnel differ from those sent (SHA-256 ${got.slice(0, 12)}… ≠ ${sent.slice(0, 12)}…)`);
  return { bytes, seconds, mbPerSec: bytes / seconds / 1e6, sha256: sent };
}

/**
 * Tests the tunnel described by `target`; resolves with the figures or throws CodedError
 * (`TEST_NOT_READY`, `TEST_CONTROL_FAILED`, `TEST_PORT_REFUSED`, `TEST_PUBLIC_UNREACHABLE`,
 * `TEST_PUBLIC_FAILED`, `TEST_ECHO_MISMATCH`, `TEST_TIMEOUT`). Nothing started here outlives it.
 */
export async function runTunnelTest(target: TunnelTestTarget, opts: TunnelTestOptions = {}): Promise<TestReport> {
  if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port >= 1 && opts.port <= 65535)) throw new UsageError(`--port ${opts.port} is not a port (1-65535)`);
  const { log, pings, bytes, timeoutMs, ip } = testSettings(target, opts);
  const url = `wss://${hostPort(ip, target.controlPort)}`;
  const started = performance.now();

  const echo = await startEcho();
  let client: TunnelClient | undefined;
  const sockets: Socket[] = [];
  try {
    // 1. Connect the client, finding a data port the node can bind.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = opts.port ?? 20_000 + Math.floor(Math.random() * 10_000);
      log(`connecting to ${url} (pinned key), serving public port ${port}`);
      client = new TunnelClient({
        url,
        token: target.token,
        clientId: `inletsctl-test-${randomBytes(4).toString('hex')}`,
        trust: { pin: target.pin },
        upstreams: new Map([[port, { host: '127.0.0.1', port: echo.port }]]),
      });
      const welcome = await within(timeoutMs, awaitWelcome(client, port), () => failed('TEST_TIMEOUT', `no answer from ${url} within ${timeoutMs} ms`)).catch((err: Error) => {
        if (err instanceof CodedError && err.code.startsWith('TEST_')) throw err;
        throw failed('TEST_CONTROL_FAILED', `cannot connect a tunnel client to ${url}: ${err.message}`, err);
      });
      if (welcome.ok) break;
      await client.stop();
      client = undefined;
      const { refusal } = welcome;
      if (refusal.code === 'PORT_IN_USE' && opts.port === undefined && attempt < PORT_ATTEMPTS) continue;
      throw failed('TEST_PORT_REFUSED', `the exit node refused public port ${port}: ${refusal.message} (${refusal.code})${opts.port === undefined ? '; choose an allowed port with --port' : ''}`);
    }
    const connectMs = performance.now() - started;
    const address = hostPort(ip, port);

    // 2. Round trips through the public address.
    log(`sending ${pings} pings to ${address}`);
    const openedAt = performance.now();
    const unreachable = (err: Error) =>
      failed('TEST_PUBLIC_UNREACHABLE', `cannot connect to ${address} from here (${(err as NodeJS.ErrnoException).code ?? err.message}); a firewall may block the port: try --port with a port opened at create`, err);
    const pingSocket = await within(timeoutMs, openPublic(ip, port), () => failed('TEST_TIMEOUT', `connecting to ${address} took longer than ${timeoutMs} ms; a firewall may drop the port`)).catch((err: Error) => {
      throw err instanceof CodedError ? err : unreachable(err);
    });
    sockets.push(pingSocket);
    const rt = await within(timeoutMs, measureRoundTrips(pingSocket, pings, openedAt), () => failed('TEST_TIMEOUT', `the pings through ${address} did not finish within ${timeoutMs} ms`)).catch((err: Error) => {
      throw err instanceof CodedError ? err : failed('TEST_PUBLIC_FAILED', `the ping connection to ${address} failed: ${err.message}`, err);
    });
    pingSocket.destroy();

    // 3. Throughput with a checksum.
    log(`echoing ${(bytes / 1048576).toFixed(1)} MiB through ${address}`);
    const transferTimeout = opts.transferTimeoutMs ?? 180_000;
    const progress = { received: 0 };
    const dataSocket = await openPublic(ip, port).catch((err: Error) => Promise.reject(unreachable(err)));
    sockets.push(dataSocket);
    const throughput = await within(transferTimeout, measureThroughput(dataSocket, bytes, progress), () =>
      failed('TEST_TIMEOUT', `the transfer through ${address} did not finish within ${transferTimeout} ms (${progress.received} of ${bytes} bytes echoed)`),
    );
    return { name: target.name, address, port, connectMs, ...rt, throughput, checksumOk: true, totalMs: performance.now() - started };
  } finally {
    for (const s of sockets) s.destroy();
    if (client) await within(10_000, client.stop(), () => new Error('stop timed out')).catch(() => {});
    await echo.close();
  }
}

/** The human summary printed by `inletsctl test`. */
export function formatTestReport(r: TestReport): string {
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  return [
    `Tunnel ${r.name} works: traffic went through ${r.address} and back.`,
    `  connect       ${ms(r.connectMs)} (client to welcome), first byte ${ms(r.firstByteMs)}`,
    `  round trip    p50 ${ms(r.roundTrip.p50Ms)} over ${r.roundTrip.samples} pings (min ${ms(r.roundTrip.minMs)}, max ${ms(r.roundTrip.maxMs)})`,
    `  throughput    ${r.throughput.mbPerSec.toFixed(1)} MB/s echoed (${(r.throughput.bytes / 1048576).toFixed(1)} MiB in ${r.throughput.seconds.toFixed(2)} s, SHA-256 matched)`,
    '',
  ].join('\n');
}
