/**
 * The client side of the control connection: connect and verify (tls-connect), send the
 * websocket upgrade with the token, and turn the answer into a duplex or a clear TunnelError.
 */
import { randomBytes } from 'node:crypto';
import { TunnelError, UsageError } from '../../errors.js';
import type { TlsTrust } from '../tls/tls-connect.js';
import { connectControl } from './control-request.js';
import { formatRequestHead, parseEndpoint, readResponseBody, readResponseHead, withDeadline } from './http-head.js';
import { acceptKey } from './websocket-accept.js';
import { WebSocketDuplex, type WebSocketDuplexOptions } from './websocket-duplex.js';

export interface DialOptions {
  /** `wss://HOST[:PORT][/PATH]` (TLS) or `ws://…` (no TLS). Default path /connect. */
  url: string;
  token: string;
  /** 1 to 64 characters of [A-Za-z0-9._-] (PROTOCOL.md §2). */
  clientId: string;
  /** Versions offered, newest first. Default ['inlets.v1']. */
  protocols?: string[];
  /** How to trust the server; `disableTls` is taken from the URL scheme. */
  trust: TlsTrust;
  /** For connect, TLS and the upgrade together, in ms. Default 10000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Passed on to the duplex (maxMessageBytes and buffer sizes). */
  duplex?: Omit<WebSocketDuplexOptions, 'role' | 'head'>;
}

const CLIENT_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Opens a tunnel session transport. Rejects with TunnelError: the codes of connectTrusted, and
 * AUTH_FAILED (401), VERSION_UNSUPPORTED (426), HANDSHAKE_FAILED (anything else), TIMEOUT;
 * UsageError for an invalid URL, empty token or malformed client id.
 */
export async function dialTunnel(options: DialOptions): Promise<{ duplex: WebSocketDuplex; protocol: string }> {
  const { token, clientId, protocols = ['inlets.v1'], timeoutMs = 10_000, signal } = options;
  parseEndpoint(options.url); // a bad URL is a usage error, before anything else
  if (!token) throw new UsageError('the token is empty; an empty token is never accepted', 'TOKEN_EMPTY');
  if (!CLIENT_ID.test(clientId)) {
    throw new UsageError(`invalid client id ${JSON.stringify(clientId)}: use 1 to 64 characters of A-Z a-z 0-9 . _ -`, 'CLIENT_ID_INVALID');
  }
  const { socket, endpoint, where, deadline } = await connectControl(options.url, options.trust, timeoutMs, signal);

  const key = randomBytes(16).toString('base64');
  const request = formatRequestHead('GET', endpoint.path || '/connect', {
    Host: endpoint.hostHeader,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Protocol': protocols.join(', '),
    Authorization: `Bearer ${token}`,
    'X-Inlets-Client-Id': clientId,
  });
  try {
    socket.write(request);
    const { head, rest } = await withDeadline(socket, readResponseHead(socket), deadline, where, signal);
    if (head.status === 101) {
      if (head.headers['sec-websocket-accept'] !== acceptKey(key)) {
        throw new TunnelError('HANDSHAKE_FAILED', `${where} answered 101 with a wrong Sec-WebSocket-Accept (not a websocket server?)`, { httpStatus: 101 });
      }
      const protocol = head.headers['sec-websocket-protocol'] ?? '';
      if (!protocols.includes(protocol)) {
        throw new TunnelError('HANDSHAKE_FAILED', `${where} chose protocol ${JSON.stringify(protocol)}, which was not offered (${protocols.join(', ')})`);
      }
      const duplex = new WebSocketDuplex(socket, { ...options.duplex, role: 'client', head: rest });
      return { duplex, protocol };
    }
    const text = await withDeadline(socket, readResponseBody(socket, head, rest, 'HANDSHAKE_FAILED', 64 * 1024), deadline, where, signal).catch(() => '');
    const body = parseJson(text);
    const serverMessage = redact(typeof body?.message === 'string' ? body.message : text.replace(/\s+/g, ' ').trim().slice(0, 200), token);
    if (head.status === 401) {
      throw new TunnelError('AUTH_FAILED', `${where} refused the token (401${serverMessage ? `: ${serverMessage}` : ''})`);
    }
    if (head.status === 426) {
      const supported = Array.isArray(body?.supported) ? (body.supported as unknown[]).map(String) : [];
      throw new TunnelError(
        'VERSION_UNSUPPORTED',
        `protocol version mismatch: this client speaks ${protocols.join(', ')}, the server at ${where} speaks ${supported.join(', ') || 'something else'}`,
      );
    }
    throw new TunnelError('HANDSHAKE_FAILED', `${where} answered ${head.status} ${head.statusText}${serverMessage ? `: ${serverMessage}` : ''}`.trim(), { httpStatus: head.status });
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A server may echo what it was sent; the token must still never reach a message. */
function redact(text: string, token: string): string {
  return token ? text.split(token).join('[token]') : text;
}
