/** Let's Encrypt's protocol against Debian's real pebble: issuance over HTTP-01, HTTPS by SNI, files, reload, renewal, failures. */
import { execFile } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { CertManager, directoryFor, LETSENCRYPT, rehearsalFor } from '../../src/engine/acme/cert-manager.js';
import { silentLogger, type Logger } from '../../src/engine/log.js';
import { HttpFront } from '../../src/engine/server/http-front.js';
import { cleanupAll, freePort, startClient, startServer, tempDir, track, waitFor } from '../helpers/engine-harness.js';
import { describingUpstream, get } from '../helpers/http-upstream.js';
import { startPebble } from '../helpers/pebble.js';

afterEach(cleanupAll);

const DOMAIN = 'blog.example.test';

async function tunnelWithCerts(opts: { renewBeforeMs?: number; directoryUrl?: string; validitySeconds?: number; logger?: Logger } = {}) {
  const httpPort = await freePort();
  const tlsPort = await freePort();
  const pebble = await startPebble(httpPort, { validitySeconds: opts.validitySeconds });
  const stateDir = await tempDir();
  const certs = new CertManager({ domains: [DOMAIN], directoryUrl: opts.directoryUrl ?? pebble.directoryUrl, ca: pebble.ca, stateDir, renewBeforeMs: opts.renewBeforeMs, retryMinMs: 500, retryMaxMs: 2000, logger: opts.logger });
  track(() => certs.stop());
  const srv = await startServer({ http: new HttpFront({ addr: '127.0.0.1', port: httpPort, tlsPort, certs, domains: [DOMAIN], certStatus: () => certs.status() }) });
  const up = await describingUpstream('blog');
  await startClient({ url: srv.url, token: srv.token, trust: { pin: srv.pin }, upstreams: new Map(), hosts: new Map([[DOMAIN, { host: '127.0.0.1', port: up.port, tls: false }]]) });
  return { pebble, certs, srv, stateDir, httpPort, tlsPort };
}

function httpsVia(port: number, ca: string): Promise<{ status: number; body: string; serial: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, servername: DOMAIN, headers: { host: DOMAIN }, ca, timeout: 10_000, agent: false }, (res) => {
      let body = '';
      const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
      res.on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode!, body, serial }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout'))).on('error', reject).end();
  });
}

describe('ACME with pebble', () => {
  it('issues over real HTTP-01, serves it by SNI (verified against pebble\'s root, also by curl), keeps files 0600 and reloads them without a new order', async () => {
    const t = await tunnelWithCerts();
    const started = Date.now();
    t.certs.start();
    await waitFor(() => t.certs.status()[0].state === 'issued', 'the certificate', 60_000, 100);
    console.log(`certificate issued by pebble ${Date.now() - started} ms after start`);
    const root = await t.pebble.rootCaPem();
    const r = await httpsVia(t.tlsPort, root);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ name: 'blog', headers: { 'x-forwarded-proto': 'https', host: DOMAIN } });
    const rootFile = join(t.stateDir, 'pebble-root.pem');
    writeFileSync(rootFile, root);
    const curl = await new Promise<string>((resolve, reject) =>
      execFile('curl', ['-sS', '--cacert', rootFile, '--resolve', `${DOMAIN}:${t.tlsPort}:127.0.0.1`, `https://${DOMAIN}:${t.tlsPort}/via-curl`], { timeout: 15_000 }, (e, out) => (e ? reject(e) : resolve(out))),
    );
    expect(JSON.parse(curl)).toMatchObject({ url: '/via-curl' });
    // plain HTTP for a domain with a certificate: a redirect to https
    const plain = await get(t.httpPort, DOMAIN, '/x?y=1');
    expect(plain.status).toBe(308);
    expect(plain.headers.location).toBe(`https://${DOMAIN}:${t.tlsPort}/x?y=1`);
    for (const f of ['acme-account.key', `${DOMAIN}.crt`, `${DOMAIN}.key`]) expect((statSync(join(t.stateDir, f)).mode & 0o777).toString(8), f).toBe('600');
    const [cert] = t.srv.server.status().certificates!;
    expect(cert).toEqual({ domain: DOMAIN, state: 'issued', expiresAt: expect.any(String), renewsAt: expect.any(String) });
    // pebble's certificates last years: renewal starts 30 days (the default) before expiry
    expect(Date.parse(cert.expiresAt!) - Date.parse(cert.renewsAt!)).toBe(30 * 864e5);
    const again = new CertManager({ domains: [DOMAIN], directoryUrl: 'https://127.0.0.1:9/dir', stateDir: t.stateDir });
    track(() => again.stop());
    again.start();
    await waitFor(() => again.status()[0].state === 'issued', 'the stored certificate to load', 5000);
    expect(again.status()[0].lastError).toBeUndefined(); // no order was needed (that directory does not exist)
  });

  it('renews inside the renewal window and serves the new certificate without a restart; a window longer than the life forces renewal, 10 s apart at least', async () => {
    // Certificates of 18 s and a 10-year window: always due, as a test that forces renewal wants;
    // only the 10 s gap after each issuance keeps it from re-ordering in a loop.
    const issued: number[] = [];
    const warnings: string[] = [];
    const logger = { ...silentLogger, info: (m: string) => void (/ issued, valid until /.test(m) && issued.push(Date.now())), warn: (m: string) => void warnings.push(m) };
    const t = await tunnelWithCerts({ renewBeforeMs: 3650 * 864e5, validitySeconds: 18, logger });
    t.certs.start();
    await waitFor(() => t.certs.status()[0].state === 'issued', 'the first certificate', 60_000, 100);
    const root = await t.pebble.rootCaPem();
    const first = (await httpsVia(t.tlsPort, root)).serial;
    await waitFor(async () => (await httpsVia(t.tlsPort, root)).serial !== first, 'a renewed certificate', 60_000, 200);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(issued.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < issued.length; i++) expect(issued[i] - issued[i - 1]).toBeGreaterThan(9_000);
    expect(warnings.join('\n')).toMatch(/renewal window is longer than its life/);
  });

  it('by default renews when a third of the life is left if that is sooner than 30 days (short-lived certificates)', async () => {
    const t = await tunnelWithCerts({ validitySeconds: 30 });
    t.certs.start();
    await waitFor(() => t.certs.status()[0].state === 'issued', 'the certificate', 60_000, 100);
    const { expiresAt, renewsAt } = t.certs.status()[0];
    // A third of 30 s before expiry (pebble's notAfter may be a second off its notBefore + 30 s).
    expect(Math.abs(Date.parse(expiresAt!) - Date.parse(renewsAt!) - 10_000)).toBeLessThanOrEqual(1_000);
  });

  it('an ACME server that is down: status "error" with the cause and the next attempt, retried, never thrown', async () => {
    const dir = await tempDir();
    const dead = await freePort();
    const certs = new CertManager({ domains: [DOMAIN], directoryUrl: `https://127.0.0.1:${dead}/dir`, stateDir: dir, retryMinMs: 200, retryMaxMs: 400 });
    track(() => certs.stop());
    certs.start();
    await waitFor(() => certs.status()[0].state === 'error', 'the error state', 10_000);
    const s = certs.status()[0];
    expect(s.lastError).toMatch(/ACME server 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expect(Date.parse(s.nextAttemptAt!)).toBeGreaterThan(Date.now() - 1000);
    const firstAttempt = s.nextAttemptAt;
    await waitFor(() => certs.status()[0].nextAttemptAt !== firstAttempt, 'a retry', 5000);
  });

  it('a rate limit: the CA\'s Retry-After (seconds or a date) sets the next attempt when longer than the backoff, up to the cap', async () => {
    // An ACME server that refuses everything with 429 rateLimited (RFC 8555 §6.6), as Let's Encrypt does.
    let retryAfter = '90';
    const refusing = createServer((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/problem+json', 'retry-after': retryAfter });
      res.end(JSON.stringify({ type: 'urn:ietf:params:acme:error:rateLimited', detail: 'too many certificates already issued' }));
    });
    await new Promise<void>((r) => refusing.listen(0, '127.0.0.1', r));
    track(() => new Promise<void>((r) => refusing.close(() => r())));
    const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/dir`;
    const attempt = async (retryMaxMs: number) => {
      const certs = new CertManager({ domains: [DOMAIN], directoryUrl: url, stateDir: await tempDir(), retryMinMs: 200, retryMaxMs });
      track(() => certs.stop());
      const started = Date.now();
      certs.start();
      await waitFor(() => certs.status()[0].state === 'error', 'the refusal', 10_000);
      certs.stop();
      const s = certs.status()[0];
      expect(s.lastError).toMatch(/rateLimited: too many certificates already issued \(HTTP 429\)/);
      return Date.parse(s.nextAttemptAt!) - started;
    };
    expect(await attempt(3_600_000)).toBeGreaterThanOrEqual(89_000); // not the 200 ms backoff
    retryAfter = new Date(Date.now() + 600_000).toUTCString();
    const byDate = await attempt(3_600_000);
    expect(byDate).toBeGreaterThan(580_000);
    expect(byDate).toBeLessThan(620_000);
    expect(await attempt(30_000)).toBeLessThanOrEqual(31_000); // the cap holds
  });

  it('after a failure, attempts rehearse at a second CA and go back to the real one only once a rehearsal passes', async () => {
    const httpPort = await freePort(); // where both pebbles validate HTTP-01; nothing answers at first
    const [real, rehearsal] = [await startPebble(httpPort), await startPebble(httpPort)];
    const realHost = new URL(real.directoryUrl).host;
    const asked: string[] = [];
    const logger = {
      ...silentLogger,
      info: (m: string) => {
        const at = /^(?:requesting .* from|rehearsing .* at) (\S+)/.exec(m)?.[1];
        if (at) asked.push(at === realHost ? 'real' : 'rehearsal');
      },
    };
    const certs = new CertManager({ domains: [DOMAIN], directoryUrl: real.directoryUrl, ca: real.ca, rehearsal: { url: rehearsal.directoryUrl, ca: rehearsal.ca }, stateDir: await tempDir(), retryMinMs: 300, retryMaxMs: 300, logger });
    track(() => certs.stop());
    certs.start();
    await waitFor(() => asked.length >= 3 && certs.status()[0].state === 'error', 'three failed attempts', 60_000, 50);
    expect(certs.status()[0].lastError).toMatch(/^rehearsal at 127\.0\.0\.1:\d+: ACME authorization of blog\.example\.test is invalid: urn:ietf:params:acme:error:connection/);
    // Now the HTTP-01 answers are served: the next rehearsal passes, then the real CA issues.
    const answers = createServer((req, res) => {
      const token = /^\/\.well-known\/acme-challenge\/([\w-]+)$/.exec(req.url ?? '')?.[1];
      const key = token && certs.challenge(token);
      res.writeHead(key ? 200 : 404).end(key || '');
    });
    await new Promise<void>((r) => answers.listen(httpPort, '127.0.0.1', r));
    track(() => new Promise<void>((r) => answers.close(() => r())));
    await waitFor(() => certs.status()[0].state === 'issued', 'the certificate', 60_000, 50);
    // One failure at the real CA, then only rehearsals until one passed, then the real order.
    expect(asked.length).toBeGreaterThanOrEqual(4);
    expect(asked).toEqual(['real', ...Array(asked.length - 2).fill('rehearsal'), 'real']);
    expect(rehearsalFor(LETSENCRYPT.prod)).toEqual({ url: LETSENCRYPT.staging });
    expect(rehearsalFor(LETSENCRYPT.staging)).toBeUndefined();
  });

  it('a rehearsal CA that cannot be reached does not stop the real one', async () => {
    const httpPort = await freePort();
    const real = await startPebble(httpPort);
    const asked: string[] = [];
    const logger = { ...silentLogger, info: (m: string) => void (/^(requesting|rehearsing) /.test(m) && asked.push(m.split(' ')[0])) };
    const certs = new CertManager({ domains: [DOMAIN], directoryUrl: real.directoryUrl, ca: real.ca, rehearsal: { url: `https://127.0.0.1:${await freePort()}/dir` }, stateDir: await tempDir(), retryMinMs: 300, retryMaxMs: 300, logger });
    track(() => certs.stop());
    certs.start();
    await waitFor(() => asked.length >= 1 && certs.status()[0].state === 'error', 'the first failure', 60_000, 50);
    const answers = createServer((req, res) => {
      const key = certs.challenge((req.url ?? '').split('/').pop() ?? '');
      res.writeHead(key ? 200 : 404).end(key || '');
    });
    await new Promise<void>((r) => answers.listen(httpPort, '127.0.0.1', r));
    track(() => new Promise<void>((r) => answers.close(() => r())));
    await waitFor(() => certs.status()[0].state === 'issued', 'the certificate', 60_000, 50);
    expect(asked.slice(-2)).toEqual(['rehearsing', 'requesting']);
  });

  it('a challenge that fails validation reports pebble\'s problem detail', async () => {
    const httpPort = await freePort(); // nothing answers HTTP-01 here
    const pebble = await startPebble(httpPort);
    const certs = new CertManager({ domains: [DOMAIN], directoryUrl: pebble.directoryUrl, ca: pebble.ca, stateDir: await tempDir(), retryMinMs: 60_000 });
    track(() => certs.stop());
    certs.start();
    await waitFor(() => certs.status()[0].state === 'error', 'the failed authorization', 60_000, 100);
    expect(certs.status()[0].lastError).toMatch(/urn:ietf:params:acme:error:connection/);
  });

  it('chooses the directory: staging, prod, or an explicit URL', () => {
    expect(directoryFor('prod')).toBe(LETSENCRYPT.prod);
    expect(directoryFor('staging')).toBe('https://acme-staging-v02.api.letsencrypt.org/directory');
    expect(directoryFor('staging', 'https://127.0.0.1:14000/dir')).toBe('https://127.0.0.1:14000/dir');
  });
});
