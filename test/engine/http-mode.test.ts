/** HTTP mode through real sockets: routing by Host, forwarding headers, errors, streaming, upgrades, balancing. */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Agent } from 'node:http';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { HttpUpstream } from '../../src/engine/client/http-upstreams.js';
import { parseHostHeader } from '../../src/engine/client/host-header.js';
import { HttpFront, type HttpFrontOptions } from '../../src/engine/server/http-front.js';
import { cleanupAll, connectTo, controlGet, echoUpstream, freePort, readLine, startClient, startServer, testIdentity, track, waitFor } from '../helpers/engine-harness.js';
import { describingUpstream, get } from '../helpers/http-upstream.js';

afterEach(cleanupAll);

const up = (port: number, tls = false): HttpUpstream => ({ host: '127.0.0.1', port, tls });

async function httpServer(opts: Omit<HttpFrontOptions, 'port'> = {}) {
  const httpPort = await freePort();
  const srv = await startServer({ http: new HttpFront({ addr: '127.0.0.1', ...opts, port: httpPort }) });
  return { ...srv, httpPort };
}

function client(srv: { url: string; token: string; pin: string }, hosts: [string, HttpUpstream][], extra: object = {}) {
  return startClient({ url: srv.url, token: srv.token, trust: { pin: srv.pin }, upstreams: new Map(), hosts: new Map(hosts), ...extra });
}

describe('inlets http server and client', () => {
  it('routes by Host, keeps the Host header, sets X-Forwarded-*, and answers 404 for a host nobody serves', async () => {
    const srv = await httpServer();
    const a = await describingUpstream('a');
    const b = await describingUpstream('b');
    await client(srv, [['blog.example.test', up(a.port)], ['api.example.test', up(b.port)]]);
    const r1 = await get(srv.httpPort, 'blog.example.test', '/post?id=1', { headers: { 'x-forwarded-for': '6.6.6.6', 'x-custom': 'kept' } });
    expect(r1.status).toBe(200);
    const j1 = JSON.parse(r1.body);
    expect(j1).toMatchObject({ name: 'a', method: 'GET', url: '/post?id=1' });
    expect(j1.headers).toMatchObject({ host: 'blog.example.test', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'blog.example.test', 'x-custom': 'kept' });
    const r2 = await get(srv.httpPort, 'API.example.test:8080', '/');
    expect(JSON.parse(r2.body).name).toBe('b');
    const r3 = await get(srv.httpPort, 'nobody.example.test');
    expect(r3.status).toBe(404);
    expect(r3.body).toMatch(/no tunnel serves this host/);
    expect(srv.server.status()).toMatchObject({ mode: 'http', hosts: [{ host: 'api.example.test' }, { host: 'blog.example.test' }] });
  });

  it('keeps public connections alive across requests, and streams a POST body with a checksum', async () => {
    const srv = await httpServer();
    const a = await describingUpstream('a');
    await client(srv, [['blog.example.test', up(a.port)]]);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    track(() => agent.destroy());
    const sockets = new Set();
    for (let i = 0; i < 5; i++) {
      const r = await new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: srv.httpPort, agent, headers: { host: 'blog.example.test' } }, (res) => {
          sockets.add(res.socket);
          let body = '';
          res.on('data', (c) => (body += c)).on('end', () => resolve(body));
        });
        req.on('error', reject).end();
      });
      expect(JSON.parse(r).name).toBe('a');
    }
    expect(sockets.size).toBe(1);
    const body = randomBytes(3 * 1024 * 1024 + 7);
    const r = await get(srv.httpPort, 'blog.example.test', '/upload', { method: 'POST', body });
    expect(JSON.parse(r.body)).toMatchObject({ bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  });

  it('answers 503 for a known host whose clients left, 502 when the upstream is down, and a bare upstream serves any host', async () => {
    const srv = await httpServer({ domains: ['shop.example.test'] });
    const dead = await freePort();
    const { client: c } = await client(srv, [['down.example.test', up(dead)]]);
    expect((await get(srv.httpPort, 'down.example.test')).status).toBe(502);
    expect((await get(srv.httpPort, 'shop.example.test')).status).toBe(503);
    await c.stop();
    await waitFor(() => srv.server.status().clients.length === 0, 'the client to leave');
    expect((await get(srv.httpPort, 'down.example.test')).status).toBe(503);
    const any = await describingUpstream('any');
    await client(srv, [['*', up(any.port)]]);
    expect(JSON.parse((await get(srv.httpPort, 'whatever.example.test')).body).name).toBe('any');
  });

  it('carries a TCP port beside its hosts in one session', async () => {
    const srv = await httpServer();
    const echo = await echoUpstream();
    const pub = await freePort();
    const a = await describingUpstream('a');
    const { welcome } = await client(srv, [['blog.example.test', up(a.port)]], { upstreams: new Map([[pub, { host: '127.0.0.1', port: echo.port }]]) });
    expect(welcome!.accepted).toEqual([pub]);
    const s = await connectTo(pub);
    s.write('hello\n');
    expect(await readLine(s)).toBe('hello');
    s.destroy();
    expect(JSON.parse((await get(srv.httpPort, 'blog.example.test')).body).name).toBe('a');
  });

  it('passes websocket upgrades through (ws echo) and streams server-sent events as they come', async () => {
    const srv = await httpServer();
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    track(() => new Promise((r) => wss.close(r)));
    wss.on('connection', (ws, req) => ws.on('message', (m) => ws.send(`${req.headers['x-forwarded-host']}:${m}`)));
    await new Promise((r) => wss.once('listening', r));
    let tick: NodeJS.Timeout | undefined;
    const sse = await describingUpstream('sse', (req, res) => {
      if (req.url !== '/events') return false;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let n = 0;
      tick = setInterval(() => (++n > 3 ? (clearInterval(tick), res.end()) : res.write(`data: ${n}\n\n`)), 300);
      return true;
    });
    track(() => clearInterval(tick));
    await client(srv, [['ws.example.test', up((wss.address() as { port: number }).port)], ['sse.example.test', up(sse.port)]]);
    const ws = new WebSocket(`ws://127.0.0.1:${srv.httpPort}/`, { headers: { host: 'ws.example.test' } });
    track(() => ws.terminate());
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const echoed = new Promise((r) => ws.once('message', (m) => r(String(m))));
    ws.send('ping');
    expect(await echoed).toBe('ws.example.test:ping');
    const first = await new Promise<{ text: string; ended: boolean }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: srv.httpPort, path: '/events', headers: { host: 'sse.example.test' } }, (res) => {
        let ended = false;
        res.on('end', () => (ended = true));
        res.once('data', (c) => resolve({ text: String(c), ended }));
      });
      req.on('error', reject).end();
    });
    expect(first).toEqual({ text: 'data: 1\n\n', ended: false });
  });

  it('--host-header: rewrite gives upstreams their own host[:port], a value is used as given; bodies and upgrades are intact', async () => {
    const srv = await httpServer();
    const a = await describingUpstream('a');
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    track(() => new Promise((r) => wss.close(r)));
    wss.on('connection', (ws, req) => ws.on('message', (m) => ws.send(`${req.headers.host}|${req.headers['x-forwarded-host']}:${m}`)));
    await new Promise((r) => wss.once('listening', r));
    const wsPort = (wss.address() as { port: number }).port;
    await client(srv, [['blog.example.test', up(a.port)], ['ws.example.test', up(wsPort)]], { hostHeader: parseHostHeader('rewrite') });
    // A body that follows the head in the same chunk, and one far larger than the head limit.
    for (const body of [Buffer.from('small body'), randomBytes(2 * 1024 * 1024 + 3)]) {
      const r = await get(srv.httpPort, 'blog.example.test', '/post', { method: 'POST', body, headers: { host: 'blog.example.test', 'x-custom': 'kept' } });
      expect(r.status).toBe(200);
      const j = JSON.parse(r.body);
      expect(j.headers).toMatchObject({ host: `127.0.0.1:${a.port}`, 'x-forwarded-host': 'blog.example.test', 'x-custom': 'kept' });
      expect(j).toMatchObject({ url: '/post', bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
    }
    const ws = new WebSocket(`ws://127.0.0.1:${srv.httpPort}/`, { headers: { host: 'ws.example.test' } });
    track(() => ws.terminate());
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const echoed = new Promise((r) => ws.once('message', (m) => r(String(m))));
    ws.send('ping');
    expect(await echoed).toBe(`127.0.0.1:${wsPort}|ws.example.test:ping`);

    const fixed = await httpServer();
    await client(fixed, [['*', up(a.port)]], { hostHeader: parseHostHeader('app.internal:8080') });
    expect(JSON.parse((await get(fixed.httpPort, 'blog.example.test')).body).headers.host).toBe('app.internal:8080');
    expect(parseHostHeader(undefined)).toBeUndefined();
    expect(parseHostHeader('rewrite')!({ host: '::1', port: 443, tls: true })).toBe('[::1]');
    for (const bad of ['a b', 'x\r\nEvil: 1', 'host:99999x', '']) expect(() => parseHostHeader(bad), bad).toThrow(/--host-header/);
  });

  it('answers 400 to a request with two Host lines (RFC 9112 §3.2), plain or upgrade, and passes none of it on', async () => {
    const srv = await httpServer();
    let reached = 0;
    const a = await describingUpstream('a', () => (reached++, false));
    await client(srv, [['blog.example.test', up(a.port)]]);
    for (const extra of ['', 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n']) {
      const sock = await connectTo(srv.httpPort);
      const raw = await new Promise<string>((resolve, reject) => {
        let text = '';
        sock.on('data', (c) => ((text += c), text.includes('\r\n\r\n') && resolve(text))).on('error', reject);
        sock.write(`GET /x HTTP/1.1\r\nHost: blog.example.test\r\nhost: other.example.test\r\n${extra}\r\n`);
      });
      expect(raw, extra).toMatch(/^HTTP\/1\.1 400 /);
      sock.destroy();
    }
    expect((await get(srv.httpPort, 'blog.example.test')).status).toBe(200);
    expect(reached).toBe(1);
  });

  it('public limits: a head over --http-max-head gets 431, a late head 408, a stalled body is closed after --idle-timeout', async () => {
    const srv = await httpServer({ maxHeadBytes: 8 * 1024, headTimeoutMs: 600, idleTimeoutMs: 800 });
    let bodyStalled = false;
    const a = await describingUpstream('a', (req) => (req.url === '/stall' && (bodyStalled = true), false));
    await client(srv, [['blog.example.test', up(a.port)]]);
    /** Writes `text` on a new connection; what came back and how long until the server closed it. */
    const exchange = async (text: string, trickle = false) => {
      const sock = await connectTo(srv.httpPort);
      const started = Date.now();
      let reply = '';
      const closed = new Promise<number>((r) => sock.on('data', (c) => (reply += c)).on('close', () => r(Date.now() - started)).on('error', () => {}));
      if (trickle) {
        for (const ch of text) {
          if (sock.destroyed) break;
          sock.write(ch);
          await new Promise((r) => setTimeout(r, 100));
        }
      } else sock.write(text);
      const ms = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
      sock.destroy();
      return { reply, ms };
    };
    const big = `GET / HTTP/1.1\r\nHost: blog.example.test\r\nX-Big: ${'x'.repeat(10 * 1024)}\r\n\r\n`;
    const refused = await exchange(big);
    expect(refused.reply).toMatch(/^HTTP\/1\.1 431 /);
    const fits = await get(srv.httpPort, 'blog.example.test', '/', { headers: { 'x-big': 'y'.repeat(6 * 1024) } });
    expect(fits.status).toBe(200);
    const late = await exchange('GET / HTTP/1.1\r\nHost: blog.example.test\r\nX-Slow: ' + 'z'.repeat(40), true);
    expect(late.reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(late.ms).toBeGreaterThan(400);
    expect(late.ms).toBeLessThan(5_000);
    const stalled = await exchange('POST /stall HTTP/1.1\r\nHost: blog.example.test\r\nContent-Length: 1000\r\n\r\npartial');
    expect(bodyStalled).toBe(true);
    expect(stalled.ms).toBeGreaterThan(600);
    expect(stalled.ms).toBeLessThan(5_000);
    const garbage = await exchange('NOT HTTP AT ALL\r\n\r\n');
    expect(garbage.reply).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('spreads one host over two clients round robin and fails over when one leaves', async () => {
    const srv = await httpServer();
    const a = await describingUpstream('a');
    const b = await describingUpstream('b');
    const { client: ca } = await client(srv, [['blog.example.test', up(a.port)]], { clientId: 'ca' });
    await client(srv, [['blog.example.test', up(b.port)]], { clientId: 'cb' });
    const names = [];
    for (let i = 0; i < 6; i++) names.push(JSON.parse((await get(srv.httpPort, 'blog.example.test')).body).name);
    expect(names.filter((n) => n === 'a').length).toBe(3);
    await ca.stop();
    await waitFor(() => srv.server.status().clients.length === 1, 'client a to leave');
    for (let i = 0; i < 4; i++) expect(JSON.parse((await get(srv.httpPort, 'blog.example.test')).body).name).toBe('b');
  });

  it('reaches https upstreams, verified against --upstream-ca, and refuses an unverified one with 502', async () => {
    const srv = await httpServer();
    const id = testIdentity();
    const secure = await describingUpstream('tls', undefined, { cert: id.certPem, key: id.keyPem });
    // the test identity names 127.0.0.1, so verification by IP works
    await client(srv, [['s.example.test', up(secure.port, true)]], { upstreamCa: id.certPem, clientId: 'good' });
    expect(JSON.parse((await get(srv.httpPort, 's.example.test')).body).name).toBe('tls');
    await client(srv, [['bad.example.test', up(secure.port, true)]], { clientId: 'strict' });
    expect((await get(srv.httpPort, 'bad.example.test')).status).toBe(502);
  });

  it('moves 1 GiB each way through the tunnel without buffering it', async () => {
    const srv = await httpServer();
    const size = 1024 ** 3;
    const chunk = randomBytes(1024 * 1024);
    const a = await describingUpstream('a', (req, res) => {
      if (req.url !== '/download') return false;
      res.writeHead(200, { 'content-length': size });
      Readable.from((function* () {
        for (let i = 0; i < size / chunk.length; i++) yield chunk;
      })()).pipe(res);
      return true;
    });
    await client(srv, [['big.example.test', up(a.port)]]);
    const expected = createHash('sha256');
    for (let i = 0; i < size / chunk.length; i++) expected.update(chunk);
    const digest = expected.digest('hex');
    const down = await new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: srv.httpPort, path: '/download', headers: { host: 'big.example.test' } }, (res) => {
        const h = createHash('sha256');
        let bytes = 0;
        res.on('data', (c: Buffer) => (h.update(c), (bytes += c.length))).on('end', () => resolve({ bytes, sha256: h.digest('hex') }));
      });
      req.on('error', reject).end();
    });
    expect(down).toEqual({ bytes: size, sha256: digest });
    // upload, chunked (no content-length)
    const upload = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: srv.httpPort, method: 'PUT', path: '/up', headers: { host: 'big.example.test' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c)).on('end', () => resolve(body));
      });
      req.on('error', reject);
      Readable.from((function* () {
        for (let i = 0; i < size / chunk.length; i++) yield chunk;
      })()).pipe(req);
    });
    expect(JSON.parse(upload)).toMatchObject({ bytes: size, sha256: digest });
    const rss = process.memoryUsage().rss;
    expect(rss).toBeLessThan(1024 ** 3); // nothing held the whole body
  }, 180_000);

  it('counts requests by host, method and status class, with a duration histogram and bytes', async () => {
    const srv = await httpServer();
    const a = await describingUpstream('a');
    await client(srv, [['blog.example.test', up(a.port)]]);
    await get(srv.httpPort, 'blog.example.test');
    await get(srv.httpPort, 'blog.example.test', '/', { method: 'POST', body: 'x' });
    await get(srv.httpPort, 'random-attacker-name.test');
    const { body: text } = await controlGet(srv.port, '/metrics', srv.token);
    expect(text).toContain('inlets_http_requests_total{host="blog.example.test",method="GET",code="2xx"} 1');
    expect(text).toContain('inlets_http_requests_total{host="blog.example.test",method="POST",code="2xx"} 1');
    expect(text).toContain('inlets_http_requests_total{host="other",method="GET",code="4xx"} 1');
    expect(text).toMatch(/inlets_http_request_duration_seconds_count\{host="blog.example.test"\} 2/);
    expect(text).toMatch(/inlets_http_bytes_total\{host="blog.example.test",direction="out"\} [1-9]/);
    expect(text).not.toContain('random-attacker-name');
  });
});

