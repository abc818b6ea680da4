/**
 * HTTP mode's part of the server (PROTOCOL.md §6.2): the host table, the public HTTP(S) side and
 * its metrics. TunnelServer knows it only by the HttpMode interface, so the TCP exit node's bundle
 * carries none of it.
 */
import type { MuxStream } from '../mux/mux-stream.js';
import { HostRegistry, type HostRefusal } from './host-registry.js';
import { HttpMetrics } from './http-metrics.js';
import { PublicHttp, type PublicHttpOptions } from './public-http.js';
import type { CertificateInfo } from './status-info.js';
import type { HttpMode, ServedSession } from './tunnel-server.js';

export interface HttpFrontOptions extends Omit<PublicHttpOptions, 'open' | 'observe'> {
  /** Names this server has certificates for: a request for one nobody serves is 503, not 404. */
  domains?: string[];
  certStatus?: () => CertificateInfo[];
}

/** Names remembered as served since start, so a client gone for a while means 503, not 404. */
const MAX_KNOWN = 4096;

export class HttpFront implements HttpMode {
  readonly #hosts = new HostRegistry<ServedSession>((s) => !s.live.slow);
  readonly #known = new Set<string>();
  readonly #metrics = new HttpMetrics();
  #public?: PublicHttp;

  constructor(readonly opts: HttpFrontOptions) {
    for (const d of opts.domains ?? []) this.#known.add(d.toLowerCase());
  }

  async start(openTimeoutMs: number): Promise<void> {
    this.#public = new PublicHttp({
      ...this.opts,
      open: (host, meta) => this.#open(host, meta, openTimeoutMs),
      observe: (host, ...a) => this.#metrics.request(this.#known.has(host) ? host : 'other', ...a),
    });
    await this.#public.start();
  }

  async stop(): Promise<void> {
    await this.#public?.stop();
  }

  offer(s: ServedSession, hosts: unknown): { hosts: string[]; refusedHosts: HostRefusal[] } {
    const r = this.#hosts.offer(s, Array.isArray(hosts) ? hosts : []);
    for (const h of r.accepted) if (this.#known.size < MAX_KNOWN) this.#known.add(h);
    return { hosts: r.accepted, refusedHosts: r.refused };
  }

  withdraw(s: ServedSession): void {
    this.#hosts.withdraw(s);
  }

  status() {
    return {
      hosts: this.#hosts.list().map(({ host, sessions }) => ({ host, clients: sessions.map((s) => s.id) })),
      certificates: this.opts.certStatus?.() ?? [],
    };
  }

  metricLines(): string[] {
    return this.#metrics.lines();
  }

  /** A stream for a public request; a client silent past the open limit is marked slow (PROTOCOL.md §13). */
  #open(host: string, meta: Record<string, unknown>, openMs: number): MuxStream | 404 | 503 {
    const s = this.#hosts.next(host);
    if (!s) return this.#known.has(host) ? 503 : 404;
    let stream: MuxStream;
    try {
      stream = s.mux.openStream(meta);
    } catch {
      return 503;
    }
    const timer = setTimeout(() => (s.live.slow = true), openMs);
    s.live.onHeard(() => clearTimeout(timer));
    return stream;
  }
}
