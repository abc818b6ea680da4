/**
 * requestControl and dialTunnel's error answers against a small control server built from our
 * accept side (refuseUpgrade, upgradeToWebSocket) on https and plain http, IPv4 and IPv6.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../../src/engine/tls/self-signed.js';
import { bearerToken, tokenMatches } from '../../src/engine/token.js';
import { requestControl } from '../../src/engine/transport/control-request.js';
import { parseEndpoint } from '../../src/engine/transport/http-head.js';
import { refuseUpgrade, upgradeToWebSocket } from '../../src/engine/transport/websocket-accept.js';
import { dialTunnel } from '../../src/engine/transport/websocket-dial.js';

const identity = generateSelfSigned({ ips: ['127.0.0.1', '::1'] });
const TOKEN = 'control-test-token';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function handleRequest(req: IncomingMessage, res: ServerResponse) {
  if (req.url === '/healthz') return res.end('ok');
  if (!tokenMatches(bearerToken(req), TOKEN)) {
    res.writeHead(401, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify({ code: 'AUTH_FAILED', message: 'missing or wrong token' }));
  }
  if (req.url === '/status') {
    res.setHeader('Content-Type', 'application/json');
    return res.end(JSON.stringify({ version: 'test', clients: [] }));
  }
  if (req.url === '/chunked') {
    res.write('part one, ');
    setTimeout(() => res.end('part two'), 20);
    return;
  }
  res.writeHead(404).end();
}

function handleUpgrade(protocols: string[]) {
  return (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url !== '/connect') return refuseUpgrade(socket, 404, { code: 'NOT_FOUND', message: `no such path: ${req.url}` });
    if (!tokenMatches(bearerToken(req), TOKEN)) return refuseUpgrade(socket, 401, { code: 'AUTH_FAILED', message: 'missing or wrong token' });
    const result = upgradeToWebSocket(req, socket, head, { protocols });
    if (result) {
      result.duplex.on('error', () => {});
      result.duplex.end(Buffer.from(`hello ${req.headers['x-inlets-client-id']}`));
    }
  };
}

async function startServer(options: { tls?: boolean; host?: string; protocols?: string[] } = {}) {
  const { tls = true, host = '127.0.0.1', protocols = ['inlets.v1'] } = options;
  const server = tls ? createHttpsServer({ cert: identity.certPem, key: identity.keyPem }, handleRequest) : createHttpServer(handleRequest);
  server.on('upgrade', handleUpgrade(protocols));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return { port, url: `${tls ? 'wss' : 'ws'}://${hostPart}:${port}` };
}

describe('parseEndpoint', () => {
  it('understands the four schemes, default ports, IPv6 literals and paths', () => {
    expect(parseEndpoint('wss://example.com:8123')).toEqual({ tls: true, host: 'example.com', port: 8123, path: '', hostHeader: 'example.com:8123' });
    expect(parseEndpoint('ws://[::1]:99/x?y=1')).toEqual({ tls: false, host: '::1', port: 99, path: '/x?y=1', hostHeader: '[::1]:99' });
    expect(parseEndpoint('https://h')).toMatchObject({ tls: true, port: 443, path: '' });
    expect(parseEndpoint('http://h/')).toMatchObject({ tls: false, port: 80, path: '' });
  });

  it('rejects other schemes, credentials and garbage with URL_INVALID', () => {
    for (const url of ['ftp://h', 'wss://user:pw@h:1', 'not a url', 'h:8123']) {
      expect(() => parseEndpoint(url)).toThrow(expect.objectContaining({ code: 'URL_INVALID' }));
    }
  });
});

describe('requestControl', () => {
  it('GETs JSON with the token over TLS, given a wss:// URL', async () => {
    const { url } = await startServer();
    const res = await requestControl({ url, path: '/status', token: TOKEN, trust: { pin: identity.pin } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body)).toEqual({ version: 'test', clients: [] });
  });

  it('reads chunked bodies, and works over plain http and IPv6', async () => {
    const plain = await startServer({ tls: false, host: '::1' });
    const res = await requestControl({ url: plain.url.replace('ws:', 'http:'), path: '/chunked', token: TOKEN, trust: {} });
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.body).toBe('part one, part two');
  });

  it('returns error statuses as results and works without a token', async () => {
    const { url } = await startServer();
    const health = await requestControl({ url: url.replace('wss:', 'https:'), path: '/healthz', trust: { pin: identity.pin } });
    expect(health).toMatchObject({ status: 200, body: 'ok' });
    const denied = await requestControl({ url, path: '/status', trust: { pin: identity.pin } });
    expect(denied.status).toBe(401);
    expect(JSON.parse(denied.body).code).toBe('AUTH_FAILED');
  });

  it('fails with TLS_PIN_MISMATCH before sending anything', async () => {
    const { url } = await startServer();
    const error = await requestControl({ url, path: '/status', token: TOKEN, trust: { pin: generateSelfSigned().pin } }).catch((e) => e);
    expect(error).toMatchObject({ code: 'TLS_PIN_MISMATCH' });
  });
});

describe('dialTunnel against our accept side', () => {
  it('connects over IPv6 and without TLS, and receives bytes sent right after the 101', async () => {
    for (const options of [{ host: '::1' }, { tls: false }]) {
      const { url } = await startServer(options);
      const { duplex, protocol } = await dialTunnel({ url, token: TOKEN, clientId: 'c-42', trust: { pin: identity.pin } });
      expect(protocol).toBe('inlets.v1');
      const chunks: Buffer[] = [];
      duplex.on('data', (d: Buffer) => chunks.push(d));
      await once(duplex, 'end');
      expect(Buffer.concat(chunks).toString()).toBe('hello c-42');
    }
  });

  it('fails with AUTH_FAILED on a wrong token, without showing it', async () => {
    const { url } = await startServer();
    const error = await dialTunnel({ url, token: 'not-the-token', clientId: 'c', trust: { pin: identity.pin } }).catch((e) => e);
    expect(error).toMatchObject({ code: 'AUTH_FAILED' });
    expect(error.message).toMatch(/401: missing or wrong token/);
    expect(error.message).not.toContain('not-the-token');
  });

  it('fails with VERSION_UNSUPPORTED listing both sides', async () => {
    const { url } = await startServer({ protocols: ['inlets.v2'] });
    const error = await dialTunnel({ url, token: TOKEN, clientId: 'c', trust: { pin: identity.pin } }).catch((e) => e);
    expect(error).toMatchObject({ code: 'VERSION_UNSUPPORTED' });
    expect(error.message).toMatch(/client speaks inlets\.v1.*server.*speaks inlets\.v2/);
  });

  it('fails with HANDSHAKE_FAILED and the server message on other statuses', async () => {
    const { url } = await startServer();
    const error = await dialTunnel({ url: `${url}/elsewhere`, token: TOKEN, clientId: 'c', trust: { pin: identity.pin } }).catch((e) => e);
    expect(error).toMatchObject({ code: 'HANDSHAKE_FAILED' });
    expect(error.message).toMatch(/404 Not Found: no such path: \/elsewhere/);
  });

  it('refuses an empty token and a malformed client id before connecting', async () => {
    await expect(dialTunnel({ url: 'wss://127.0.0.1:1', token: '', clientId: 'c', trust: {} })).rejects.toMatchObject({ code: 'TOKEN_EMPTY' });
    await expect(dialTunnel({ url: 'wss://127.0.0.1:1', token: 't', clientId: 'bad id!', trust: {} })).rejects.toMatchObject({ code: 'CLIENT_ID_INVALID' });
    await expect(dialTunnel({ url: 'wss://127.0.0.1:1', token: 'a\r\nX-Evil: 1', clientId: 'c', trust: { insecure: true } })).rejects.toMatchObject({
      code: expect.stringMatching(/BAD_HEADER|CONNECT_FAILED/),
    });
  });

  it('times out when the server never answers the upgrade', async () => {
    const server = createHttpServer();
    const held: Duplex[] = [];
    server.on('upgrade', (_req, socket: Duplex) => held.push(socket)); // never answered
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    cleanups.push(() => held.forEach((socket) => socket.destroy()));
    const { port } = server.address() as AddressInfo;
    const error = await dialTunnel({ url: `ws://127.0.0.1:${port}`, token: TOKEN, clientId: 'c', trust: {}, timeoutMs: 300 }).catch((e) => e);
    expect(error).toMatchObject({ code: 'TIMEOUT' });
  });
});
