/**
 * Host-side steps of the real boot test (.ci/boot-test.sh), run with `node --import tsx`:
 *
 *   render DIR FORMAT BINARY [https|https-staged DOMAIN ACME_URL CA_FILE]
 *                              writes DIR/user-data (rendered by renderUserData with the real engine),
 *                              DIR/token (0600) and DIR/pin; with `https`, HTTPS mode for DOMAIN with
 *                              ACME_URL as its directory and CA_FILE as that ACME server's own CA;
 *                              `https-staged` is that with the staged start (the server left out)
 *   ready URL DIR TIMEOUT_S [staged]
 *                              polls GET /healthz (no token) then GET /status (token, pinned key)
 *                              until both answer 200; prints the seconds it waited. With `staged`:
 *                              until the first stage answers (pinned key) its 503 "waiting for
 *                              inletsctl to deliver the server"
 *   deliver URL DIR TIMEOUT_S  PUTs the http server (as create gives it) with deliverServer
 *   created DIR HOST           reads what `inletsctl create --json` printed (DIR/created.json),
 *                              checks it names HOST, and writes DIR/token (0600) and DIR/pin
 *   traffic URL HOST DIR [PORT] runs an engine client (pin + token) exposing data port PORT
 *                              (default: random), sends 1 MiB to HOST:PORT and checks the echo
 *                              from a local upstream
 *   certificate URL DIR DOMAIN TIMEOUT_S
 *                              polls /status until it shows DOMAIN's certificate as issued (fails at
 *                              once when it shows an error)
 *   https URL HOST DIR DOMAIN ROOT_FILE
 *                              runs an `inlets http client` serving DOMAIN from a local HTTP upstream;
 *                              GET https://DOMAIN/ at HOST:443 (verified against ROOT_FILE, SNI DOMAIN)
 *                              must return the upstream's body, http://DOMAIN/ at HOST:80 a 308 to https
 *
 * Exits non-zero with a message on failure. Every wait is bounded.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deliverServer } from '../src/core/deliver-server.js';
import { engineBundlePath, readEngineBundle } from '../src/core/engine-bundle.js';
import { stagedServer } from '../src/core/user-data/exit-node-plan.js';
import { renderUserData } from '../src/core/user-data/render.js';
import { generateSelfSigned } from '../src/engine/tls/self-signed.js';
import { requestControl } from '../src/engine/transport/control-request.js';

const ENGINE = fileURLToPath(new URL('../dist/inlets.mjs', import.meta.url));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function render(dir: string, format: string, binary: string, mode = 'tcp', domain?: string, acmeUrl?: string, caFile?: string): Promise<void> {
  if (format !== 'cloud-config' && format !== 'script') throw new Error(`format ${format}`);
  if (mode !== 'tcp' && mode !== 'https' && mode !== 'https-staged') throw new Error(`mode ${mode}`);
  if (mode !== 'tcp' && !(domain && acmeUrl && caFile)) throw new Error(`${mode} needs DOMAIN ACME_URL CA_FILE`);
  const tls = generateSelfSigned({ commonName: 'inlets-boot-test' });
  const token = randomBytes(32).toString('hex');
  const https = mode !== 'tcp' ? { domains: [domain!], url: acmeUrl, caPem: readFileSync(caFile!, 'utf8') } : undefined;
  const userData = renderUserData({ mode, https, token, tls, controlPort: 8123, format, binary: binary === 'true' });
  writeFileSync(join(dir, 'user-data'), userData, { mode: 0o600 });
  writeFileSync(join(dir, 'token'), token, { mode: 0o600 });
  writeFileSync(join(dir, 'pin'), tls.pin);
  console.log(`rendered ${mode} ${format}${binary === 'true' ? ' (gzip)' : ''} user-data: ${userData.length} bytes`);
}

function secrets(dir: string): { token: string; pin: string } {
  return { token: readFileSync(join(dir, 'token'), 'utf8'), pin: readFileSync(join(dir, 'pin'), 'utf8') };
}

const WAITING = 'waiting for inletsctl to deliver the server';

async function ready(url: string, dir: string, timeoutS: string, staged?: string): Promise<void> {
  if (staged !== undefined && staged !== 'staged') throw new Error(`ready: ${staged}, not staged`);
  const { token, pin } = secrets(dir);
  const start = Date.now();
  const end = start + Number(timeoutS) * 1000;
  let last = 'no answer yet';
  while (Date.now() < end) {
    try {
      const health = await requestControl({ url, path: '/healthz', trust: { pin }, timeoutMs: 3000 });
      if (staged) {
        if (health.status !== 503 || !health.body.includes(WAITING)) throw new Error(`/healthz answered ${health.status}: ${JSON.stringify(health.body.slice(0, 200))}`);
        console.log(`first stage up after ${((Date.now() - start) / 1000).toFixed(1)} s of polling: 503 ${JSON.stringify(health.body.trim())}`);
        return;
      }
      if (health.status !== 200) throw new Error(`/healthz answered ${health.status}`);
      const status = await requestControl({ url, path: '/status', token, trust: { pin }, timeoutMs: 3000 });
      if (status.status !== 200) throw new Error(`/status answered ${status.status}`);
      const body = JSON.parse(status.body) as { version?: string; mode?: string };
      console.log(`ready after ${((Date.now() - start) / 1000).toFixed(1)} s of polling: version ${body.version}, mode ${body.mode}`);
      return;
    } catch (err) {
      last = (err as Error).message;
      await sleep(500);
    }
  }
  throw new Error(`not ready within ${timeoutS} s; last: ${last}`);
}

async function deliver(url: string, dir: string, timeoutS: string): Promise<void> {
  const { token, pin } = secrets(dir);
  const { hostname, port } = new URL(url);
  const bytes = stagedServer(readEngineBundle(engineBundlePath('http'))).bytes;
  const start = Date.now();
  await deliverServer({ ip: hostname, controlPort: Number(port), token, pin, bytes, timeoutMs: Number(timeoutS) * 1000 });
  console.log(`delivered the http server (${bytes.length} bytes, brotli) in ${Date.now() - start} ms`);
}

async function created(dir: string, host: string): Promise<void> {
  const out = JSON.parse(readFileSync(join(dir, 'created.json'), 'utf8')) as { name?: string; provider?: string; ip?: string; token?: string; pin?: string; timings?: Record<string, number> };
  if (out.ip !== host) throw new Error(`create printed ip ${out.ip}, not ${host}`);
  if (!out.token || !out.pin) throw new Error('create printed no token or pin');
  writeFileSync(join(dir, 'token'), out.token, { mode: 0o600 });
  writeFileSync(join(dir, 'pin'), out.pin);
  const t = out.timings ?? {};
  console.log(`created ${out.name} (${out.provider}) at ${out.ip}: ${Object.entries(t).map(([k, v]) => `${k} ${v}`).join(', ')}`);
}

async function traffic(url: string, host: string, dir: string, port?: string): Promise<void> {
  const { token, pin } = secrets(dir);
  const upstream = createServer((s) => {
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamPort = (upstream.address() as { port: number }).port;
  const dataPort = port ? Number(port) : randomInt(20000, 30000);
  const client = spawn(
    process.execPath,
    [ENGINE, 'tcp', 'client', '--url', url, '--token-env', 'INLETS_TOKEN', '--tls-pin', pin, '--upstream', `${dataPort}=127.0.0.1:${upstreamPort}`],
    { env: { ...process.env, INLETS_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  client.stdout.on('data', (d) => (output += d));
  client.stderr.on('data', (d) => (output += d));
  try {
    const payload = randomBytes(1024 * 1024);
    const end = Date.now() + 60_000;
    for (;;) {
      try {
        const started = Date.now();
        const back = await echo(host, dataPort, payload);
        if (!back.equals(payload)) throw new Error('the echo differs from what was sent');
        const sha = createHash('sha256').update(back).digest('hex').slice(0, 16);
        console.log(`1 MiB through ${host}:${dataPort} and back in ${Date.now() - started} ms (sha256 ${sha}…)`);
        return;
      } catch (err) {
        if (Date.now() > end) throw new Error(`no traffic through the tunnel: ${(err as Error).message}\nclient output:\n${output}`);
        await sleep(500);
      }
    }
  } finally {
    client.kill('SIGTERM');
    upstream.close();
  }
}

function echo(host: string, port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port });
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => socket.destroy(new Error('timed out')), 15_000);
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      if (got >= payload.length) {
        clearTimeout(timer);
        socket.destroy();
        resolve(Buffer.concat(chunks));
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`closed after ${got} bytes`));
    });
  });
}

async function certificate(url: string, dir: string, domain: string, timeoutS: string): Promise<void> {
  const { token, pin } = secrets(dir);
  const start = Date.now();
  const end = start + Number(timeoutS) * 1000;
  let last = 'no answer yet';
  while (Date.now() < end) {
    let cert: { domain: string; state: string; expiresAt?: string; lastError?: string } | undefined;
    try {
      const status = await requestControl({ url, path: '/status', token, trust: { pin }, timeoutMs: 3000 });
      if (status.status !== 200) throw new Error(`/status answered ${status.status}`);
      const body = JSON.parse(status.body) as { certificates?: (typeof cert)[] };
      cert = body.certificates?.find((c) => c?.domain === domain);
      last = cert ? `state ${cert.state}` : `no certificate entry for ${domain}: ${status.body.slice(0, 300)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (cert?.state === 'issued') {
      console.log(`certificate for ${domain} issued after ${((Date.now() - start) / 1000).toFixed(1)} s of polling, expires ${cert.expiresAt}`);
      return;
    }
    if (cert?.state === 'error') throw new Error(`the certificate for ${domain} failed: ${cert.lastError}`);
    await sleep(250);
  }
  throw new Error(`no certificate for ${domain} within ${timeoutS} s; last: ${last}`);
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One GET to HOST:PORT for DOMAIN (Host header; over TLS also SNI, verified against `ca`). */
function get(tls: boolean, host: string, port: number, domain: string, path: string, ca?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const options = { host, port, path, headers: { host: domain }, timeout: 10_000, agent: false as const };
    const done = (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    };
    const req = tls ? httpsRequest({ ...options, servername: domain, ca, rejectUnauthorized: true }, done) : httpRequest(options, done);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function https(url: string, host: string, dir: string, domain: string, rootFile: string): Promise<void> {
  const { token, pin } = secrets(dir);
  const root = readFileSync(rootFile, 'utf8');
  if (!root.includes('BEGIN CERTIFICATE')) throw new Error(`${rootFile} holds no certificate`);
  const marker = `inlets boot test ${randomBytes(8).toString('hex')}`;
  const upstream = createHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`${marker} ${req.method} ${req.url} host=${req.headers.host} proto=${req.headers['x-forwarded-proto']}\n`);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamPort = (upstream.address() as { port: number }).port;
  const wss = url.replace(/^https:/, 'wss:');
  const client = spawn(
    process.execPath,
    [ENGINE, 'http', 'client', '--url', wss, '--token-env', 'INLETS_TOKEN', '--tls-pin', pin, '--upstream', `${domain}=http://127.0.0.1:${upstreamPort}`],
    { env: { ...process.env, INLETS_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  client.stdout.on('data', (d) => (output += d));
  client.stderr.on('data', (d) => (output += d));
  try {
    const end = Date.now() + 60_000;
    const expected = `${marker} GET /boot-test host=${domain} proto=https\n`;
    for (;;) {
      try {
        const started = Date.now();
        const a = await get(true, host, 443, domain, '/boot-test', root);
        if (a.status !== 200 || a.body !== expected) throw new Error(`answered ${a.status}: ${JSON.stringify(a.body.slice(0, 200))}`);
        console.log(`https://${domain}/boot-test at ${host}:443 (verified against pebble's root) answered the upstream's body in ${Date.now() - started} ms`);
        break;
      } catch (err) {
        if (Date.now() > end) throw new Error(`no HTTPS answer from the upstream: ${(err as Error).message}\nclient output:\n${output}`);
        await sleep(500);
      }
    }
    const plain = await get(false, host, 80, domain, '/boot-test?x=1');
    if (plain.status !== 308 || plain.headers.location !== `https://${domain}/boot-test?x=1`) {
      throw new Error(`http://${domain}/boot-test?x=1 answered ${plain.status}, location ${plain.headers.location}, not a 308 to https`);
    }
    console.log(`http://${domain}/boot-test?x=1 at ${host}:80 answered 308 to ${plain.headers.location}`);
  } finally {
    client.kill('SIGTERM');
    upstream.close();
  }
}

const [command, ...args] = process.argv.slice(2);
const commands: Record<string, (...a: string[]) => Promise<void>> = { render, ready, deliver, created, traffic, certificate, https };
const run = commands[command ?? ''];
if (!run) {
  console.error('usage: boot-test-helper.ts render|ready|deliver|created|traffic|certificate|https ...');
  process.exit(2);
}
run(...args).then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`boot-test: ${err.message}`);
    process.exit(1);
  },
);
