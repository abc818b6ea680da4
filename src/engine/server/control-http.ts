/**
 * The HTTP side of the control port (PROTOCOL.md §2, §12): `/healthz` open, `/status` and
 * `/metrics` behind the bearer token, and the websocket upgrade on `/connect`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { bearerToken, tokenMatches } from '../token.js';
import { refuseUpgrade, upgradeToWebSocket } from '../transport/websocket-accept.js';
import type { ServerMetrics } from './metrics.js';
import type { ServerStatus } from './status-info.js';

/** Protocol versions this server speaks, newest first (PROTOCOL.md §4). */
export const SERVER_PROTOCOLS = ['inlets.v1'];

const CLIENT_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface ControlContext {
  token: string;
  metrics: ServerMetrics;
  status(): ServerStatus;
  connectedClients(): number;
  /** HTTP mode's metric lines. */
  extraMetrics(): string[];
  /** Told of every token check (`ok`: the token was right), before the answer. */
  onAuth(req: IncomingMessage, ok: boolean): void;
  /** A client passed authentication and the upgrade. */
  onTunnel(transport: Duplex, clientId: string, remoteAddress: string): void;
}

function authorized(ctx: ControlContext, req: IncomingMessage): boolean {
  const ok = tokenMatches(bearerToken(req), ctx.token);
  if (!ok) ctx.metrics.authFailures++;
  ctx.onAuth(req, ok);
  return ok;
}

function send(res: ServerResponse, status: number, body: string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, JSON.stringify({ code, message }));
}

/** Answers a plain HTTP request on the control port. */
export function handleControlRequest(ctx: ControlContext, req: IncomingMessage, res: ServerResponse): void {
  // kept alive only once authenticated: a second head on the connection would have no deadline
  res.setHeader('connection', 'close');
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') return send(res, 200, 'ok\n', 'text/plain');
  if (path !== '/status' && path !== '/metrics' && path !== '/connect') return sendError(res, 404, 'NOT_FOUND', `no such path: ${path}`);
  if (req.method !== 'GET') return sendError(res, 405, 'BAD_REQUEST', 'only GET is allowed');
  if (!authorized(ctx, req)) return sendError(res, 401, 'AUTH_FAILED', 'missing or wrong token');
  res.removeHeader('connection');
  if (path === '/connect') return sendError(res, 400, 'BAD_REQUEST', 'GET /connect must be a websocket upgrade');
  if (path === '/status') return send(res, 200, JSON.stringify(ctx.status(), null, 2) + '\n');
  send(res, 200, ctx.metrics.render(ctx.connectedClients(), ctx.extraMetrics()), 'text/plain; version=0.0.4; charset=utf-8');
}

/** Handles an HTTP upgrade on the control port: authenticates, then hands the websocket on. */
export function handleControlUpgrade(ctx: ControlContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', () => {});
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/connect') return refuseUpgrade(socket, 404, { code: 'NOT_FOUND', message: `no such path: ${path}` });
  if (!authorized(ctx, req)) return refuseUpgrade(socket, 401, { code: 'AUTH_FAILED', message: 'missing or wrong token' });
  const id = req.headers['x-inlets-client-id'];
  if (typeof id !== 'string' || !CLIENT_ID.test(id)) {
    return refuseUpgrade(socket, 400, { code: 'BAD_REQUEST', message: 'X-Inlets-Client-Id must be 1-64 characters of A-Z a-z 0-9 . _ -' });
  }
  const accepted = upgradeToWebSocket(req, socket, head, { protocols: SERVER_PROTOCOLS });
  if (!accepted) return;
  const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
  ctx.onTunnel(accepted.duplex, id, remote);
}
