/**
 * HTTP mode's public side (PROTOCOL.md §6.2): HTTP on `--port` and, once certificates exist, HTTPS
 * on `--tls-port`. Each request goes as HTTP/1.1 over a new stream to a client serving its Host,
 * bodies streamed both ways with backpressure (nothing is buffered whole); websocket upgrades are
 * spliced through. Node's own HTTP parser holds the limits: head size and time, idle sockets.
 */
import { STATUS_CODES, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { SecureContext } from 'node:tls';
import type { Socket } from 'node:net';
import type { MuxStream } from '../mux/mux-stream.js';
import { splice } from '../mux/splice.js';
import { hostKey } from './host-registry.js';

/** Where certificates and HTTP-01 answers come from (the ACME CertManager). */
export interface PublicCerts {
  challenge(token: string): string | undefined;
  secureContext(servername: string): SecureContext | undefined;
}

export interface PublicHttpOptions {
  addr?: string;
  /** Public HTTP port (80); HTTPS port (443), listened on only with `certs`. */
  port: number;
  tlsPort?: number;
  certs?: PublicCerts;
  /** A request head must arrive within this (default 10 s); a socket idle this long closes (default 120 s). */
  headTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** The largest request head, in bytes (default 16 KiB, Node's): beyond it, 431. */
  maxHeadBytes?: number;
  /** A stream to a client serving `host`, or the status to answer: 404 unknown host, 503 nobody serves it now. */
  open(host: string, meta: Record<string, unknown>): MuxStream | 404 | 503;
  /** Called once per finished request, for the RED metrics. */
  observe?(host: string, method: string, status: number, seconds: number, bytesIn: number, bytesOut: number): void;
}

/**
 * Headers that describe one hop, not the message (RFC 9110 §7.6.1), plus the ones we set and
 * `Expect` (Node has already answered 100-continue to the public peer).
 */
const HOP = /^(connection|keep-alive|proxy-connection|proxy-authenticate|proxy-authorization|te|trailers?|transfer-encoding|upgrade|expect|x-forwarded-(for|proto|host))$/i;

const PAGES: Record<number, string> = {
  400: 'a request has exactly one Host header',
  404: 'no tunnel serves this host name here',
  502: 'the tunnel client could not reach its upstream',
  503: 'no tunnel client is connected for this host name right now',
};

function page(res: ServerResponse, status: number, text = PAGES[status]): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(`${status} ${text}\n`);
}

/**
 * More than one Host line (RFC 9112 §3.2: answered 400). Node keeps the first for routing but
 * would pass on both, and an upstream that reads the last would serve another name.
 */
const hostTwice = (req: IncomingMessage): boolean => req.rawHeaders.filter((h, i) => !(i & 1) && /^host$/i.test(h)).length > 1;

/** The request's headers for the upstream: hop-by-hop ones dropped, X-Forwarded-* set from what we saw. */
function forwarded(req: IncomingMessage, proto: string): string[] {
  const h = req.rawHeaders;
  const drop = new Set((req.headers.connection ?? '').toLowerCase().split(/\s*,\s*/));
  const out: string[] = [];
  for (let i = 0; i < h.length; i += 2) if (!HOP.test(h[i]) && !drop.has(h[i].toLowerCase())) out.push(h[i], h[i + 1]);
  // a public edge trusts no X-Forwarded-* from the internet: they are replaced, not appended to
  out.push('X-Forwarded-For', req.socket.remoteAddress ?? '', 'X-Forwarded-Proto', proto, 'X-Forwarded-Host', req.headers.host ?? '');
  return out;
}

export class PublicHttp {
  readonly #servers: Server[] = [];

  constructor(readonly opts: PublicHttpOptions) {}

  async start(): Promise<void> {
    const o = this.opts;
    const head = o.headTimeoutMs ?? 10_000;
    const idle = o.idleTimeoutMs ?? 120_000;
    // Node looks for late heads every connectionsCheckingInterval (30 s by default): a 10 s limit
    // would hold for up to 40 s. Between requests, a kept-alive connection waits 30 s at most.
    const limits = { headersTimeout: head, connectionsCheckingInterval: Math.min(1000, head / 2), requestTimeout: 0, keepAliveTimeout: Math.min(30_000, idle), maxHeaderSize: o.maxHeadBytes ?? 16_384 };
    const plain = createServer(limits);
    this.#listen(plain, false);
    await listen(plain, o.port, o.addr);
    if (o.certs) {
      const certs = o.certs;
      const tls = createTlsServer({ ...limits, SNICallback: (name, cb) => cb(null, certs.secureContext(name)) });
      this.#listen(tls, true);
      await listen(tls, o.tlsPort ?? 443, o.addr);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.#servers.splice(0).map((s) => new Promise((r) => (s.close(r), s.closeAllConnections()))));
  }

  #listen(server: Server, tls: boolean): void {
    this.#servers.push(server);
    server.timeout = this.opts.idleTimeoutMs ?? 120_000; // a socket silent this long (a stalled body) closes
    server.on('request', (req, res) => this.#request(req, res, tls));
    server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket as Socket, head, tls));
    // A request that breaks a limit or the syntax gets its status, then the connection closes.
    server.on('clientError', (e: NodeJS.ErrnoException, socket) => {
      const status = e.code === 'HPE_HEADER_OVERFLOW' ? 431 : e.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      // (a small write goes to the kernel at once; an answer already under way is not cut into)
      if (socket.writable && !(socket as Socket & { _httpMessage?: unknown })._httpMessage) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      socket.destroy();
    });
  }

  #request(req: IncomingMessage, res: ServerResponse, tls: boolean): void {
    const o = this.opts;
    const t0 = performance.now();
    const host = hostKey(req.headers.host);
    const url = req.url ?? '/';
    const sock = req.socket;
    const [in0, out0] = [sock.bytesRead, sock.bytesWritten];
    res.once('close', () => o.observe?.(host, req.method ?? '', res.statusCode, (performance.now() - t0) / 1000, sock.bytesRead - in0, sock.bytesWritten - out0));
    if (hostTwice(req)) return page(res, 400);
    if (!tls && o.certs) {
      const answer = url.startsWith('/.well-known/acme-challenge/') && o.certs.challenge(url.slice(28));
      if (answer) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(answer);
      // a domain with a certificate is served over HTTPS only (the ACME path above stays plain)
      if (o.certs.secureContext(host)) {
        const port = o.tlsPort && o.tlsPort !== 443 ? `:${o.tlsPort}` : '';
        return void res.writeHead(308, { location: `https://${host}${port}${url}` }).end();
      }
    }
    const stream = o.open(host, { host, remote: `${sock.remoteAddress}:${sock.remotePort}` });
    if (typeof stream === 'number') return page(res, stream);
    const up = request({ createConnection: () => stream as unknown as Socket, method: req.method, path: url, headers: forwarded(req, tls ? 'https' : 'http'), setHost: false });
    up.on('response', (r) => {
      const h: string[] = [];
      for (let i = 0; i < r.rawHeaders.length; i += 2) if (!HOP.test(r.rawHeaders[i])) h.push(r.rawHeaders[i], r.rawHeaders[i + 1]);
      res.writeHead(r.statusCode ?? 502, r.statusMessage, h);
      r.pipe(res);
      r.on('error', () => res.destroy());
    });
    up.on('error', () => (res.headersSent ? res.destroy() : page(res, 502)));
    // the public peer left before the answer ended: the stream and the upstream go too
    res.once('close', () => res.writableFinished || up.destroy());
    req.pipe(up);
  }

  /** A websocket (or other) upgrade: the head as received, plus X-Forwarded-*, then bytes both ways. */
  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer, tls: boolean): void {
    const host = hostKey(req.headers.host);
    const stream = hostTwice(req) ? 400 : this.opts.open(host, { host, remote: `${socket.remoteAddress}:${socket.remotePort}` });
    if (typeof stream === 'number') return void socket.end(`HTTP/1.1 ${stream} ${PAGES[stream]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    const h = req.rawHeaders;
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    const kept = forwarded(req, tls ? 'https' : 'http');
    // Connection and Upgrade say what the upgrade is: they go through here
    for (let i = 0; i < h.length; i += 2) if (/^(connection|upgrade)$/i.test(h[i])) kept.unshift(h[i], h[i + 1]);
    for (let i = 0; i < kept.length; i += 2) lines.push(`${kept[i]}: ${kept[i + 1]}`);
    stream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) stream.write(head);
    void splice(stream, socket);
  }
}

function listen(server: Server, port: number, host = '0.0.0.0'): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject).listen({ port, host }, () => (server.off('error', reject), resolve()));
  });
}
