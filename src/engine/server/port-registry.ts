/**
 * The data plane: public TCP listeners, opened when a client session first offers a port and
 * closed when no session offers it any more (PROTOCOL.md §6, §9). Several sessions offering one
 * port share it round robin, skipping those the caller finds unusable (not answering); when one is
 * withdrawn, new connections go to the others.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { portAllowed, type PortRange } from '../port-ranges.js';

/** Why a port was refused, as sent in `welcome.refused`. */
export interface PortRefusal {
  port: number;
  code: 'PORT_NOT_ALLOWED' | 'PORT_IN_USE' | 'PORT_INVALID';
  message: string;
}

interface PortEntry<S> {
  server: Server;
  /** Sessions that get connections, in round-robin order. */
  sessions: S[];
  /** Sessions whose offer is still binding; they hold the port open but get no connections yet. */
  pending: Set<S>;
  next: number;
  /** Resolves once the listener is bound; rejects with the bind error. */
  bound: Promise<void>;
}

export interface PortRegistryOptions<S> {
  /** Address the public ports bind to. Default `0.0.0.0`. */
  dataAddr?: string;
  /** Ports clients may offer; absent = all. */
  allowPorts?: readonly PortRange[];
  /** Called for each public connection with the session picked round robin (see `next`). */
  onConnection(port: number, socket: Socket, session: S): void;
  /** Whether a session should get connections now; default: always. */
  usable?(session: S): boolean;
}

export class PortRegistry<S> {
  readonly #entries = new Map<number, PortEntry<S>>();
  /** Listeners being closed, so a new bind on the same port waits for the old close. */
  readonly #closing = new Map<number, Promise<void>>();

  readonly #opts: PortRegistryOptions<S>;

  constructor(opts: PortRegistryOptions<S>) {
    this.#opts = opts;
  }

  /**
   * Binds or joins each port for `session`; answers which were accepted and which refused. The
   * session gets connections only once every port settled, so that the caller can send `welcome`
   * before any stream opens (the continuation runs before any socket event).
   */
  async offer(session: S, ports: readonly unknown[]): Promise<{ accepted: number[]; refused: PortRefusal[] }> {
    const accepted: number[] = [];
    const refused: PortRefusal[] = [];
    const seen = new Set<unknown>();
    await Promise.all(
      ports.map(async (port) => {
        if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535 || seen.has(port)) {
          refused.push({ port: port as number, code: 'PORT_INVALID', message: `port ${String(port)} is not a valid, unique port (1-65535)` });
          return;
        }
        seen.add(port);
        const p = port as number;
        if (!portAllowed(p, this.#opts.allowPorts)) {
          refused.push({ port: p, code: 'PORT_NOT_ALLOWED', message: `port ${p} is outside the server's --allow-ports` });
          return;
        }
        const entry = this.#entries.get(p) ?? this.#bind(p);
        entry.pending.add(session);
        try {
          await entry.bound;
          accepted.push(p);
        } catch (err) {
          this.#remove(p, session);
          const code = (err as NodeJS.ErrnoException).code;
          refused.push(
            code === 'EACCES'
              ? { port: p, code: 'PORT_NOT_ALLOWED', message: `the server may not bind port ${p} (permission denied)` }
              : { port: p, code: 'PORT_IN_USE', message: `port ${p} is in use on the server (${code ?? String(err)})` },
          );
        }
      }),
    );
    for (const p of accepted) {
      const e = this.#entries.get(p);
      if (e?.pending.delete(session)) e.sessions.push(session);
    }
    accepted.sort((a, b) => a - b);
    refused.sort((a, b) => a.port - b.port);
    return { accepted, refused };
  }

  /** Removes `session` from every port; ports nobody offers any more are closed. */
  withdraw(session: S): void {
    for (const port of [...this.#entries.keys()]) this.#remove(port, session);
  }

  /**
   * The next session for `port` in round-robin order that is usable and not in `exclude`. With
   * nothing excluded and none usable, the next one anyway (a slow client beats none).
   */
  next(port: number, exclude: readonly S[] = []): S | undefined {
    const e = this.#entries.get(port);
    let fallback: S | undefined;
    for (let i = 0, n = e?.sessions.length ?? 0; i < n; i++) {
      const s = e!.sessions[e!.next++ % n];
      if (exclude.includes(s)) continue;
      if (this.#opts.usable?.(s) ?? true) return s;
      fallback ??= s;
    }
    return exclude.length ? undefined : fallback;
  }

  /** Open ports with their sessions in round-robin order. */
  list(): { port: number; sessions: S[] }[] {
    return [...this.#entries].map(([port, e]) => ({ port, sessions: [...e.sessions] })).sort((a, b) => a.port - b.port);
  }

  /** Closes every listener (open public connections are left to their sessions). */
  async closeAll(): Promise<void> {
    for (const [port, e] of this.#entries) {
      e.sessions.length = 0;
      e.pending.clear();
      this.#remove(port);
    }
    await Promise.all(this.#closing.values());
  }

  #bind(port: number): PortEntry<S> {
    const server = createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
      const session = this.#entries.get(port)?.server === server && this.next(port);
      if (!session) return socket.destroy();
      this.#opts.onConnection(port, socket, session);
    });
    const previous = this.#closing.get(port) ?? Promise.resolve();
    const bound = previous.then(
      () =>
        new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port, host: this.#opts.dataAddr ?? '0.0.0.0' }, () => {
            server.off('error', reject);
            // a listener error after bind (rare: EMFILE on accept) must not crash the server
            server.on('error', () => {});
            resolve();
          });
        }),
    );
    bound.catch(() => {});
    const entry: PortEntry<S> = { server, sessions: [], pending: new Set(), next: 0, bound };
    this.#entries.set(port, entry);
    return entry;
  }

  #remove(port: number, session?: S): void {
    const e = this.#entries.get(port);
    if (!e) return;
    if (session !== undefined) {
      const i = e.sessions.indexOf(session);
      if (i >= 0) e.sessions.splice(i, 1);
      else if (!e.pending.delete(session)) return;
    }
    if (e.sessions.length || e.pending.size) return;
    this.#entries.delete(port);
    const closed = e.bound.then(
      // close() stops listening at once but calls back only when every connection ended; the
      // port is free again as soon as the listening handle is gone, one loop turn later
      () => new Promise<void>((resolve) => (e.server.close(), setImmediate(resolve))),
      () => {},
    );
    this.#closing.set(port, closed);
    void closed.then(() => {
      if (this.#closing.get(port) === closed) this.#closing.delete(port);
    });
  }
}
