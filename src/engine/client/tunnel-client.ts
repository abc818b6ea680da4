/**
 * `inlets tcp client`: dials the server, advertises its ports, and for every stream the server
 * opens connects to the mapped upstream and copies bytes both ways. Reconnects with backoff after
 * any loss except a refusal (PROTOCOL.md §6, §9).
 */
import { EventEmitter } from 'node:events';
import { connect, isIP, type NetConnectOpts, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { Duplex } from 'node:stream';
import { TunnelError, UsageError, isFatalTunnelCode } from '../../errors.js';
import { closedWithin } from '../closed-within.js';
import { silentLogger, type Logger } from '../log.js';
import { MuxSession } from '../mux/mux-session.js';
import type { MuxStream } from '../mux/mux-stream.js';
import { splice } from '../mux/splice.js';
import { ErrorCode, errorCodeName } from '../protocol/frame-codec.js';
import type { TlsTrust } from '../tls/tls-connect.js';
import { dialTunnel } from '../transport/websocket-dial.js';
import { ENGINE_VERSION } from '../version.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { asNotInlets } from './not-inlets.js';
import type { UpstreamMap } from './upstream-map.js';
import type { HttpUpstream } from './http-upstreams.js';
import { rewriteHostHead, type HostHeader } from './host-header.js';

export interface TunnelClientOptions {
  /** `wss://host:8123` (or `ws://` for a server behind a TLS-terminating proxy). */
  url: string;
  token: string;
  /** Stable id (PROTOCOL.md §9); default: random for this process. */
  clientId?: string;
  trust: TlsTrust;
  upstreams: UpstreamMap;
  /** HTTP mode (PROTOCOL.md §6.2): host (or `*`) → upstream; the session then says `mode: http`. */
  hosts?: Map<string, HttpUpstream>;
  /** https upstreams: verify against this CA (PEM) instead of the system's, or not at all. */
  upstreamCa?: string;
  upstreamInsecure?: boolean;
  /** HTTP mode: the Host header upstreams see (host-header.ts); undefined keeps the public one. */
  hostHeader?: HostHeader;
  /** Reconnect delays; defaults 500 ms doubling to 30 s, ±20 % jitter. */
  reconnect?: BackoffOptions;
  /** PING interval in ms (default 10000) and silence before giving up (default 30000). */
  keepaliveIntervalMs?: number;
  keepaliveTimeoutMs?: number;
  /** Give up connecting to an upstream after this long, in ms. Default 10000. */
  upstreamTimeoutMs?: number;
  logger?: Logger;
}

/** A refused port from `welcome`. */
export interface Refusal {
  port: number;
  code: string;
  message: string;
}

/**
 * Events: `welcome` (accepted: number[], refused: Refusal[]); `disconnected` (err?: Error), before
 * each reconnect wait; `fatal` (err: TunnelError), after which the client has stopped.
 */
export class TunnelClient extends EventEmitter {
  readonly clientId: string;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #abort = new AbortController();
  #mux?: MuxSession;
  #transport?: Duplex;
  #running?: Promise<void>;
  #wake?: () => void;

  readonly #opts: TunnelClientOptions;

  constructor(opts: TunnelClientOptions) {
    super();
    this.#opts = opts;
    if (!opts.token) throw new TunnelError('TOKEN_EMPTY', 'the token is empty; the client refuses to connect without one');
    this.clientId = opts.clientId ?? `client-${Math.random().toString(36).slice(2, 10)}`;
    this.#log = opts.logger ?? silentLogger;
    this.#backoff = new Backoff(opts.reconnect);
  }

  /** Starts connecting; the client keeps reconnecting until `stop()` or a fatal error. */
  start(): void {
    this.#running ??= this.#run();
  }

  /** Closes the session (GOAWAY NORMAL) and stops reconnecting. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    const transport = this.#transport;
    this.#mux?.goAway(ErrorCode.NORMAL, 'client stopping');
    this.#mux?.close();
    await this.#running;
    // let GOAWAY and the websocket close reach the server before the process exits
    if (transport) await closedWithin(transport, 2000);
  }

  async #run(): Promise<void> {
    const { signal } = this.#abort;
    while (!signal.aborted) {
      const started = Date.now();
      let err: Error | undefined;
      try {
        err = await this.#session();
      } catch (e) {
        err = e as Error;
      }
      if (signal.aborted) break;
      err = asNotInlets(err, this.#opts.url);
      const code = (err as TunnelError | undefined)?.code;
      if (err instanceof UsageError || (err instanceof TunnelError && isFatalTunnelCode(err.code))) {
        if (code === 'TLS_VERIFY_FAILED') err!.message += '; give the server key with --tls-pin (the server prints it at start) or its CA with --tls-ca';
        this.#abort.abort();
        this.emit('fatal', err);
        break;
      }
      this.#backoff.sessionEnded(Date.now() - started);
      const wait = this.#backoff.next();
      this.#log.warn(`${err ? err.message : 'session closed'}; reconnecting in ${(wait / 1000).toFixed(1)} s`);
      this.emit('disconnected', err);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.#wake = () => (clearTimeout(t), resolve());
      });
    }
  }

  /** One session, from dial to close; resolves with why it ended. */
  async #session(): Promise<Error | undefined> {
    const { url, token, trust } = this.#opts;
    if (trust.insecure) this.#log.warn('--tls-insecure: the server certificate is not verified');
    const { duplex } = await dialTunnel({ url, token, clientId: this.clientId, trust, signal: this.#abort.signal });
    const mux = new MuxSession(duplex, {
      role: 'client',
      keepaliveIntervalMs: this.#opts.keepaliveIntervalMs,
      keepaliveTimeoutMs: this.#opts.keepaliveTimeoutMs,
      logger: this.#log,
    });
    this.#mux = mux;
    this.#transport = duplex;
    if (this.#abort.signal.aborted) mux.close();
    let ended: Error | undefined;
    mux.on('control', (msg: { type?: string; accepted?: number[]; refused?: Refusal[]; hosts?: string[]; refusedHosts?: { host: string; message: string }[] }) => {
      if (msg.type !== 'welcome') return;
      const accepted = msg.accepted ?? [];
      const refused = msg.refused ?? [];
      const hosts = msg.hosts ?? [];
      for (const r of refused) this.#log.error(`port ${r.port} refused by the server: ${r.message} (${r.code})`);
      for (const r of msg.refusedHosts ?? []) this.#log.error(`host ${r.host} refused by the server: ${r.message}`);
      this.emit('welcome', accepted, refused, hosts);
      if (accepted.length || hosts.length) {
        this.#log.info(`connected to ${url}: serving ${[accepted.length && `public ports ${accepted.join(', ')}`, hosts.length && `hosts ${hosts.join(', ')}`].filter(Boolean).join(' and ')}`);
      } else {
        ended = new TunnelError('PORTS_REFUSED', `the server refused every port${this.#opts.hosts ? ' and host' : ''}: ${[...refused.map((r) => `${r.port}: ${r.message}`), ...(msg.refusedHosts ?? []).map((r) => `${r.host}: ${r.message}`)].join('; ')}`);
        mux.goAway(ErrorCode.NORMAL, 'every port refused');
        mux.close();
      }
    });
    mux.on('stream', (stream: MuxStream) => this.#serve(stream));
    mux.on('goaway', (code: number, reason?: string) => {
      if (code === ErrorCode.REPLACED) {
        ended ??= new TunnelError('REPLACED', `another client with id "${this.clientId}" connected to the server and took over this one`);
      } else if (code !== ErrorCode.NORMAL) {
        ended ??= new TunnelError('GOAWAY', `the server closed the session (${errorCodeName(code)}${reason ? `: ${reason}` : ''})`);
      }
    });
    const hosts = this.#opts.hosts;
    mux.sendControl({ type: 'hello', mode: hosts ? 'http' : 'tcp', ports: [...this.#opts.upstreams.keys()], ...(hosts && { hosts: [...hosts.keys()] }), version: ENGINE_VERSION });
    const closeErr = await new Promise<Error | undefined>((resolve) => mux.once('close', resolve));
    this.#mux = undefined;
    return ended ?? closeErr ?? new TunnelError('SESSION_CLOSED', 'the server closed the session');
  }

  #serve(stream: MuxStream): void {
    const meta = stream.meta as { port?: number; host?: string; remote?: string };
    const http = typeof meta.host === 'string';
    const up = http ? (this.#opts.hosts?.get(meta.host!) ?? this.#opts.hosts?.get('*')) : this.#opts.upstreams.get(meta.port as number);
    const what = http ? `host ${meta.host}` : `port ${meta.port}`;
    if (!up) return stream.reset(ErrorCode.REFUSED, `${what} is not served by this client`);
    const tls = (up as HttpUpstream).tls;
    const socket: Socket = tls
      ? connectTls({ host: up.host, port: up.port, servername: isIP(up.host) ? undefined : up.host, ca: this.#opts.upstreamCa, rejectUnauthorized: !this.#opts.upstreamInsecure })
      : connect({ host: up.host, port: up.port, noDelay: true, writableHighWaterMark: UPSTREAM_WRITE_HIGH_WATER } as NetConnectOpts);
    const timer = setTimeout(() => socket.destroy(new Error('connect timed out')), this.#opts.upstreamTimeoutMs ?? 10_000);
    // the public peer may leave while the upstream is still connecting
    const gone = () => (clearTimeout(timer), socket.destroy());
    stream.once('close', gone);
    const fail = (err: Error) => {
      clearTimeout(timer);
      stream.off('close', gone);
      this.#log.warn(`${what}: upstream ${up.host}:${up.port} unreachable: ${err.message}`);
      stream.reset(ErrorCode.UPSTREAM_UNREACHABLE, `upstream ${up.host}:${up.port}: ${err.message}`);
    };
    socket.once('error', fail);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      stream.off('close', gone);
      socket.off('error', fail);
      this.#log.debug(`${what}: ${meta.remote ?? 'a peer'} → ${up.host}:${up.port}`);
      const join = (): void => {
        splice(stream, socket).catch(() => {});
        coalesceWrites(stream, socket);
      };
      const hostHeader = http && this.#opts.hostHeader;
      if (!hostHeader) return join();
      rewriteHostHead(stream, hostHeader(up as HttpUpstream), this.#opts.upstreamTimeoutMs ?? 10_000).then(
        (head) => (socket.write(head), join()),
        (err: Error) => {
          this.#log.warn(`${what}: ${err.message}`);
          socket.destroy();
          stream.reset(ErrorCode.CANCELLED, err.message);
        },
      );
    });
  }
}

/** Bytes the upstream socket takes before it pushes back (256 KiB: one writev per loop turn in bulk). */
const UPSTREAM_WRITE_HIGH_WATER = 256 * 1024;

/**
 * Received DATA comes as views of the transport's chunks (TLS hands on 16 KiB at a time), so a
 * 64 KiB frame is 4 or 5 pieces. Writing each one is a syscall of its own: instead the socket is
 * corked at the first piece of a loop turn and uncorked in the check phase of the same turn, so
 * everything that turn received goes out in one writev, without copying it together.
 */
function coalesceWrites(stream: MuxStream, socket: Socket): void {
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  stream.prependListener('data', () => {
    if (corked) return;
    corked = true;
    socket.cork();
    setImmediate(uncork);
  });
}
