/**
 * A plain HTTP/1.1 GET on the control port over a verified connection (same trust rules as the
 * tunnel), for `inlets status` and inletsctl's readiness check.
 */
import { connectTrusted, type TlsTrust } from '../tls/tls-connect.js';
import { formatRequestHead, parseEndpoint, readResponseBody, readResponseHead, withDeadline } from './http-head.js';

export interface ControlRequestOptions {
  /** The control port URL: wss:// or https:// (TLS), ws:// or http:// (no TLS). Its path is ignored. */
  url: string;
  /** Request path, e.g. '/status'. */
  path: string;
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
 * GETs `path`. Rejects with the TunnelError codes of connectTrusted, TIMEOUT, or HTTP_FAILED
 * when the server does not answer properly; an HTTP error status is a normal result.
 */
export async function requestControl(options: ControlRequestOptions): Promise<ControlResponse> {
  const { token, timeoutMs = 10_000, signal } = options;
  const endpoint = parseEndpoint(options.url);
  const where = `${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
  const deadline = Date.now() + timeoutMs;
  const socket = await connectTrusted({
    host: endpoint.host,
    port: endpoint.port,
    trust: { ...options.trust, disableTls: !endpoint.tls },
    timeoutMs,
    signal,
  });
  try {
    const headers: Record<string, string> = { Host: endpoint.hostHeader, Accept: '*/*', Connection: 'close' };
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    socket.write(formatRequestHead('GET', options.path, headers));
    const { head, rest } = await withDeadline(socket, readResponseHead(socket, 'HTTP_FAILED'), deadline, where, signal);
    const body = await withDeadline(socket, readResponseBody(socket, head, rest, 'HTTP_FAILED'), deadline, where, signal);
    return { status: head.status, headers: head.headers, body };
  } finally {
    socket.destroy();
  }
}
