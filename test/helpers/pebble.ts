/**
 * Debian's real pebble (a test ACME CA) and pebble-challtestsrv (its DNS: every name is
 * 127.0.0.1) on loopback, for the ACME tests. Its HTTPS listener uses a throw-away certificate
 * made here with openssl; `ca` is that certificate, `rootCaPem()` what issued certificates chain to.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { freePort, tempDir, track, waitFor } from './engine-harness.js';

export interface Pebble {
  directoryUrl: string;
  ca: string;
  rootCaPem(): Promise<string>;
  /** Points `host` at `ip` in pebble's DNS (every other name is 127.0.0.1). */
  addA(host: string, ip: string): Promise<void>;
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout'))).on('error', reject).end();
  });
}

/**
 * Starts both; `httpPort` is where pebble sends its HTTP-01 requests (the server under test).
 * `validitySeconds` sets the life of the certificates it issues (pebble's default is years).
 */
export async function startPebble(httpPort: number, opts: { validitySeconds?: number } = {}): Promise<Pebble> {
  for (const bin of ['/usr/bin/pebble', '/usr/bin/pebble-challtestsrv']) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install pebble (the ACME tests need Debian's pebble)`);
  }
  const dir = await tempDir();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const [acme, mgmt, dns, dnsMgmt] = [await freePort(), await freePort(), await freePort(), await freePort()];
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ pebble: { listenAddress: `127.0.0.1:${acme}`, managementListenAddress: `127.0.0.1:${mgmt}`, certificate: join(dir, 'cert.pem'), privateKey: join(dir, 'key.pem'), httpPort, tlsPort: await freePort(), ocspResponderURL: '', externalAccountBindingRequired: false, ...(opts.validitySeconds ? { certificateValidityPeriod: opts.validitySeconds } : {}) } }));
  const run = (bin: string, args: string[], env: Record<string, string> = {}): ChildProcess => {
    const p = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    p.stderr!.resume();
    track(() => new Promise<void>((r) => (p.exitCode !== null ? r() : (p.once('exit', () => r()), p.kill()))));
    return p;
  };
  run('/usr/bin/pebble-challtestsrv', ['-dns01', `127.0.0.1:${dns}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${dnsMgmt}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '']);
  run('/usr/bin/pebble', ['-config', join(dir, 'config.json'), '-dnsserver', `127.0.0.1:${dns}`], { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' });
  const ca = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const directoryUrl = `https://127.0.0.1:${acme}/dir`;
  await waitFor(() => httpsGet(directoryUrl, ca).then((r) => r.status === 200, () => false), 'pebble to answer', 15_000, 100);
  const addA = async (host: string, ip: string) => {
    const res = await fetch(`http://127.0.0.1:${dnsMgmt}/add-a`, { method: 'POST', body: JSON.stringify({ host: `${host}.`, addresses: [ip] }), signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`pebble-challtestsrv /add-a answered ${res.status}`);
  };
  return { directoryUrl, ca, rootCaPem: async () => (await httpsGet(`https://127.0.0.1:${mgmt}/roots/0`, ca)).body, addA };
}
