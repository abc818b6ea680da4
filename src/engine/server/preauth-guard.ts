/**
 * Connections on the control port that have not authenticated yet (PROTOCOL.md §13): each phase
 * (TLS handshake, request head) runs against a fixed deadline that bytes arriving do not extend,
 * and they are counted in total and per source, so that idle or trickling peers cannot pile up.
 */
import type { Socket } from 'node:net';

export interface PreauthCaps {
  /** Connections not yet authenticated; when full, the oldest is closed to admit a new one. */
  total: number;
  /** The same per source (sourceKey); a connection over it is closed at once. */
  perSource: number;
}

/**
 * What the per-source limits count by: an IPv4 address (IPv4-mapped IPv6 included), or the /64
 * of an IPv6 address, since one host commonly holds a whole /64.
 */
export function sourceKey(address = ''): string {
  address = address.replace(/^::ffff:(?=[\d.]+$)/i, '');
  if (!address.includes(':')) return address;
  const [head, tail] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  return [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t].slice(0, 4).join(':') + '::/64';
}

export class PreauthGuard {
  readonly #open = new Map<Socket, { key: string; timer?: NodeJS.Timeout }>();
  readonly #perSource = new Map<string, number>();

  constructor(readonly caps: PreauthCaps) {}

  /** A connection was accepted: counted with a first deadline `ms` from now, or closed. */
  admit(socket: Socket, ms: number): void {
    const key = sourceKey(socket.remoteAddress);
    const n = this.#perSource.get(key) ?? 0;
    if (n >= this.caps.perSource) return void socket.destroy();
    // the oldest has had the longest to finish; closing it is fairer than refusing a newcomer
    if (this.#open.size >= this.caps.total) {
      const [oldest] = this.#open.keys();
      this.release(oldest);
      oldest.destroy();
    }
    this.#perSource.set(key, n + 1);
    this.#open.set(socket, { key });
    socket.once('close', () => this.release(socket));
    this.deadline(socket, ms);
  }

  /** The next phase's deadline, `ms` from now (replacing the last one). */
  deadline(socket: Socket, ms: number): void {
    const e = this.#open.get(socket);
    if (!e) return;
    clearTimeout(e.timer);
    e.timer = setTimeout(() => socket.destroy(), ms);
  }

  /** The connection authenticated (or closed): no longer limited or counted. */
  release(socket: Socket): void {
    const e = this.#open.get(socket);
    if (!e) return;
    clearTimeout(e.timer);
    this.#open.delete(socket);
    const n = this.#perSource.get(e.key)! - 1;
    if (n) this.#perSource.set(e.key, n);
    else this.#perSource.delete(e.key);
  }
}
