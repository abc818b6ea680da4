/**
 * Hostile and plain peers of the control port, all on loopback, each from a chosen source address
 * (Linux routes all of 127.0.0.0/8 to lo): idle TCP, a TLS record header then silence, a request
 * head trickled a byte at a time, and HTTPS requests. Every socket registers its cleanup with `track`.
 */
import { request as httpsRequest } from 'node:https';
import { createConnection, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { track } from './engine-harness.js';

/** A connection and when it was opened and closed (performance.now() ms). */
export interface Held {
  socket: Socket;
  openedAt: number;
  /** Resolves with the ms from open to close. */
  closed: Promise<number>;
  isClosed(): boolean;
}

function held(socket: Socket, connected: Promise<unknown>): Promise<Held> {
  const openedAt = performance.now();
  let done = false;
  socket.on('error', () => {});
  track(() => socket.destroy());
  const closed = new Promise<number>((resolve) => socket.once('close', () => ((done = true), resolve(performance.now() - openedAt))));
  return connected.then(() => ({ socket, openedAt, closed, isClosed: () => done }));
}

/** A TCP connection from `localAddress` that sends nothing. */
export function idleTcp(port: number, localAddress = '127.0.0.1'): Promise<Held> {
  const socket = createConnection({ port, host: '127.0.0.1', localAddress });
  return held(socket, new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject)));
}

/** A TLS record header announcing a 200-byte ClientHello that never comes. */
export async function tlsHeaderThenSilence(port: number, localAddress = '127.0.0.1'): Promise<Held> {
  const h = await idleTcp(port, localAddress);
  h.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xc8]));
  return h;
}

/** A finished TLS handshake, then a request head sent one byte every `everyMs`, never ending. */
export function trickledHead(port: number, everyMs: number, localAddress = '127.0.0.1'): Promise<Held> {
  const socket = tlsConnect({ socket: createConnection({ port, host: '127.0.0.1', localAddress }), rejectUnauthorized: false });
  const h = held(socket, new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject)));
  void h.then(() => {
    const text = 'GET /connect HTTP/1.1\r\nHost: x\r\n' + 'X-Slow: ' + 'a'.repeat(100_000);
    let i = 0;
    const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write(text[i++ % text.length])), everyMs);
    socket.once('close', () => clearInterval(timer));
    track(() => clearInterval(timer));
  }, () => {});
  return h;
}

/** GET `path` over TLS from `localAddress` (certificate not verified). `upgrade` asks for a websocket. */
export function getFrom(
  port: number,
  path: string,
  opts: { token?: string; localAddress?: string; upgrade?: boolean } = {},
): Promise<{ status: number; body: string; ms: number }> {
  const started = performance.now();
  const headers: Record<string, string> = opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` };
  if (opts.upgrade) {
    Object.assign(headers, { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'inlets.v1', 'x-inlets-client-id': 'probe' });
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, localAddress: opts.localAddress, rejectUnauthorized: false, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, ms: performance.now() - started }));
    });
    req.on('upgrade', (res, socket) => (socket.destroy(), resolve({ status: res.statusCode!, body: '', ms: performance.now() - started })));
    req.on('error', reject);
    req.end();
  });
}

/** `n` distinct source addresses, 127.0.1.1 onwards (127.0.0.x is left to the tests' own peers). */
export const sources = (n: number) => Array.from({ length: n }, (_, i) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`);
