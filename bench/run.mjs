#!/usr/bin/env node
// `npm run bench`: measures direct loopback, `ssh -R` (OpenSSH) and our tunnel in one run with the
// same workloads (TCP: iperf3 and the load client; HTTP: wrk against an upstream of our own), prints
// a table with inlets/ssh ratios and the issues' goals, and writes the figures to
// bench/results/<timestamp>.json. Node built-ins and child processes only; it installs nothing
// (bench/README.md lists what it needs). Everything stays on 127.0.0.1.
import { parseArgs } from 'node:util';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, existsSync, statSync, readFileSync, accessSync, constants } from 'node:fs';
import { tmpdir, cpus, loadavg, hostname } from 'node:os';
import { join, dirname, delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { startProcess, waitForOutput, runToEnd, killAll, killAllSync, killEntry, rssSum, freePorts, sleep, tail, cpuSnapshot, cpuDelta } from './lib/procs.mjs';
import { startIperfServer, runIperf } from './lib/iperf.mjs';
import { startSshPath, SSHD } from './lib/ssh-path.mjs';
import { startInletsPath, startInletsHttpPath } from './lib/inlets-path.mjs';
import { runWrk, WRK } from './lib/wrk.mjs';
import { figureTable, renderTable, evaluateGoals, renderGoals } from './lib/report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
/** The engine under test; INLETS_BENCH_BUNDLE points at another build (e.g. a release) instead. */
const BUNDLE = process.env.INLETS_BENCH_BUNDLE || join(root, 'dist', 'inlets.mjs');
const LOAD_CLIENT = join(here, 'lib', 'load-client.mjs');
const ECHO_SERVER = join(here, 'lib', 'echo-server.mjs');
const DELAY_RELAY = join(here, 'lib', 'delay-relay.mjs');
const HTTP_SERVER = join(here, 'lib', 'http-server.mjs');
const ALL_PATHS = ['direct', 'ssh', 'inlets'];

const HELP = `Usage: npm run bench -- [--quick] [--only direct,ssh,inlets] [--wan-rtt 50,100|none]
       node bench/run.mjs [--quick] [--only ...] [--wan-rtt ...]   (after npm run build)

Measures direct loopback, ssh -R and the inlets tunnel with the same workloads and prints a
table with inlets/ssh ratios. The HTTP rows put wrk through ssh -R and inlets http mode. Needs
iperf3, wrk, openssh-server and openssh-client (see bench/README.md).

  --quick          shorter runs and fewer samples (a smoke run, figures are rough)
  --only LIST      comma-separated subset of: ${ALL_PATHS.join(', ')}
  --wan-rtt LIST   added round trips in ms for the WAN stand-in (a delay relay on the control
                   connection of ssh -R and inlets); default 50,100; "none" skips that phase
  --help           this text`;

let flags;
try {
  ({ values: flags } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'wan-rtt': { type: 'string', default: '50,100' },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (err) {
  console.error(`bench: ${err.message}\n\n${HELP}`);
  process.exit(2);
}
if (flags.help) {
  console.log(HELP);
  process.exit(0);
}
const selected = flags.only ? flags.only.split(',').map((s) => s.trim()).filter(Boolean) : ALL_PATHS;
for (const p of selected) {
  if (!ALL_PATHS.includes(p)) {
    console.error(`--only: unknown path "${p}"; use some of ${ALL_PATHS.join(', ')}`);
    process.exit(2);
  }
}

const wanRtts = flags['wan-rtt'] === 'none' ? [] : flags['wan-rtt'].split(',').map((s) => Number(s.trim()));
if (wanRtts.some((v) => !Number.isFinite(v) || v <= 0 || v > 1000)) {
  console.error('--wan-rtt: a comma-separated list of round trips in ms (1-1000), or "none"');
  process.exit(2);
}

/** Durations and counts; --quick shrinks them for a smoke run. */
const S = flags.quick
  ? { wanIperfSeconds: 4, iperfSeconds: 2, rttCount: 1000, rttWarmup: 100, connectCount: 60, connectB2bCount: 100, connectWarmup: 10, holSeconds: 4, holInteractiveMs: 2000, conns: 1000, connsConcurrency: 100, settleMs: 500, httpSeconds: 3, httpWarmupSeconds: 1 }
  : { wanIperfSeconds: 8, iperfSeconds: 5, rttCount: 5000, rttWarmup: 500, connectCount: 300, connectB2bCount: 300, connectWarmup: 10, holSeconds: 7, holInteractiveMs: 4500, conns: 1000, connsConcurrency: 100, settleMs: 1000, httpSeconds: 10, httpWarmupSeconds: 2 };
/** wrk's threads and keep-alive connections for the HTTP rows, and the upstream's body size. */
const WRK_THREADS = 2;
const WRK_CONNECTIONS = 32;
const HTTP_BODY_BYTES = 1024;
const HOL_GAP_MS = 1;
/**
 * Pause between paced fresh connections. It outlasts Linux's 40 ms delayed ACK, so the previous
 * connection's teardown never holds up the next one's first byte (ssh -R shows 40 ms stalls from
 * Nagle's algorithm on its transport when connections come back to back; that figure is kept too).
 */
const CONNECT_GAP_MS = 50;

// ---------------------------------------------------------------------------------------------
// Prerequisites: fail early with the Debian package to install.

function onPath(cmd) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}

function checkPrerequisites() {
  const missing = [];
  if (!onPath('iperf3')) missing.push('iperf3 (Debian package "iperf3")');
  if (!onPath(WRK)) missing.push('wrk (Debian package "wrk")');
  if (selected.includes('ssh')) {
    if (!existsSync(SSHD)) missing.push(`${SSHD} (Debian package "openssh-server")`);
    if (!onPath('ssh') || !onPath('ssh-keygen')) missing.push('ssh and ssh-keygen (Debian package "openssh-client")');
  }
  if (missing.length) {
    console.error(`bench: missing ${missing.join('; ')}.\nInstall them (for example: sudo apt-get install iperf3 wrk openssh-server openssh-client) and run again.`);
    process.exit(2);
  }
  if (selected.includes('inlets') && !existsSync(BUNDLE)) {
    console.error(`bench: ${BUNDLE} not found; run "npm run build" first (npm run bench does).`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------------------------
// Cleanup on every way out.

let tmp = null;
let cleaning = null;
async function cleanup() {
  cleaning ??= (async () => {
    await killAll();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  })();
  return cleaning;
}
process.on('exit', () => {
  killAllSync();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`\nbench: ${sig}, stopping every process it started`);
    const hard = setTimeout(() => process.exit(130), 5000);
    hard.unref();
    cleanup().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// Workload helpers.

/** Runs one load-client mode in its own process and returns its JSON result. */
async function runLoad(mode, opts, timeoutMs) {
  const res = await runToEnd(`load client ${mode}`, process.execPath, [LOAD_CLIENT, mode, JSON.stringify(opts)], timeoutMs);
  const last = res.stdout.trim().split('\n').pop() ?? '';
  let out;
  try {
    out = JSON.parse(last);
  } catch {
    throw new Error(`load client ${mode} gave no result (code ${res.code}, signal ${res.signal}) ${res.stderr.slice(-400)}`);
  }
  if (out.error) throw new Error(`load client ${mode}: ${out.error}`);
  return out;
}

/**
 * One connection to 127.0.0.1:port: sends `request`, then `verdict(received so far)` says true
 * (ready), false (not ready) or undefined (read on); false on any failure within `timeoutMs`.
 */
function probe(port, timeoutMs, request, verdict) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let got = '';
    const done = (ok) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
    socket.on('connect', () => socket.write(request));
    socket.on('data', (d) => {
      got += d.toString('latin1');
      const ok = verdict(got);
      if (ok !== undefined) done(ok);
    });
  });
}

/** One byte and its echo. */
const probeEcho = (port, timeoutMs) => probe(port, timeoutMs, '?', (got) => got === '?');

/** GET / answered 200 with the upstream's whole body. */
const probeHttp = (port, timeoutMs) =>
  probe(port, timeoutMs, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`, (got) => {
    const end = got.indexOf('\r\n\r\n');
    if (end === -1) return undefined;
    if (!/^HTTP\/1\.1 200 /.test(got)) return false;
    return got.length - end - 4 >= HTTP_BODY_BYTES ? true : undefined;
  });

/** Polls `check(port)` until it is true (bounded), failing fast if the tunnel died; `what` names it in the error. */
async function waitUntilProbe(path, port, check, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = path?.alive();
    if (dead) throw new Error(`${dead.name} exited (code ${dead.code}, signal ${dead.signal}) before the tunnel was ready\n${tail(dead)}`);
    if (await check(port, 1000)) return;
    await sleep(150);
  }
  throw new Error(`no ${what} from 127.0.0.1:${port} within ${timeoutMs} ms${path ? `\n${path.processes.map((p) => tail(p)).join('\n')}` : ''}`);
}

/** Polls the public echo port until a connection gets echoed (bounded), failing fast if the tunnel died. */
const waitReady = (path, port, timeoutMs = 30000) => waitUntilProbe(path, port, probeEcho, 'echo', timeoutMs);

/** Polls GET / on the public HTTP port until the upstream answers (bounded), failing fast if the tunnel died. */
const waitHttpReady = (path, port, timeoutMs = 30000) => waitUntilProbe(path, port, probeHttp, 'HTTP 200', timeoutMs);

function rssOf(path) {
  if (!path) return null;
  const serverPids = path.serverPids();
  const clientPids = path.clientPids();
  return { serverRssBytes: rssSum(serverPids), clientRssBytes: rssSum(clientPids), serverPids, clientPids };
}

/** Bulk iperf3 through the path while a separate load client measures 1-byte round trips. */
async function headOfLine(ports) {
  const bulk = runIperf(ports.iperf, S.holSeconds, 1);
  bulk.catch(() => {}); // settled below; a failure during the sleep must not be unhandled
  // Let the bulk stream fill the tunnel before the interactive stream starts measuring.
  await sleep(1000);
  const interactive = runLoad('interactive', { port: ports.echo, durationMs: S.holInteractiveMs, gapMs: HOL_GAP_MS }, S.holInteractiveMs + 30000);
  const [b, i] = await Promise.allSettled([bulk, interactive]);
  if (i.status === 'rejected') throw i.reason;
  return { interactive: i.value, bulk: b.status === 'fulfilled' ? b.value : { error: b.reason.message }, gapMs: HOL_GAP_MS };
}

/**
 * Runs a bulk iperf3 through the path and reads user+system CPU seconds of the tunnel's server-side
 * processes (for ssh every sshd below the listener) and client-side process before and after.
 */
async function bulkWithCpu(path, port, seconds, streams) {
  if (!path) return runIperf(port, seconds, streams);
  const serverBefore = cpuSnapshot(path.serverPids());
  const clientBefore = cpuSnapshot(path.clientPids());
  const out = await runIperf(port, seconds, streams);
  const serverSeconds = cpuDelta(serverBefore, [...new Set([...serverBefore.keys(), ...path.serverPids()])]);
  const clientSeconds = cpuDelta(clientBefore, path.clientPids());
  const gib = out.bytes ? out.bytes / 2 ** 30 : null;
  const per = (v) => (gib ? Math.round((v / gib) * 1000) / 1000 : null);
  out.cpu = {
    serverSeconds: Math.round(serverSeconds * 100) / 100,
    clientSeconds: Math.round(clientSeconds * 100) / 100,
    gib: gib === null ? null : Math.round(gib * 1000) / 1000,
    serverPerGiB: per(serverSeconds),
    clientPerGiB: per(clientSeconds),
    totalPerGiB: per(serverSeconds + clientSeconds),
  };
  return out;
}

/**
 * Runs `fn` and adds `cpuPerRoundTripUs`: user+system CPU µs per round trip of the tunnel's
 * server-side and client-side processes (`count` round trips, warm-up included).
 */
async function withCpu(path, count, fn) {
  if (!path) return fn();
  const serverBefore = cpuSnapshot(path.serverPids());
  const clientBefore = cpuSnapshot(path.clientPids());
  const out = await fn();
  const us = (v) => Math.round((v / count) * 1e7) / 10;
  out.cpuPerRoundTripUs = {
    server: us(cpuDelta(serverBefore, [...new Set([...serverBefore.keys(), ...path.serverPids()])])),
    client: us(cpuDelta(clientBefore, path.clientPids())),
  };
  return out;
}

/** Starts the WAN delay relay in front of `targetPort`; resolves with its port. */
async function startRelay(targetPort, rttMs, relays) {
  const entry = startProcess(`delay relay ${rttMs} ms`, process.execPath, [DELAY_RELAY, JSON.stringify({ targetPort, oneWayMs: rttMs / 2 })]);
  relays.push(entry);
  const [, port] = await waitForOutput(entry, /"port":(\d+)/, 10000, 'port line');
  return Number(port);
}

/** How late the relay delivered chunks beyond their due time since the last ask (ms), one relay. */
async function relayLateness(relays) {
  const entry = relays[0];
  if (!entry || entry.exited) return null;
  const before = entry.stdout.length;
  entry.child.stdin.write('stats\n');
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    const m = /\{"lateness":(\{[^}]*\})\}/.exec(entry.stdout.slice(before));
    if (m) return JSON.parse(m[1]);
    await sleep(20);
  }
  return null;
}

/** One path with its control connection through the delay relay: single stream and head-of-line. */
async function measureWan(name, rttMs, upstream) {
  const result = { rttMs };
  const dir = join(tmp, `${name}-wan-${rttMs}`);
  mkdirSync(dir, { recursive: true });
  const relays = [];
  const via = (port) => startRelay(port, rttMs, relays);
  let path = null;
  console.log(`\n== ${name}, control connection through a +${rttMs} ms round-trip relay`);
  try {
    const [iperfPublic, echoPublic] = await freePorts(2);
    const forwards = [
      { publicPort: iperfPublic, upstreamPort: upstream.iperf },
      { publicPort: echoPublic, upstreamPort: upstream.echo },
    ];
    path = name === 'ssh' ? await startSshPath({ dir, forwards, via }) : await startInletsPath({ bundle: BUNDLE, dir, forwards, via });
    const ports = { iperf: iperfPublic, echo: echoPublic };
    const t0 = Date.now();
    await waitReady(path, ports.echo);
    result.readyMs = Date.now() - t0;
    console.log(`    ready after ${result.readyMs} ms`);
    await sleep(S.settleMs);
    await step(result, 'single', 'iperf3, 1 stream', () => runIperf(ports.iperf, S.wanIperfSeconds, 1), path);
    await relayLateness(relays);
    await step(result, 'hol', 'head-of-line', async () => ({ ...(await headOfLine(ports)), relayLateness: await relayLateness(relays) }), path);
  } catch (err) {
    result.error = err.message;
    console.log(`    ERROR ${err.message.split('\n')[0]}`);
  } finally {
    await path?.stop();
    for (const r of relays) await killEntry(r);
  }
  return result;
}

/**
 * Runs wrk through the path and adds `cpuPerRequestUs`: user+system CPU µs per completed request of
 * the tunnel's server-side and client-side processes over the run.
 */
async function wrkWithCpu(path, port, seconds) {
  const run = () => runWrk({ port, threads: WRK_THREADS, connections: WRK_CONNECTIONS, seconds });
  if (!path) return run();
  const serverBefore = cpuSnapshot(path.serverPids());
  const clientBefore = cpuSnapshot(path.clientPids());
  const out = await run();
  const serverSeconds = cpuDelta(serverBefore, [...new Set([...serverBefore.keys(), ...path.serverPids()])]);
  const clientSeconds = cpuDelta(clientBefore, path.clientPids());
  const us = (v) => (out.requests ? Math.round((v / out.requests) * 1e7) / 10 : null);
  out.cpuPerRequestUs = { server: us(serverSeconds), client: us(clientSeconds) };
  return out;
}

/**
 * The HTTP rows: a fresh path carrying only the HTTP upstream's port (direct: none; ssh: its own
 * sshd and `ssh -R`; inlets: `http server` + `http client`), a wrk warm-up, then the measured run.
 */
async function measureHttp(name, upstream) {
  const result = {};
  const dir = join(tmp, `${name}-http`);
  mkdirSync(dir, { recursive: true });
  let path = null;
  console.log(`\n== ${name}, HTTP (wrk -t${WRK_THREADS} -c${WRK_CONNECTIONS} -d${S.httpSeconds}s, ${HTTP_BODY_BYTES}-byte body)`);
  try {
    let port = upstream.http;
    if (name === 'ssh') {
      [port] = await freePorts(1);
      path = await startSshPath({ dir, forwards: [{ publicPort: port, upstreamPort: upstream.http }] });
    } else if (name === 'inlets') {
      let tlsPort;
      [port, tlsPort] = await freePorts(2);
      path = await startInletsHttpPath({ bundle: BUNDLE, dir, publicPort: port, tlsPort, upstreamPort: upstream.http });
    }
    const t0 = Date.now();
    await waitHttpReady(path, port);
    result.readyMs = Date.now() - t0;
    console.log(`    ready after ${result.readyMs} ms`);
    await sleep(S.settleMs);
    await step(result, 'warmup', `wrk warm-up, ${S.httpWarmupSeconds} s (not counted)`, () => runWrk({ port, threads: WRK_THREADS, connections: WRK_CONNECTIONS, seconds: S.httpWarmupSeconds }), path);
    await step(result, 'wrk', 'wrk', () => wrkWithCpu(path, port, S.httpSeconds), path);
  } catch (err) {
    result.error = err.message;
    console.log(`    ERROR ${err.message.split('\n')[0]}`);
  } finally {
    if (path) result.processOutput = Object.fromEntries(path.processes.filter(Boolean).map((p) => [p.name, `${p.stdout}\n${p.stderr}`.trim().slice(-2000)]));
    await path?.stop();
  }
  return result;
}

/** Holds S.conns connections open through the path and reads the server-side RSS meanwhile. */
async function manyConnections(path, ports) {
  const opts = { port: ports.echo, count: S.conns, concurrency: S.connsConcurrency };
  const entry = startProcess('load client conns', process.execPath, [LOAD_CLIENT, 'conns', JSON.stringify(opts)]);
  const timer = setTimeout(() => entry.child.kill('SIGKILL'), 120000);
  try {
    await waitForOutput(entry, /"event":"holding"/, 90000, 'holding line');
    await sleep(500);
    let serverRssBytes = null;
    let serverPids = [];
    for (let i = 0; i < 3 && path; i++) {
      serverPids = path.serverPids();
      serverRssBytes = Math.max(serverRssBytes ?? 0, rssSum(serverPids));
      await sleep(200);
    }
    const clientRssBytes = path ? rssSum(path.clientPids()) : null;
    entry.child.stdin.write('release\n');
    await entry.exit;
    const last = entry.stdout.trim().split('\n').pop() ?? '';
    const out = JSON.parse(last);
    if (out.error) throw new Error(`load client conns: ${out.error}`);
    return { ...out, serverRssBytes, clientRssBytes, serverPids };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn`, storing its result under `key` or `{ error }`; logs one line either way. */
async function step(result, key, label, fn, path) {
  const dead = path?.alive();
  if (dead) {
    result[key] = { error: `skipped: ${dead.name} is no longer running` };
    console.log(`    ${label}: skipped (${dead.name} exited)`);
    return;
  }
  const t0 = Date.now();
  try {
    result[key] = await fn();
    console.log(`    ${label}: ${summary(key, result[key])}  [${((Date.now() - t0) / 1000).toFixed(1)} s]`);
  } catch (err) {
    result[key] = { error: err.message };
    console.log(`    ${label}: ERROR ${err.message.split('\n')[0]}`);
  }
}

function summary(key, v) {
  const mb = (b) => (typeof b === 'number' ? `${(b / 1048576).toFixed(1)} MiB` : '-');
  switch (key) {
    case 'idle':
    case 'after':
      return `server ${mb(v.serverRssBytes)}, client ${mb(v.clientRssBytes)}`;
    case 'rtt':
      return `p50 ${v.p50} µs, p99 ${v.p99} µs (n=${v.n})${v.cpuPerRoundTripUs ? `; CPU µs per round trip: server ${v.cpuPerRoundTripUs.server}, client ${v.cpuPerRoundTripUs.client}` : ''}`;
    case 'connect':
    case 'connectBackToBack':
      return `p50 ${v.p50} ms, p99 ${v.p99} ms (n=${v.n}, errors ${v.errors})`;
    case 'single':
    case 'multi':
      return `${v.gbps} Gbit/s${v.cpu ? `; CPU s/GiB server ${v.cpu.serverPerGiB}, client ${v.cpu.clientPerGiB}, total ${v.cpu.totalPerGiB}` : ''}`;
    case 'hol':
      return `interactive p50 ${v.interactive.p50} µs, p99 ${v.interactive.p99} µs (n=${v.interactive.n}); bulk ${v.bulk.gbps ?? v.bulk.error} Gbit/s${v.relayLateness ? `; relay late p99 ${v.relayLateness.p99} ms` : ''}`;
    case 'warmup':
    case 'wrk':
      return `${v.requestsPerSecond} req/s, p50 ${v.p50Ms} ms, p99 ${v.p99Ms} ms (${v.requests} requests, errors ${v.errorTotal})${v.cpuPerRequestUs ? `; CPU µs per request: server ${v.cpuPerRequestUs.server}, client ${v.cpuPerRequestUs.client}` : ''}`;
    case 'conns':
      return `held ${v.held}/${v.requested}, errors ${v.errors}, server RSS ${mb(v.serverRssBytes)}, opened in ${v.openMs} ms`;
    default:
      return JSON.stringify(v);
  }
}

// ---------------------------------------------------------------------------------------------
// One path, all workloads.

async function measurePath(name, upstream) {
  const result = { path: name };
  let path = null;
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  let ports;
  console.log(`\n== ${name}`);
  try {
    if (name === 'direct') {
      ports = { iperf: upstream.iperf, echo: upstream.echo };
    } else {
      const [iperfPublic, echoPublic] = await freePorts(2);
      const forwards = [
        { publicPort: iperfPublic, upstreamPort: upstream.iperf },
        { publicPort: echoPublic, upstreamPort: upstream.echo },
      ];
      path = name === 'ssh' ? await startSshPath({ dir, forwards }) : await startInletsPath({ bundle: BUNDLE, dir, forwards });
      ports = { iperf: iperfPublic, echo: echoPublic };
    }
    const t0 = Date.now();
    await waitReady(path, ports.echo);
    result.readyMs = Date.now() - t0;
    console.log(`    ready after ${result.readyMs} ms`);
  } catch (err) {
    result.error = err.message;
    console.log(`    ERROR ${err.message}`);
    await path?.stop();
    return result;
  }

  await sleep(S.settleMs);
  if (path) await step(result, 'idle', 'idle RSS', async () => rssOf(path), path);
  await step(result, 'rtt', 'round trip', () => withCpu(path, S.rttCount + S.rttWarmup, () => runLoad('rtt', { port: ports.echo, count: S.rttCount, warmup: S.rttWarmup }, 120000)), path);
  await step(result, 'connect', 'connect + first echo, paced', () => runLoad('connect', { port: ports.echo, count: S.connectCount, warmup: S.connectWarmup, gapMs: CONNECT_GAP_MS }, 180000), path);
  await step(result, 'connectBackToBack', 'connect + first echo, back to back', () => runLoad('connect', { port: ports.echo, count: S.connectB2bCount, warmup: S.connectWarmup }, 180000), path);
  await step(result, 'single', 'iperf3, 1 stream', () => bulkWithCpu(path, ports.iperf, S.iperfSeconds, 1), path);
  await step(result, 'multi', 'iperf3, 8 streams', () => bulkWithCpu(path, ports.iperf, S.iperfSeconds, 8), path);
  await step(result, 'hol', 'head-of-line', () => headOfLine(ports), path);
  await step(result, 'conns', `${S.conns} connections`, () => manyConnections(path, ports), path);
  if (path) {
    await sleep(S.settleMs);
    await step(result, 'after', 'RSS after the workloads', async () => rssOf(path), path);
    result.processOutput = Object.fromEntries(path.processes.map((p) => [p.name, `${p.stdout}\n${p.stderr}`.trim().slice(-2000)]));
    await path.stop();
  }
  return result;
}

// ---------------------------------------------------------------------------------------------

async function versions() {
  const first = async (cmd, args) => {
    try {
      const r = await runToEnd(cmd, cmd, args, 10000);
      return `${r.stdout}${r.stderr}`.trim().split('\n')[0];
    } catch {
      return null;
    }
  };
  let commit = null;
  try {
    const head = readFileSync(join(root, '.git', 'HEAD'), 'utf8').trim();
    commit = head.startsWith('ref: ') ? readFileSync(join(root, '.git', head.slice(5)), 'utf8').trim() : head;
  } catch {
    // Not a git checkout, or a packed ref.
  }
  return {
    node: process.version,
    ssh: await first('ssh', ['-V']),
    iperf3: await first('iperf3', ['--version']),
    wrk: await first(WRK, ['--version']),
    bundleBytes: existsSync(BUNDLE) ? statSync(BUNDLE).size : null,
    commit,
  };
}

async function main() {
  checkPrerequisites();
  const started = new Date();
  const load = loadavg()[0];
  console.log(`inlets benchmark${flags.quick ? ' (--quick)' : ''}: ${selected.join(', ')}; ${cpus().length} CPUs, load average ${load.toFixed(2)}`);
  if (load > cpus().length * 0.5) {
    console.log('note: the machine is busy; figures are indicative only (ratios from the same run matter most)');
  }
  tmp = mkdtempSync(join(tmpdir(), 'inlets-bench-'));

  const [iperfPort] = await freePorts(1);
  await startIperfServer(iperfPort);
  const echo = startProcess('echo server', process.execPath, [ECHO_SERVER]);
  const [, echoPort] = await waitForOutput(echo, /"port":(\d+)/, 10000, 'port line');
  const httpUpstream = startProcess('http upstream', process.execPath, [HTTP_SERVER, String(HTTP_BODY_BYTES)]);
  const [, httpPort] = await waitForOutput(httpUpstream, /"port":(\d+)/, 10000, 'port line');
  const upstream = { iperf: iperfPort, echo: Number(echoPort), http: Number(httpPort) };

  const results = {};
  for (const name of ALL_PATHS.filter((p) => selected.includes(p))) {
    results[name] = await measurePath(name, upstream);
  }
  for (const name of ALL_PATHS.filter((p) => selected.includes(p))) {
    results[name].http = await measureHttp(name, upstream);
  }
  const wanPaths = ['ssh', 'inlets'].filter((p) => selected.includes(p));
  for (const rttMs of wanRtts) {
    for (const name of wanPaths) {
      results[name].wan ??= {};
      results[name].wan[rttMs] = await measureWan(name, rttMs, upstream);
    }
  }

  const rows = figureTable(results, wanPaths.length ? wanRtts : []);
  const goals = evaluateGoals(rows, wanPaths.length ? wanRtts : []);
  console.log(`\n${renderTable(rows)}\n\nGoals (issues #2, #11, HTTP):\n${renderGoals(goals)}`);

  const report = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    quick: flags.quick,
    paths: selected,
    settings: { ...S, holGapMs: HOL_GAP_MS, connectGapMs: CONNECT_GAP_MS, wanRttMs: wanRtts, wrkThreads: WRK_THREADS, wrkConnections: WRK_CONNECTIONS, httpBodyBytes: HTTP_BODY_BYTES, httpUpstream: 'bench/lib/http-server.mjs (raw node:net, keep-alive HTTP/1.1)' },
    machine: { hostname: hostname(), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? null, loadAverageAtStart: loadavg().length ? load : null, loadAverageAtEnd: loadavg()[0] },
    versions: await versions(),
    table: rows,
    goals,
    results,
  };
  const outDir = join(here, 'results');
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${outFile}`);
  const failed = (r) => r.error || Object.values(r).some((v) => v && typeof v === 'object' && v.error);
  const broken = Object.values(results).filter((r) => failed(r) || Object.values(r.wan ?? {}).some(failed) || (r.http && failed(r.http)));
  return broken.length ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`bench: ${err.stack ?? err.message}`);
} finally {
  await cleanup();
}
process.exit(code);
