/**
 * A plain HTTP/1.1 GET (or PUT) on the control port over a verified connection (same trust rules as the
 * tunnel), for `inlets status` and inletsctl's readiness check.
 */
import type { Socket } from 'node:net';
import { connectTrusted, type TlsTrust } from '../tls/tls-connect.js';
import { formatRequestHead, hostPort, parseEndpoint, readResponseBody, readResponseHead, withDeadline, type Endpoint } from './http-head.js';

export interface ControlRequestOptions {
  /** The control port URL: wss:// or https:// (TLS), ws:// or http:// (no TLS). Its path is ignored. */
  url: string;
  /** Request path, e.g. '/status'. */
  path: string;
  /** GET by default; PUT sends `body` (inletsctl's staged server delivery, PROTOCOL.md §15). */
  method?: 'GET' | 'PUT';
  body?: Buffer;
  /** Sent as `Authorization: Bearer`; omitted when undefined. */
  token?: string;
  trust: TlsTrust;
  /** Connect, TLS, request and response together, in ms. Default 10000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ControlResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Connects to the control port `url` points at and verifies it (scheme decides TLS); what both
 * requestControl and dialTunnel start with. `deadline` is when `timeoutMs` (from now) runs out.
 */
export async function connectControl(
  url: string,
  trust: TlsTrust,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ socket: Socket; endpoint: Endpoint; where: string; deadline: number }> {
  const endpoint = parseEndpoint(url);
  const deadline = Date.now() + timeoutMs;
  const { host, port } = endpoint;
  const socket = await connectTrusted({ host, port, trust: { ...trust, disableTls: !endpoint.tls }, timeoutMs, signal });
  return { socket, endpoint, where: hostPort(host, port), deadline };
}

/**
 * GETs `path`. Rejects with the TunnelError codes of connectTrusted, TIMEOUT, or HTTP_FAILED
 * when the server does not answer properly; an HTTP error status is a normal result.
 */
export async function requestControl(options: ControlRequestOptions): Promise<ControlResponse> {
  const { token, signal } = options;
  const { socket, endpoint, where, deadline } = await connectControl(options.url, options.trust, options.timeoutMs ?? 10_000, signal);
  try {
    const headers: Record<string, string> = { Host: endpoint.hostHeader, Accept: '*/*', Connection: 'close' };
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    const body = options.method === 'PUT' ? (options.body ?? Buffer.alloc(0)) : undefined;
    if (body) headers['Content-Length'] = String(body.length);
    socket.write(formatRequestHead(options.method ?? 'GET', options.path, headers));
    if (body) socket.write(body);
    const { head, rest } = await withDeadline(socket, readResponseHead(socket, 'HTTP_FAILED'), deadline, where, signal);
    const text = await withDeadline(socket, readResponseBody(socket, head, rest, 'HTTP_FAILED'), deadline, where, signal);
    return { status: head.status, headers: head.headers, body: text };
  } finally {
    socket.destroy();
  }
}
