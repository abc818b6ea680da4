import { X509Certificate, createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { ipBytes, generateSelfSigned } from '../../src/engine/tls/self-signed.js';
import { parsePin, pinOf } from '../../src/engine/tls/pin.js';
import { connectTrusted } from '../../src/engine/tls/tls-connect.js';
import { loadOrCreateIdentity } from '../../src/engine/tls/identity-store.js';
import { dialTunnel } from '../../src/engine/transport/websocket-dial.js';

const identity = generateSelfSigned({ ips: ['127.0.0.1', '::1'], dnsNames: ['localhost'] });
const other = generateSelfSigned();
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function listen(server: NetServer, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** A TLS server with our certificate that counts the application bytes each connection sends. */
async function startCountingTlsServer(host = '127.0.0.1') {
  const received: number[] = [];
  const closed: Array<Promise<unknown>> = [];
  const sockets = new Set<TLSSocket>();
  const server = createTlsServer({ cert: identity.certPem, key: identity.keyPem }, (socket) => {
    sockets.add(socket);
    const index = received.push(0) - 1;
    socket.on('data', (data) => (received[index] += data.length));
    socket.on('error', () => {});
  });
  server.on('connection', (raw) => closed.push(once(raw, 'close')));
  server.on('tlsClientError', () => {});
  cleanups.push(() => sockets.forEach((s) => s.destroy()));
  const port = await listen(server, host);
  return { port, received, closed };
}

describe('self-signed certificates', () => {
  it('is signed by its own key and carries the requested names', () => {
    const cert = new X509Certificate(identity.certPem);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(identity.keyPem))).toBe(true);
    expect(cert.subject).toBe('CN=inlets');
    expect(cert.issuer).toBe('CN=inlets');
    expect(cert.ca).toBe(false);
    expect(cert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // Node reports extKeyUsage here
    const days = (Date.parse(cert.validTo) - Date.now()) / 86400_000;
    expect(days).toBeGreaterThan(3649);
    expect(days).toBeLessThan(3651);
    expect(createPublicKey(identity.keyPem).asymmetricKeyType).toBe('ed25519');
  });

  it('keeps an ECDSA P-256 key that an older version made, signing with ecdsa-with-SHA256', () => {
    const ecKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const kept = generateSelfSigned({ keyPem: ecKey, dnsNames: ['localhost'] });
    const cert = new X509Certificate(kept.certPem);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(ecKey))).toBe(true);
    expect(execFileSync('openssl', ['x509', '-noout', '-text'], { input: kept.certPem }).toString()).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => generateSelfSigned({ keyPem: rsaKey })).toThrow(expect.objectContaining({ code: 'TLS_KEY_INVALID' }));
  });

  it('parses with openssl, which shows every extension and verifies the signature', async () => {
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: identity.certPem }).toString();
    expect(text).toMatch(/Version: 3 \(0x2\)/);
    expect(text).toMatch(/Signature Algorithm: ED25519/);
    expect(text).toMatch(/Public Key Algorithm: ED25519/);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    // keyUsage is left out (optional for a server certificate, RFC 5280 4.2.1.3): user-data bytes
    expect(text).not.toMatch(/X509v3 Key Usage/);
    expect(text).toMatch(/Extended Key Usage:\s+TLS Web Server Authentication/);
    expect(text).toMatch(/DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
    // openssl verifies the self-signature too.
    const dir = await mkdtemp(join(tmpdir(), 'inlets-cert-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'cert.pem');
    await writeFile(file, identity.certPem);
    expect(execFileSync('openssl', ['verify', '-CAfile', file, file]).toString()).toMatch(/: OK/);
  });

  it('has a pin equal to openssl\'s SHA-256 of the DER public key', () => {
    const pubPem = execFileSync('openssl', ['x509', '-pubkey', '-noout'], { input: identity.certPem });
    const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pubPem });
    expect(identity.pin).toBe(`sha256:${createHash('sha256').update(der).digest('hex')}`);
    expect(pinOf(identity.certPem)).toBe(identity.pin);
    expect(pinOf(new X509Certificate(identity.certPem).raw)).toBe(identity.pin);
    expect(identity.pin).not.toBe(other.pin);
  });

  it('keeps the pin when remade from the same key', () => {
    const again = generateSelfSigned({ keyPem: identity.keyPem, commonName: 'renewed' });
    expect(again.pin).toBe(identity.pin);
    expect(again.certPem).not.toBe(identity.certPem);
    expect(new X509Certificate(again.certPem).subject).toBe('CN=renewed');
  });

  it('encodes IPv4 and IPv6 addresses', () => {
    expect(ipBytes('192.0.2.1').toString('hex')).toBe('c0000201');
    expect(ipBytes('::1').toString('hex')).toBe('00000000000000000000000000000001');
    expect(ipBytes('2001:db8::8:800:200c:417a').toString('hex')).toBe('20010db8000000000008080020 0c417a'.replace(' ', ''));
    expect(ipBytes('::ffff:192.0.2.1').toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(ipBytes('fe80::1%eth0').toString('hex')).toBe('fe800000000000000000000000000001');
    expect(() => ipBytes('not-an-ip')).toThrow(/not an IP/);
  });
});

describe('pins', () => {
  it('accepts sha256: and 64 hex digits, normalized to lower case', () => {
    const hex = 'A'.repeat(64);
    expect(parsePin(` sha256:${hex} `)).toBe(`sha256:${'a'.repeat(64)}`);
  });

  it.each(['', 'sha256:', `sha1:${'a'.repeat(64)}`, `sha256:${'a'.repeat(63)}`, `sha256:${'g'.repeat(64)}`, 'a'.repeat(64)])(
    'rejects %j with TLS_PIN_INVALID',
    (text) => {
      expect(() => parsePin(text)).toThrow(expect.objectContaining({ code: 'TLS_PIN_INVALID', message: expect.stringMatching(/sha256:.*64 hex/) }));
    },
  );
});

describe('connectTrusted', () => {
  it('trusts a server by pin', async () => {
    const { port } = await startCountingTlsServer();
    const socket = await connectTrusted({ host: '127.0.0.1', port, trust: { pin: identity.pin } });
    expect((socket as TLSSocket).encrypted).toBe(true);
    socket.destroy();
  });

  it('reaches an IPv6 literal', async () => {
    const { port } = await startCountingTlsServer('::1');
    const socket = await connectTrusted({ host: '::1', port, trust: { caPem: identity.certPem } });
    expect((socket as TLSSocket).authorized).toBe(true);
    socket.destroy();
  });

  it('rejects a pin mismatch before anything is written, naming both pins', async () => {
    const server = await startCountingTlsServer();
    const error = await connectTrusted({ host: '127.0.0.1', port: server.port, trust: { pin: other.pin } }).catch((e) => e);
    expect(error).toMatchObject({ code: 'TLS_PIN_MISMATCH' });
    expect(error.message).toContain(other.pin);
    expect(error.message).toContain(identity.pin);
  });

  it('never sends the upgrade request (or the token) to a server that fails the pin', async () => {
    const server = await startCountingTlsServer();
    const error = await dialTunnel({
      url: `wss://127.0.0.1:${server.port}`,
      token: 'secret-token-value',
      clientId: 'c1',
      trust: { pin: other.pin },
    }).catch((e) => e);
    expect(error).toMatchObject({ code: 'TLS_PIN_MISMATCH' });
    expect(error.message).not.toContain('secret-token-value');
    await Promise.all(server.closed);
    expect(server.closed.length).toBe(1);
    expect(sum(server.received)).toBe(0);
    // Control: with the right pin the same server does receive the request (it never answers).
    const timeout = await dialTunnel({
      url: `wss://127.0.0.1:${server.port}`,
      token: 'secret-token-value',
      clientId: 'c1',
      trust: { pin: identity.pin },
      timeoutMs: 1000,
    }).catch((e) => e);
    expect(timeout).toMatchObject({ code: 'TIMEOUT' });
    expect(sum(server.received)).toBeGreaterThan(100);
  });

  it('verifies the chain and host name against a given CA', async () => {
    const { port } = await startCountingTlsServer();
    const ok = await connectTrusted({ host: '127.0.0.1', port, trust: { caPem: identity.certPem } });
    ok.destroy();
    const wrongCa = await connectTrusted({ host: '127.0.0.1', port, trust: { caPem: other.certPem } }).catch((e) => e);
    expect(wrongCa).toMatchObject({ code: 'TLS_VERIFY_FAILED' });
    expect(wrongCa.message).toMatch(/given CA/);
    const wrongName = await connectTrusted({ host: '127.0.0.1', port, trust: { caPem: identity.certPem, servername: 'example.com' } }).catch((e) => e);
    expect(wrongName).toMatchObject({ code: 'TLS_VERIFY_FAILED' });
    expect(wrongName.message).toMatch(/ALTNAME/);
  });

  it('verifies against the system CAs when given neither pin nor CA', async () => {
    const server = await startCountingTlsServer();
    const error = await connectTrusted({ host: '127.0.0.1', port: server.port, trust: {} }).catch((e) => e);
    expect(error).toMatchObject({ code: 'TLS_VERIFY_FAILED' });
    expect(error.message).toMatch(/system CAs/);
    await Promise.all(server.closed);
    expect(server.closed.length).toBe(1);
    expect(sum(server.received)).toBe(0);
  });

  it('accepts anything when insecure', async () => {
    const { port } = await startCountingTlsServer();
    const socket = await connectTrusted({ host: '127.0.0.1', port, trust: { insecure: true } });
    socket.destroy();
  });

  it('connects without TLS when disabled', async () => {
    const server = createNetServer((s) => s.end('plain'));
    const port = await listen(server);
    const socket = await connectTrusted({ host: '127.0.0.1', port, trust: { disableTls: true } });
    const [data] = await once(socket, 'data');
    expect(String(data)).toBe('plain');
    socket.destroy();
  });

  it('reports CONNECT_FAILED with host, port and the OS reason', async () => {
    const server = createNetServer();
    const port = await listen(server);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await connectTrusted({ host: '127.0.0.1', port, trust: { pin: identity.pin } }).catch((e) => e);
    expect(error).toMatchObject({ code: 'CONNECT_FAILED' });
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('reports TIMEOUT when the TLS handshake never completes', async () => {
    const silent = new Set<import('node:net').Socket>();
    const server = createNetServer((s) => silent.add(s));
    const port = await listen(server);
    cleanups.push(() => silent.forEach((s) => s.destroy()));
    const error = await connectTrusted({ host: '127.0.0.1', port, trust: { pin: identity.pin }, timeoutMs: 300 }).catch((e) => e);
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });

  it('reports TLS_HANDSHAKE_FAILED with a hint when the server does not speak TLS', async () => {
    const server = createHttpServer((_req, res) => res.end('hi'));
    const port = await listen(server);
    cleanups.push(() => server.closeAllConnections());
    const error = await connectTrusted({ host: '127.0.0.1', port, trust: { pin: identity.pin } }).catch((e) => e);
    expect(error).toMatchObject({ code: 'TLS_HANDSHAKE_FAILED' });
    expect(error.message).toMatch(/ws:\/\//);
  });

  it('stops with ABORTED when the signal fires', async () => {
    const silent = new Set<import('node:net').Socket>();
    const server = createNetServer((s) => silent.add(s));
    const port = await listen(server);
    cleanups.push(() => silent.forEach((s) => s.destroy()));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await connectTrusted({ host: '127.0.0.1', port, trust: { pin: identity.pin }, signal: controller.signal }).catch((e) => e);
    expect(error).toMatchObject({ code: 'ABORTED' });
  });

  it('rejects a malformed pin as a usage error', async () => {
    const error = await connectTrusted({ host: '127.0.0.1', port: 1, trust: { pin: 'sha256:xyz' } }).catch((e) => e);
    expect(error).toMatchObject({ code: 'TLS_PIN_INVALID' });
  });
});

describe('identity store', () => {
  it('creates key and certificate with mode 0600 in a 0700 directory, then reuses them', async () => {
    const base = await mkdtemp(join(tmpdir(), 'inlets-identity-'));
    cleanups.push(() => rm(base, { recursive: true, force: true }));
    const dir = join(base, 'state');
    const first = await loadOrCreateIdentity(dir);
    expect(first.created).toBe(true);
    expect(first.pin).toBe(pinOf(first.certPem));
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'server.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'server.crt'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, 'server.crt'), 'utf8')).toBe(first.certPem);

    const second = await loadOrCreateIdentity(dir);
    expect(second.created).toBe(false);
    expect(second.pin).toBe(first.pin);
    expect(second.certPem).toBe(first.certPem);
    expect(second.keyPem).toBe(first.keyPem);
  });

  it('remakes a broken certificate from the existing key, keeping the pin', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inlets-identity-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const first = await loadOrCreateIdentity(dir);
    await writeFile(join(dir, 'server.crt'), 'garbage');
    const again = await loadOrCreateIdentity(dir);
    expect(again.created).toBe(true);
    expect(again.pin).toBe(first.pin);
    expect(again.certPem).not.toBe(first.certPem);
  });

  it('makes a new identity when the key is unusable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inlets-identity-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const first = await loadOrCreateIdentity(dir);
    await writeFile(join(dir, 'server.key'), 'not a key');
    const again = await loadOrCreateIdentity(dir);
    expect(again.created).toBe(true);
    expect(again.pin).not.toBe(first.pin);
    expect(createPrivateKey(await readFile(join(dir, 'server.key'), 'utf8')).asymmetricKeyType).toBe('ed25519');
  });
});
