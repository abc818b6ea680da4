/**
 * The little HTTP/1.1 a client needs before a websocket upgrade or a status query: write a request
 * head, read a response head from a raw socket, read a response body. Responses written by the
 * accepting side are formatted here too.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { TunnelError, UsageError, type TunnelErrorCode } from '../../errors.js';

export interface ResponseHead {
  status: number;
  statusText: string;
  /** Header names in lower case; repeated headers joined with ', '. */
  headers: Record<string, string>;
}

/** Where a control-port URL points. */
export interface Endpoint {
  tls: boolean;
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  port: number;
  /** Path and query; '' when the URL has no path (or just '/'). */
  path: string;
  /** Value for the Host header. */
  hostHeader: string;
}

/**
 * Parses `wss://`, `ws://`, `https://` or `http://` URLs (wss and https mean TLS; the default
 * ports are 443 and 80). Throws UsageError('URL_INVALID').
 */
export function parseEndpoint(url: string): Endpoint {
  const invalid = (why: string) => new UsageError(`invalid URL ${JSON.stringify(url)}: ${why}`, 'URL_INVALID');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('expected wss://HOST:PORT');
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (!['wss', 'ws', 'https', 'http'].includes(scheme)) throw invalid('the scheme must be wss:// (or ws:// without TLS)');
  if (parsed.username || parsed.password) {
    throw new UsageError('the URL must not contain credentials; give the token with --token-file or --token-env', 'URL_INVALID');
  }
  const tls = scheme === 'wss' || scheme === 'https';
  const path = parsed.pathname === '/' ? parsed.search && `/${parsed.search}` : parsed.pathname + parsed.search;
  return { tls, host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || (tls ? 443 : 80)), path, hostHeader: parsed.host };
}

/** `host:port`, IPv6 hosts in brackets: how messages name a server. */
export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Largest response head accepted, in bytes. */
const MAX_HEAD_BYTES = 16 * 1024;

/** Formats a request head. Values must not contain line breaks (the error never shows the value). */
export function formatRequestHead(method: string, path: string, headers: Record<string, string>): string {
  let text = `${method} ${path} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(value)) throw new TunnelError('BAD_HEADER', `the ${name} header value contains a line break`);
    text += `${name}: ${value}\r\n`;
  }
  return text + '\r\n';
}

/** Formats a whole response; Content-Length is added when there is a body. */
export function formatResponse(status: number, headers: Record<string, string>, body = ''): string {
  let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  const all = body ? { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } : headers;
  for (const [name, value] of Object.entries(all)) text += `${name}: ${value}\r\n`;
  return `${text}\r\n${body}`;
}

/** Parses a status line and header lines (without the blank line that ends them). */
export function parseResponseHead(text: string, code: TunnelErrorCode = 'HANDSHAKE_FAILED'): ResponseHead {
  const [first, ...lines] = text.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(first);
  if (!match) throw new TunnelError(code, `the server did not answer with HTTP (got ${JSON.stringify(first.slice(0, 60))})`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { status: Number(match[1]), statusText: match[2] ?? '', headers };
}

/**
 * Collects what `socket` receives after `start` until `complete` returns a result (undefined:
 * not yet), then leaves the socket paused with no listeners of ours. At the socket's end, `atEnd`
 * may still make a result of what came; otherwise, and on errors or more than `max` bytes, rejects
 * with TunnelError(code) saying `what` was being read.
 */
function collect<T>(
  socket: Duplex,
  start: Buffer,
  code: TunnelErrorCode,
  what: string,
  max: number,
  complete: (data: Buffer) => T | undefined,
  atEnd: (data: Buffer) => T | undefined = () => undefined,
): Promise<T> {
  return new Promise((resolve, reject) => {
    let data = start;
    const done = (error: Error | null, result?: T) => {
      socket.pause();
      socket.off('data', onData).off('end', onEnd).off('close', onEnd).off('error', onError);
      if (error) reject(error);
      else resolve(result!);
    };
    const check = (result: T | undefined) => {
      if (result !== undefined) done(null, result);
      else if (data.length > max) done(new TunnelError(code, `the server's ${what} is over ${max} bytes`));
    };
    const onData = (chunk: Buffer) => {
      data = data.length ? Buffer.concat([data, chunk]) : chunk;
      try {
        check(complete(data));
      } catch (error) {
        done(error as Error);
      }
    };
    const onEnd = () => {
      const result = atEnd(data);
      done(result === undefined ? new TunnelError(code, `the server closed the connection before the end of its ${what}`) : null, result);
    };
    const onError = (error: Error) => done(new TunnelError(code, `the connection failed while reading the ${what}: ${error.message}`, { cause: error }));
    socket.on('data', onData).on('end', onEnd).on('close', onEnd).on('error', onError);
    try {
      const result = complete(start);
      if (result !== undefined) return done(null, result);
    } catch (error) {
      return done(error as Error);
    }
    socket.resume();
  });
}

/**
 * Reads a response head from `socket`. Resolves with the head and the bytes received after it,
 * leaving the socket paused with no listeners of ours; rejects with TunnelError(code) if the
 * socket ends, fails or closes first.
 */
export function readResponseHead(socket: Duplex, code: TunnelErrorCode = 'HANDSHAKE_FAILED'): Promise<{ head: ResponseHead; rest: Buffer }> {
  return collect(socket, Buffer.alloc(0), code, 'response head', MAX_HEAD_BYTES, (data) => {
    const end = data.indexOf('\r\n\r\n');
    return end < 0 ? undefined : { head: parseResponseHead(data.toString('latin1', 0, end), code), rest: data.subarray(end + 4) };
  });
}

/**
 * Reads a response body after its head: by Content-Length, chunked, or until the server closes.
 * At most `maxBytes` (default 4 MiB); decoded as UTF-8. Failures are TunnelError(code).
 */
export async function readResponseBody(
  socket: Duplex,
  head: ResponseHead,
  rest: Buffer,
  code: TunnelErrorCode = 'HTTP_FAILED',
  maxBytes = 4 * 1024 * 1024,
): Promise<string> {
  if (head.status < 200 || head.status === 204 || head.status === 304) return '';
  const lengthHeader = head.headers['content-length'];
  const length = lengthHeader === undefined ? undefined : Number(lengthHeader);
  const chunked = /chunked/i.test(head.headers['transfer-encoding'] ?? '');
  const body = await collect(
    socket,
    rest,
    code,
    'response body',
    maxBytes,
    (data) => (chunked ? decodeChunked(data, code) : length !== undefined && data.length >= length ? data.subarray(0, length) : undefined),
    (data) => (chunked || length !== undefined ? undefined : data), // no length: the body ends with the connection
  );
  return body.toString('utf8');
}

/** Races `promise` against the deadline and the signal; either destroys the socket. */
export function withDeadline<T>(socket: Duplex, promise: Promise<T>, deadline: number, where: string, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = (error: TunnelError) => {
      reject(error);
      socket.destroy();
    };
    const onAbort = () => stop(new TunnelError('ABORTED', `the request to ${where} was cancelled`));
    const timer = setTimeout(() => stop(new TunnelError('TIMEOUT', `${where} did not answer in time`)), Math.max(0, deadline - Date.now()));
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    promise.then(
      (value) => (settle(), resolve(value)),
      (error) => (settle(), reject(error)),
    );
  });
}

/** Decodes a chunked body; undefined while the final 0-size chunk has not arrived. */
function decodeChunked(data: Buffer, code: TunnelErrorCode): Buffer | undefined {
  const parts: Buffer[] = [];
  for (let at = 0; ; ) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.toString('latin1', at, lineEnd), 16);
    if (Number.isNaN(size)) throw new TunnelError(code, 'malformed chunked response');
    if (size === 0) return Buffer.concat(parts);
    at = lineEnd + 2 + size + 2;
    if (data.length < at) return undefined;
    parts.push(data.subarray(lineEnd + 2, at - 2));
  }
}
