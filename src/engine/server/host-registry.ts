/**
 * HTTP mode's routing table (PROTOCOL.md §6.2): hostname → the sessions serving it, round robin.
 * A session may offer `*`, which serves every host that no session names.
 */

/** Why a host was refused, as sent in `welcome.refusedHosts`. */
export interface HostRefusal {
  host: string;
  code: 'HOST_INVALID';
  message: string;
}

/** How many hostnames one session may offer: the table stays bounded whatever a client sends. */
export const MAX_HOSTS = 256;

/** A lower-case DNS name with at least one dot (what Let's Encrypt issues for). */
export const DOMAIN_NAME = /^(?=.{1,253}$)([a-z\d]([a-z\d-]{0,61}[a-z\d])?\.)+[a-z\d]([a-z\d-]{0,61}[a-z\d])?$/;

/** Lower-case DNS names (labels of letters, digits and inner hyphens), or `*`. */
const HOST = /^(\*|(?=.{1,253}$)[a-z\d]([a-z\d-]{0,61}[a-z\d])?(\.[a-z\d]([a-z\d-]{0,61}[a-z\d])?)*)$/;

/** A request's Host header as a table key: lower case, no port, no trailing dot. */
export const hostKey = (header: string | undefined): string =>
  (header ?? '').toLowerCase().replace(/:\d*$/, '').replace(/\.$/, '');

export class HostRegistry<S> {
  readonly #hosts = new Map<string, { sessions: S[]; next: number }>();

  /** `usable`: whether a session should get requests now (not marked slow). */
  constructor(readonly usable: (s: S) => boolean = () => true) {}

  /** Adds `session` to each valid host it offers; answers which were accepted and which refused. */
  offer(session: S, hosts: readonly unknown[]): { accepted: string[]; refused: HostRefusal[] } {
    const accepted: string[] = [];
    const refused: HostRefusal[] = [];
    for (const h of hosts) {
      const host = typeof h === 'string' ? h.toLowerCase() : '';
      if (!HOST.test(host) || accepted.includes(host) || accepted.length >= MAX_HOSTS) {
        refused.push({ host: String(h), code: 'HOST_INVALID', message: `"${String(h)}" is not a unique host name (or * for any), or over ${MAX_HOSTS}` });
        continue;
      }
      accepted.push(host);
      let e = this.#hosts.get(host);
      if (!e) this.#hosts.set(host, (e = { sessions: [], next: 0 }));
      e.sessions.push(session);
    }
    return { accepted, refused };
  }

  /** Removes `session` from every host. */
  withdraw(session: S): void {
    for (const [host, e] of this.#hosts) {
      e.sessions = e.sessions.filter((s) => s !== session);
      if (!e.sessions.length) this.#hosts.delete(host);
    }
  }

  /**
   * The next usable session for `host` (exactly, else `*`) that is not in `exclude`; when none is
   * usable and nothing is excluded, the next one anyway (a slow client beats none).
   */
  next(host: string, exclude: readonly S[] = []): S | undefined {
    const e = this.#hosts.get(host) ?? this.#hosts.get('*');
    let fallback: S | undefined;
    for (let i = 0, n = e?.sessions.length ?? 0; i < n; i++) {
      const s = e!.sessions[e!.next++ % n];
      if (exclude.includes(s)) continue;
      if (this.usable(s)) return s;
      fallback ??= s;
    }
    return exclude.length ? undefined : fallback;
  }

  /** Hosts with their sessions in round-robin order. */
  list(): { host: string; sessions: S[] }[] {
    return [...this.#hosts].map(([host, e]) => ({ host, sessions: [...e.sessions] })).sort((a, b) => (a.host < b.host ? -1 : 1));
  }
}
