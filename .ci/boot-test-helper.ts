/**
 * Host-side steps of the real boot test (.ci/boot-test.sh), run with `node --import tsx`:
 *
 *   render DIR FORMAT BINARY   writes DIR/user-data (rendered by renderUserData with the real engine),
 *                              DIR/token (0600) and DIR/pin
 *   ready URL DIR TIMEOUT_S    polls GET /healthz (no token) then GET /status (token, pinned key)
 *                              until both answer 200; prints the seconds it waited
 *   created DIR HOST           reads what `inletsctl create --json` printed (DIR/created.json),
 *                              checks it names HOST, and writes DIR/token (0600) and DIR/pin
 *   traffic URL HOST DIR [PORT] runs an engine client (pin + token) exposing data port PORT
 *                              (default: random), sends 1 MiB to HOST:PORT and checks the echo
 *                              from a local upstream
 *
 * Exits non-zero with a message on failure. Every wait is bounded.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderUserData } from '../src/core/user-data/render.js';
import { generateSelfSigned } from '../src/engine/tls/self-signed.js';
import { requestControl } from '../src/engine/transport/control-request.js';

const ENGINE = fileURLToPath(new URL('../dist/inlets.mjs', import.meta.url));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function render(dir: string, format: string, binary: string): Promise<void> {
  if (format !== 'cloud-config' && format !== 'script') throw new Error(`format ${format}`);
  const tls = generateSelfSigned({ commonName: 'inlets-boot-test' });
  const token = randomBytes(32).toString('hex');
  const userData = renderUserData({ mode: 'tcp', token, tls, controlPort: 8123, format, binary: binary === 'true' });
  writeFileSync(join(dir, 'user-data'), userData, { mode: 0o600 });
  writeFileSync(join(dir, 'token'), token, { mode: 0o600 });
  writeFileSync(join(dir, 'pin'), tls.pin);
  console.log(`rendered ${format}${binary === 'true' ? ' (gzip)' : ''} user-data: ${userData.length} bytes`);
}

function secrets(dir: string): { token: string; pin: string } {
  return { token: readFileSync(join(dir, 'token'), 'utf8'), pin: readFileSync(join(dir, 'pin'), 'utf8') };
}

async function ready(url: string, dir: string, timeoutS: string): Promise<void> {
  const { token, pin } = secrets(dir);
  const start = Date.now();
  const end = start + Number(timeoutS) * 1000;
  let last = 'no answer yet';
  while (Date.now() < end) {
    try {
      const health = await requestControl({ url, path: '/healthz', trust: { pin }, timeoutMs: 3000 });
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

const [command, ...args] = process.argv.slice(2);
const commands: Record<string, (...a: string[]) => Promise<void>> = { render, ready, created, traffic };
const run = commands[command ?? ''];
if (!run) {
  console.error('usage: boot-test-helper.ts render|ready|created|traffic ...');
  process.exit(2);
}
run(...args).then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`boot-test: ${err.message}`);
    process.exit(1);
  },
);
