/**
 * The server side of the websocket upgrade (RFC 6455 §4.2) with version negotiation through
 * Sec-WebSocket-Protocol (PROTOCOL.md §4). Authentication is the caller's job, before this.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { formatResponse } from './http-head.js';
import { WebSocketDuplex, type WebSocketDuplexOptions } from './websocket-duplex.js';

/** The GUID RFC 6455 appends to the key before hashing. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The Sec-WebSocket-Accept value for a Sec-WebSocket-Key. */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

export interface UpgradeOptions {
  /** Protocols this server speaks, preferred (newest) first, e.g. ['inlets.v1']. */
  protocols: string[];
  /** Passed on to the duplex (maxMessageBytes and buffer sizes). */
  duplex?: Omit<WebSocketDuplexOptions, 'role' | 'head'>;
}

/**
 * Completes an upgrade request from an http(s) server's 'upgrade' event. Picks the first of
 * `protocols` that the client offered. On a malformed upgrade answers 400 BAD_REQUEST, when no
 * protocol matches 426 VERSION_UNSUPPORTED (with `supported`), and returns null.
 */
export function upgradeToWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  options: UpgradeOptions,
): { duplex: WebSocketDuplex; protocol: string } | null {
  const problem = validateUpgrade(req);
  if (problem) {
    refuseUpgrade(socket, 400, { code: 'BAD_REQUEST', message: problem }, { 'Sec-WebSocket-Version': '13' });
    return null;
  }
  const offered = (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const protocol = options.protocols.find((p) => offered.includes(p));
  if (!protocol) {
    refuseUpgrade(socket, 426, {
      code: 'VERSION_UNSUPPORTED',
      message: `no offered protocol version (${offered.join(', ') || 'none'}) is one this server speaks: ${options.protocols.join(', ')}`,
      supported: options.protocols,
      offered,
    });
    return null;
  }
  socket.write(
    formatResponse(101, {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Accept': acceptKey(String(req.headers['sec-websocket-key'])),
      'Sec-WebSocket-Protocol': protocol,
    }),
  );
  const duplex = new WebSocketDuplex(socket, { ...options.duplex, role: 'server', head });
  return { duplex, protocol };
}

/** Why a request is not a valid websocket upgrade, or null when it is. */
function validateUpgrade(req: IncomingMessage): string | null {
  if (req.method !== 'GET') return `a websocket upgrade must use GET, not ${req.method}`;
  if (!/(^|,)\s*websocket\s*(,|$)/i.test(req.headers.upgrade ?? '')) return 'missing "Upgrade: websocket"';
  if (!/(^|,)\s*upgrade\s*(,|$)/i.test(req.headers.connection ?? '')) return 'missing "Connection: Upgrade"';
  if (req.headers['sec-websocket-version'] !== '13') return 'unsupported Sec-WebSocket-Version (this server speaks 13)';
  const key = req.headers['sec-websocket-key'] ?? '';
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key)) return 'missing or malformed Sec-WebSocket-Key';
  return null;
}

/**
 * Answers an upgrade request with a plain HTTP/1.1 JSON error and Connection: close, then ends
 * the socket (destroying it if the client does not close within 2 s).
 */
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  body: { code: string; message: string; [key: string]: unknown },
  headers: Record<string, string> = {},
): void {
  if (socket.destroyed) return;
  socket.on('error', () => {}); // the client may reset first; nothing is left to tell it
  const text = formatResponse(status, { 'Content-Type': 'application/json', Connection: 'close', ...headers }, JSON.stringify(body));
  socket.end(text);
  const timer = setTimeout(() => socket.destroy(), 2000);
  timer.unref?.();
  socket.once('close', () => clearTimeout(timer));
}
