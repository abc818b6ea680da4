/**
 * The little HTTP/1.1 a client needs before a websocket upgrade or a status query: write a request
 * head, read a response head from a raw socket, read a response body. Responses written by the
 * accepting side are formatted here too.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { TunnelError, UsageError } from '../../errors.js';

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
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`invalid URL ${JSON.stringify(url)}: expected wss://HOST:PORT`, 'URL_INVALID');
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (!['wss', 'ws', 'https', 'http'].includes(scheme)) {
    throw new UsageError(`invalid URL ${JSON.stringify(url)}: the scheme must be wss:// (or ws:// without TLS)`, 'URL_INVALID');
  }
  if (parsed.username || parsed.password) {
    throw new UsageError('the URL must not contain credentials; give the token with --token-file or --token-env', 'URL_INVALID');
  }
  const tls = scheme === 'wss' || scheme === 'https';
  const port = parsed.port ? Number(parsed.port) : tls ? 443 : 80;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const path = parsed.pathname === '/' ? parsed.search && `/${parsed.search}` : parsed.pathname + parsed.search;
  return { tls, host, port, path, hostHeader: parsed.host };
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
export function parseResponseHead(text: string, code = 'HANDSHAKE_FAILED'): ResponseHead {
  const lines = text.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!match) throw new TunnelError(code, `the server did not answer with HTTP (got ${JSON.stringify(lines[0].slice(0, 60))})`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { status: Number(match[1]), statusText: match[2] ?? '', headers };
}

/**
 * Reads a response head from `socket`. Resolves with the head and the bytes received after it,
 * leaving the socket paused with no listeners of ours; rejects with TunnelError(code) if the
 * socket ends, fails or closes first.
 */
export function readResponseHead(socket: Duplex, code = 'HANDSHAKE_FAILED'): Promise<{ head: ResponseHead; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const cleanup = () => {
      socket.pause();
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > MAX_HEAD_BYTES) fail(new TunnelError(code, `the server's response head is over ${MAX_HEAD_BYTES} bytes`));
        return;
      }
      cleanup();
      try {
        resolve({ head: parseResponseHead(buffered.toString('latin1', 0, end), code), rest: buffered.subarray(end + 4) });
      } catch (error) {
        reject(error);
      }
    };
    const fail = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onEnd = () => fail(new TunnelError(code, 'the server closed the connection without answering'));
    const onError = (error: Error) => fail(new TunnelError(code, `the connection failed while waiting for the answer: ${error.message}`, { cause: error }));
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    socket.resume();
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
  code = 'HTTP_FAILED',
  maxBytes = 4 * 1024 * 1024,
): Promise<string> {
  if (head.status < 200 || head.status === 204 || head.status === 304) return '';
  const lengthHeader = head.headers['content-length'];
  const length = lengthHeader === undefined ? undefined : Number(lengthHeader);
  const chunked = /chunked/i.test(head.headers['transfer-encoding'] ?? '');
  const bodyOf = (data: Buffer): Buffer | null => {
    if (chunked) return decodeChunked(data, code);
    if (length !== undefined) return data.length >= length ? data.subarray(0, length) : null;
    return null; // until the connection ends
  };
  let received: Buffer = rest;
  const ready = bodyOf(received);
  if (ready) return ready.toString('utf8');
  const body = await new Promise<Buffer>((resolve, reject) => {
    const done = (error: Error | null, result?: Buffer) => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      if (error) reject(error);
      else resolve(result!);
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length > maxBytes) return done(new TunnelError(code, `the response body is over ${maxBytes} bytes`));
      try {
        const result = bodyOf(received);
        if (result) done(null, result);
      } catch (error) {
        done(error as Error);
      }
    };
    const onEnd = () => {
      if (!chunked && length === undefined) done(null, received);
      else done(new TunnelError(code, 'the server closed the connection in the middle of the response'));
    };
    const onError = (error: Error) => done(new TunnelError(code, `reading the response failed: ${error.message}`, { cause: error }));
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    socket.resume();
  });
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
    promise.then(
      (value) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Decodes a chunked body; null while the final 0-size chunk has not arrived. */
function decodeChunked(data: Buffer, code: string): Buffer | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return null;
    const size = parseInt(data.toString('latin1', at, lineEnd), 16);
    if (Number.isNaN(size)) throw new TunnelError(code, 'malformed chunked response');
    if (size === 0) return Buffer.concat(parts);
    if (data.length < lineEnd + 2 + size + 2) return null;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
