/**
 * `inletsctl test` for an HTTPS-mode tunnel: an in-process `inlets http client` serves a host name
 * of its own (`<random>.inletsctl-test.invalid`, so a user's clients on the real domains never see
 * the test and the test never reaches them) from a throw-away HTTP upstream on 127.0.0.1. Then,
 * as any visitor would, it sends keep-alive GETs (round trip) and one POST echoed back with a
 * SHA-256 (throughput) to the node's public HTTP port. For each domain whose certificate the node
 * reports issued, it also makes one HTTPS request with that domain's SNI, verifying the
 * certificate (system roots, plus `--cacert`). Everything it started is stopped, also on failure.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { performance } from 'node:perf_hooks';
import { rootCertificates, type TLSSocket } from 'node:tls';
import { CodedError } from '../errors.js';
import { TunnelClient } from '../engine/client/tunnel-client.js';
import { requestControl } from '../engine/transport/control-request.js';
import type { CertificateInfo } from '../engine/server/status-info.js';
import { within } from '../util/within.js';
import { hostPort } from './connection-info.js';
import { firstWelcome, roundTripFigures, testSettings, type TrafficFigures } from './tunnel-test.js';

export interface HttpTestTarget {
  name: string;
  ip?: string;
  token: string;
  pin: string;
  controlPort: number;
  domains?: string[];
  httpPort?: number;
  httpsPort?: number;
}

export interface HttpTestOptions {
  /** GETs timed after one warm-up. Default 20. */
  pings?: number;
  /** Bytes POSTed and echoed for the throughput figure. Default 16 MiB, at most 1 GiB. */
  transferBytes?: number;
  /** Limit for connecting, each request and the pings, in ms. Default 30 000. */
  timeoutMs?: number;
  /** Limit for the transfer, in ms. Default 180 000. */
  transferTimeoutMs?: number;
  /** Extra CA certificates (PEM) trusted for the domains' certificates, beside the system's. */
  caPem?: string;
  log?: (line: string) => void;
}

/** One domain's HTTPS check. */
export interface DomainCheck {
  domain: string;
  /** What the node reports (PROTOCOL.md §12). */
  state: CertificateInfo['state'];
  expiresAt?: string;
  lastError?: string;
  /** Issued only: an HTTPS request with this SNI got through, the certificate verified. */
  https?: { ok: true; issuer: string; validTo: string; ms: number };
}

/** Round trip = one keep-alive GET; throughput = one POST echoed back. */
export interface HttpTestReport extends TrafficFigures {
  mode: 'https';
  /** The public HTTP address requests went to, and the Host header they carried. */
  address: string;
  host: string;
  domains: DomainCheck[];
}

const failed = (code: string, message: string, cause?: unknown) => new CodedError(code, message, { cause });

/** The throw-away upstream: `GET /` answers the nonce, `POST /echo` streams the body back. */
async function startUpstream(nonce: string): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/echo') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.pipe(res);
      return;
    }
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end(nonce);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { port, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

/** Resolves when the server's welcome names `host`; fails on a refusal or any session error. */
async function awaitHost(client: TunnelClient, host: string): Promise<void> {
  const { hosts } = await firstWelcome(client);
  if (!hosts.includes(host)) throw failed('TEST_HOST_REFUSED', `the exit node did not accept the test host ${host} (is it an HTTPS-mode node?)`);
}

/** One request; the body read whole (small answers) or hashed (the echo). */
function send(opts: RequestOptions, body?: Buffer, secure = false): Promise<{ res: IncomingMessage; text: string; sha256: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : request)(opts, (res) => {
      const hash = createHash('sha256');
      const small: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
        if (bytes <= 4096) small.push(chunk);
      });
      res.once('end', () => resolve({ res, text: Buffer.concat(small).toString('utf8'), sha256: hash.digest('hex'), bytes }));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}

/**
 * Tests an HTTPS-mode tunnel; resolves with the figures or throws CodedError (`TEST_NOT_READY`,
 * `TEST_CONTROL_FAILED`, `TEST_HOST_REFUSED`, `TEST_PUBLIC_UNREACHABLE`, `TEST_HTTP_FAILED`,
 * `TEST_ECHO_MISMATCH`, `TEST_TLS_FAILED`, `TEST_TIMEOUT`).
 */
export async function runHttpTunnelTest(target: HttpTestTarget, opts: HttpTestOptions = {}): Promise<HttpTestReport> {
  const { log, pings, bytes, timeoutMs, ip } = testSettings(target, opts);
  const httpPort = target.httpPort ?? 80;
  const httpsPort = target.httpsPort ?? 443;
  const url = `wss://${hostPort(ip, target.controlPort)}`;
  const nonce = randomBytes(8).toString('hex');
  const host = `${nonce}.inletsctl-test.invalid`;
  const address = `http://${hostPort(ip, httpPort)}`;
  const started = performance.now();

  const upstream = await startUpstream(nonce);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let client: TunnelClient | undefined;
  try {
    log(`connecting to ${url} (pinned key), serving the test host ${host}`);
    client = new TunnelClient({
      url,
      token: target.token,
      clientId: `inletsctl-test-${nonce.slice(0, 8)}`,
      trust: { pin: target.pin },
      upstreams: new Map(),
      hosts: new Map([[host, { host: '127.0.0.1', port: upstream.port, tls: false }]]),
    });
    await within(timeoutMs, awaitHost(client, host), () => failed('TEST_TIMEOUT', `no answer from ${url} within ${timeoutMs} ms`)).catch((err: Error) => {
      if (err instanceof CodedError && err.code.startsWith('TEST_')) throw err;
      throw failed('TEST_CONTROL_FAILED', `cannot connect a tunnel client to ${url}: ${err.message}`, err);
    });
    const connectMs = performance.now() - started;

    // 1. Keep-alive GETs through the public HTTP port.
    log(`sending ${pings} GET requests to ${address} (Host: ${host})`);
    const get = async () => {
      const t0 = performance.now();
      const r = await within(timeoutMs, send({ host: ip, port: httpPort, path: '/', agent, headers: { host } }), () => failed('TEST_TIMEOUT', `a GET through ${address} took longer than ${timeoutMs} ms`)).catch((err: Error) => {
        if (err instanceof CodedError) throw err;
        throw failed('TEST_PUBLIC_UNREACHABLE', `cannot reach ${address} from here (${(err as NodeJS.ErrnoException).code ?? err.message}); a firewall may block port ${httpPort}`, err);
      });
      if (r.res.statusCode !== 200 || r.text !== nonce) throw failed('TEST_HTTP_FAILED', `GET ${address}/ answered ${r.res.statusCode}${r.text !== nonce ? ' without the test upstream\'s answer' : ''}`);
      return performance.now() - t0;
    };
    const firstByteMs = (await get()) + connectMs;
    const samples: number[] = [];
    for (let i = 0; i < pings; i++) samples.push(await get());
    const roundTrip = roundTripFigures(samples);

    // 2. One POST echoed back, checksummed.
    log(`echoing ${(bytes / 1048576).toFixed(1)} MiB through ${address}`);
    const data = randomBytes(bytes);
    const sent = createHash('sha256').update(data).digest('hex');
    const transferTimeout = opts.transferTimeoutMs ?? 180_000;
    const t0 = performance.now();
    const echo = await within(
      transferTimeout,
      send({ host: ip, port: httpPort, path: '/echo', method: 'POST', agent, headers: { host, 'content-type': 'application/octet-stream', 'content-length': bytes } }, data),
      () => failed('TEST_TIMEOUT', `the transfer through ${address} did not finish within ${transferTimeout} ms`),
    ).catch((err: Error) => {
      throw err instanceof CodedError ? err : failed('TEST_HTTP_FAILED', `the POST through ${address} failed: ${err.message}`, err);
    });
    const seconds = (performance.now() - t0) / 1000;
    if (echo.res.statusCode !== 200) throw failed('TEST_HTTP_FAILED', `POST ${address}/echo answered ${echo.res.statusCode}`);
    if (echo.bytes !== bytes || echo.sha256 !== sent) throw failed('TEST_ECHO_MISMATCH', `the ${bytes} bytes echoed through the tunnel came back as ${echo.bytes} bytes${echo.bytes === bytes ? ' with another SHA-256' : ''}`);
    const throughput = { bytes, seconds, mbPerSec: bytes / seconds / 1e6, sha256: sent };

    // 3. Each domain: the node's certificate state, and HTTPS where it says issued.
    const domains = await checkDomains(target, { ip, httpsPort, host, nonce, timeoutMs, caPem: opts.caPem, log });
    return { name: target.name, mode: 'https', address, host, port: httpPort, connectMs, firstByteMs, roundTrip, throughput, checksumOk: true, domains, totalMs: performance.now() - started };
  } finally {
    agent.destroy();
    if (client) await within(10_000, client.stop(), () => new Error('stop timed out')).catch(() => {});
    await upstream.close();
  }
}

async function checkDomains(
  target: HttpTestTarget,
  o: { ip: string; httpsPort: number; host: string; nonce: string; timeoutMs: number; caPem?: string; log: (line: string) => void },
): Promise<DomainCheck[]> {
  const res = await requestControl({ url: `https://${hostPort(o.ip, target.controlPort)}`, path: '/status', token: target.token, trust: { pin: target.pin }, timeoutMs: o.timeoutMs }).catch((err: Error) => {
    throw failed('TEST_CONTROL_FAILED', `GET /status failed: ${err.message}`, err);
  });
  let certificates: CertificateInfo[] = [];
  try {
    certificates = (JSON.parse(res.body) as { certificates?: CertificateInfo[] }).certificates ?? [];
  } catch {
    throw failed('TEST_CONTROL_FAILED', `GET /status answered ${res.status} without the status JSON`);
  }
  const ca = o.caPem ? [...rootCertificates, o.caPem] : undefined;
  const out: DomainCheck[] = [];
  for (const domain of target.domains ?? []) {
    const c = certificates.find((x) => x.domain === domain);
    const check: DomainCheck = { domain, state: c?.state ?? 'waiting', ...(c?.expiresAt && { expiresAt: c.expiresAt }), ...(c?.lastError && { lastError: c.lastError }) };
    if (c?.state === 'issued') {
      o.log(`HTTPS to ${domain} (SNI) at ${hostPort(o.ip, o.httpsPort)}, verifying its certificate`);
      const t0 = performance.now();
      const r = await within(
        o.timeoutMs,
        send({ host: o.ip, port: o.httpsPort, servername: domain, path: '/', agent: false, headers: { host: o.host }, ...(ca && { ca }) }, undefined, true),
        () => failed('TEST_TIMEOUT', `HTTPS to ${domain} took longer than ${o.timeoutMs} ms`),
      ).catch((err: Error) => {
        if (err instanceof CodedError) throw err;
        const untrusted = /certificate|self.signed|issuer/i.test(err.message) ? ' (a staging certificate, or an ACME server of your own: pass its root with --cacert FILE)' : '';
        throw failed('TEST_TLS_FAILED', `HTTPS to ${domain} at ${hostPort(o.ip, o.httpsPort)} failed: ${err.message}${untrusted}`, err);
      });
      if (r.res.statusCode !== 200 || r.text !== o.nonce) throw failed('TEST_HTTP_FAILED', `HTTPS GET with SNI ${domain} answered ${r.res.statusCode}${r.text !== o.nonce ? ' without the test upstream\'s answer' : ''}`);
      const cert = (r.res.socket as TLSSocket).getPeerCertificate?.();
      check.https = { ok: true, issuer: String(cert?.issuer?.CN ?? cert?.issuer?.O ?? 'unknown'), validTo: cert?.valid_to ? new Date(cert.valid_to).toISOString() : 'unknown', ms: performance.now() - t0 };
    }
    out.push(check);
  }
  return out;
}

/** The human summary for an HTTPS-mode tunnel. */
export function formatHttpTestReport(r: HttpTestReport): string {
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const domain = (d: DomainCheck) =>
    d.https
      ? `  ${d.domain}  HTTPS works: certificate by ${d.https.issuer}, valid to ${d.https.validTo}`
      : `  ${d.domain}  no certificate yet (${d.state === 'waiting' ? 'waiting for DNS to point here' : 'error'}${d.lastError ? `: ${d.lastError}` : ''})`;
  return [
    `Tunnel ${r.name} works: HTTP requests went through ${r.address} (Host ${r.host}) and back.`,
    `  connect       ${ms(r.connectMs)} (client to welcome), first response ${ms(r.firstByteMs)}`,
    `  round trip    p50 ${ms(r.roundTrip.p50Ms)} over ${r.roundTrip.samples} keep-alive GETs (min ${ms(r.roundTrip.minMs)}, max ${ms(r.roundTrip.maxMs)})`,
    `  throughput    ${r.throughput.mbPerSec.toFixed(1)} MB/s echoed (${(r.throughput.bytes / 1048576).toFixed(1)} MiB POSTed and returned in ${r.throughput.seconds.toFixed(2)} s, SHA-256 matched)`,
    ...r.domains.map(domain),
    '',
  ].join('\n');
}
