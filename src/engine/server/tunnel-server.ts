/**
 * `inlets tcp server`: the control port (TLS websocket + HTTP endpoints) and the data plane.
 * Each client session advertises ports in `hello`; each public connection becomes a stream to
 * one of the sessions offering its port (PROTOCOL.md §6, §9, §10).
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { hostname } from 'node:os';
import type { Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { TunnelError } from '../../errors.js';
import { closedWithin } from '../closed-within.js';
import { silentLogger, type Logger } from '../log.js';
import { MuxSession, type MuxSessionOptions } from '../mux/mux-session.js';
import { ErrorCode } from '../protocol/frame-codec.js';
import type { PortRange } from '../port-ranges.js';
import { handleControlRequest, handleControlUpgrade } from './control-http.js';
import { ServerMetrics } from './metrics.js';
import { PortRegistry } from './port-registry.js';
import { AuthThrottle } from './auth-throttle.js';
import { PreauthGuard, sourceKey } from './preauth-guard.js';
import { Liveness, forwardPublic } from './public-forward.js';
import type { CertificateInfo, ServerStatus } from './status-info.js';
import { ENGINE_VERSION } from '../version.js';

export interface TunnelServerOptions {
  /** The shared secret; must not be empty. */
  token: string;
  /** Control plane address. Default `0.0.0.0`. */
  controlAddr?: string;
  /** Control plane port. Default 8123; 0 picks a free one. */
  controlPort?: number;
  /** Address the public ports bind to. Default `0.0.0.0`. */
  dataAddr?: string;
  /** Certificate and key for the control port; `null` serves plain HTTP (`--disable-tls`). */
  tls: { certPem: string; keyPem: string } | null;
  /** Ports clients may offer; absent = all. */
  allowPorts?: PortRange[];
  /** PING interval in ms (default 10000) and silence before giving up (default 30000). */
  keepaliveIntervalMs?: number;
  keepaliveTimeoutMs?: number;
  /**
   * Limits before authentication (PROTOCOL.md §13), in ms: the TLS handshake from accept (default
   * 5000), the request head after it (default 5000), `hello` after the upgrade (default 5000).
   */
  tlsTimeoutMs?: number;
  headTimeoutMs?: number;
  upgradeTimeoutMs?: number;
  /** Connections not yet authenticated, in total (default 1024) and per source (default 32). */
  maxUnauthenticated?: number;
  maxUnauthenticatedPerSource?: number;
  /** The longest wait imposed on a source after wrong tokens, in ms (default 10000). */
  authDelayMaxMs?: number;
  /** A client that answers nothing this long after an OPEN is skipped, in ms (default 2000). */
  openTimeoutMs?: number;
  /** Post-authentication bounds of each session (PROTOCOL.md section 14); defaults there. */
  limits?: Pick<MuxSessionOptions, 'maxQueuedControl' | 'maxPingsWaiting' | 'maxOpenRate'>;
  /** HTTP mode (PROTOCOL.md §6.2, http-front.ts): clients may then offer hosts as well as ports. */
  http?: HttpMode;
  logger?: Logger;
  /** Reported in `welcome` and `/status`. */
  version?: string;
}

/** What HTTP mode needs of a session. */
export interface ServedSession {
  id: string;
  mux: MuxSession;
  live: Liveness;
}

/** HTTP mode as the server sees it (HttpFront): started after the control port, told of every hello and close. */
export interface HttpMode {
  start(openTimeoutMs: number): Promise<void>;
  stop(): Promise<void>;
  /** Takes the hosts a hello offers; answers welcome's `hosts` and `refusedHosts`. */
  offer(s: ServedSession, hosts: unknown): { hosts: string[]; refusedHosts: unknown[] };
  withdraw(s: ServedSession): void;
  status(): { hosts: { host: string; clients: string[] }[]; certificates: CertificateInfo[] };
  metricLines(): string[];
}

/** One client session on the server. */
interface ClientSession {
  id: string;
  remoteAddress: string;
  connectedAt: Date;
  ports: number[];
  mux: MuxSession;
  live: Liveness;
  transport: Duplex;
  hello: boolean;
  closed: boolean;
}

/** Clients ids remembered to count reconnects; bounded so random ids cannot grow it forever. */
const MAX_SEEN_IDS = 10_000;

export class TunnelServer {
  readonly #log: Logger;
  readonly #version: string;
  readonly #metrics = new ServerMetrics();
  readonly #sessions = new Map<string, ClientSession>();
  readonly #seenIds = new Set<string>();
  readonly #registry: PortRegistry<ClientSession>;
  #http?: HttpServer;
  #startedAt = new Date();

  readonly #opts: TunnelServerOptions;

  constructor(opts: TunnelServerOptions) {
    this.#opts = opts;
    if (!opts.token) throw new TunnelError('TOKEN_EMPTY', 'the token is empty; the server refuses to start without one');
    this.#log = opts.logger ?? silentLogger;
    this.#version = opts.version ?? ENGINE_VERSION;
    this.#registry = new PortRegistry<ClientSession>({
      dataAddr: opts.dataAddr,
      allowPorts: opts.allowPorts,
      onConnection: (port, socket, session) => this.#forward(port, socket, session),
      usable: (s) => !s.live.slow,
    });
  }

  /** Listens on the control port; resolves with the bound address. */
  async start(): Promise<{ address: string; port: number }> {
    const { tls, headTimeoutMs: headMs = 5000 } = this.#opts;
    const http = tls ? createHttpsServer({ cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.2' }) : createHttpServer();
    this.#http = http;
    const guard = new PreauthGuard({ total: this.#opts.maxUnauthenticated ?? 1024, perSource: this.#opts.maxUnauthenticatedPerSource ?? 32 });
    const throttle = new AuthThrottle(this.#opts.authDelayMaxMs);
    // the accepted TCP socket, which the guard counts (requests arrive on the TLS socket over it)
    const raw = (req: IncomingMessage) => ((req.socket as { _parent?: Socket })._parent ?? req.socket) as Socket;
    http.on('connection', (socket: Socket) => guard.admit(socket, tls ? (this.#opts.tlsTimeoutMs ?? 5000) : headMs));
    http.on('secureConnection', (socket: { _parent: Socket }) => guard.deadline(socket._parent, headMs));
    // a whole head arrived: a source that sent wrong tokens waits, then the answer has headMs
    const later = (req: IncomingMessage, answer: () => void) => {
      const wait = throttle.delay(sourceKey(req.socket.remoteAddress));
      guard.deadline(raw(req), wait + headMs);
      if (wait) setTimeout(() => req.socket.destroyed || answer(), wait);
      else answer();
    };
    const ctx = {
      token: this.#opts.token,
      metrics: this.#metrics,
      status: () => this.status(),
      connectedClients: () => this.#sessions.size,
      extraMetrics: () => this.#opts.http?.metricLines() ?? [],
      onAuth: (req: IncomingMessage, ok: boolean) => {
        const source = sourceKey(req.socket.remoteAddress);
        if (!ok) return throttle.failed(source);
        throttle.succeeded(source);
        guard.release(raw(req));
      },
      onTunnel: (t: Duplex, id: string, remote: string) => this.#accept(t, id, remote),
    };
    http.on('request', (req, res) => later(req, () => handleControlRequest(ctx, req, res)));
    http.on('upgrade', (req, socket, head) => later(req, () => handleControlUpgrade(ctx, req, socket, head)));
    http.on('clientError', (_err, socket) => socket.destroy());
    http.on('tlsClientError', () => {});
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen({ port: this.#opts.controlPort ?? 8123, host: this.#opts.controlAddr ?? '0.0.0.0' }, () => {
        http.off('error', reject);
        resolve();
      });
    });
    await this.#opts.http?.start(this.#opts.openTimeoutMs ?? 2000);
    this.#startedAt = new Date();
    const a = http.address() as { address: string; port: number };
    this.#log.info(`control plane listening on ${a.address}:${a.port} (${tls ? 'TLS' : 'no TLS'}), public ports on ${this.#opts.dataAddr ?? '0.0.0.0'}`);
    return { address: a.address, port: a.port };
  }

  /** Sends GOAWAY SHUTDOWN to every client, closes public ports and the control port. */
  async stop(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    for (const s of sessions) this.#drop(s, ErrorCode.SHUTDOWN, 'server shutting down');
    // let GOAWAY and the websocket close reach the clients, so they reconnect rather than fail
    await Promise.all([this.#registry.closeAll(), this.#opts.http?.stop(), ...sessions.map((s) => closedWithin(s.transport, 2000))]);
    const http = this.#http;
    if (!http) return;
    this.#http = undefined;
    await new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections?.();
    });
  }

  /** What `GET /status` answers. */
  status(): ServerStatus {
    return {
      version: this.#version,
      mode: this.#opts.http ? 'http' : 'tcp',
      hostname: hostname(),
      startedAt: this.#startedAt.toISOString(),
      clients: [...this.#sessions.values()].map((s) => ({
        id: s.id,
        remoteAddress: s.remoteAddress,
        connectedAt: s.connectedAt.toISOString(),
        ports: s.ports,
      })),
      ports: this.#registry.list().map(({ port, sessions }) => ({ port, clients: sessions.map((s) => s.id) })),
      ...this.#opts.http?.status(),
    };
  }

  #accept(transport: Duplex, id: string, remoteAddress: string): void {
    const old = this.#sessions.get(id);
    if (old) this.#drop(old, ErrorCode.REPLACED, 'a new session with the same client id took over');
    if (this.#seenIds.has(id)) this.#metrics.reconnects++;
    else if (this.#seenIds.size < MAX_SEEN_IDS) this.#seenIds.add(id);
    const mux = new MuxSession(transport, {
      role: 'server',
      keepaliveIntervalMs: this.#opts.keepaliveIntervalMs,
      keepaliveTimeoutMs: this.#opts.keepaliveTimeoutMs,
      maxOpenRate: 100, // clients open no streams in TCP mode: each OPEN is refused
      ...this.#opts.limits,
      logger: this.#log,
    });
    const live = new Liveness(mux, transport);
    const s: ClientSession = { id, remoteAddress, connectedAt: new Date(), ports: [], mux, live, transport, hello: false, closed: false };
    this.#sessions.set(id, s);
    // a session that never says hello would hold a slot forever
    const helloTimer = setTimeout(() => s.hello || this.#drop(s, ErrorCode.PROTOCOL_ERROR, 'no hello in time'), this.#opts.upgradeTimeoutMs ?? 5000);
    this.#log.info(`client ${id} connected from ${remoteAddress}${old ? ' (replaced its previous session)' : ''}`);
    mux.on('control', (msg: { type?: unknown; mode?: unknown; ports?: unknown }) => {
      if (msg.type === 'hello') void this.#hello(s, msg);
    });
    // in TCP mode only the server opens streams (PROTOCOL.md §5)
    mux.on('stream', (stream: { reset(code: number, reason?: string): void }) => stream.reset(ErrorCode.REFUSED, 'clients open no streams in tcp mode'));
    mux.on('goaway', (code: number, reason?: string) => this.#log.debug(`client ${id} sent GOAWAY ${code}${reason ? `: ${reason}` : ''}`));
    mux.on('close', (err?: Error) => {
      clearTimeout(helloTimer);
      s.closed = true;
      this.#withdraw(s);
      if (this.#sessions.get(id) === s) this.#sessions.delete(id);
      this.#log.info(`client ${id} disconnected${err ? `: ${err.message}` : ''}`);
    });
  }

  async #hello(s: ClientSession, msg: { mode?: unknown; ports?: unknown; hosts?: unknown }): Promise<void> {
    if (s.hello) return this.#drop(s, ErrorCode.PROTOCOL_ERROR, 'a second hello on one session');
    s.hello = true;
    const http = msg.mode === 'http' && this.#opts.http;
    if (msg.mode !== 'tcp' && !http) return this.#drop(s, ErrorCode.PROTOCOL_ERROR, `mode ${JSON.stringify(msg.mode)} is not served here`);
    const { accepted, refused } = await this.#registry.offer(s, Array.isArray(msg.ports) ? msg.ports : []);
    if (s.closed) return this.#withdraw(s);
    s.ports = accepted;
    s.mux.sendControl({ type: 'welcome', version: this.#version, accepted, refused, ...(http && http.offer(s, msg.hosts)) });
    this.#log.info(`client ${s.id} serves ports ${accepted.join(',') || '(none)'}${refused.length ? `; refused ${refused.map((r) => `${r.port} (${r.code})`).join(', ')}` : ''}`);
  }

  #withdraw(s: ClientSession): void {
    this.#registry.withdraw(s);
    this.#opts.http?.withdraw(s);
  }

  #forward(port: number, socket: Socket, s: ClientSession): void {
    this.#metrics.track(port, socket);
    forwardPublic(port, socket, s, (tried) => this.#registry.next(port, tried), this.#opts.openTimeoutMs ?? 2000);
  }

  #drop(s: ClientSession, code: number, reason: string): void {
    s.closed = true;
    this.#withdraw(s);
    if (this.#sessions.get(s.id) === s) this.#sessions.delete(s.id);
    s.mux.goAway(code, reason);
    s.mux.close();
  }
}
