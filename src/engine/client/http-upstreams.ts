/**
 * What `inlets http client --upstream` values mean:
 * - `blog.example.com=http://127.0.0.1:3000`: requests for that host go there;
 * - a bare `http://127.0.0.1:3000`: requests for any host no other value names (`*`);
 * - `https://…` upstreams are reached over TLS (verified, see `--upstream-ca`);
 * - `2222=127.0.0.1:22`: a TCP port beside the hosts, as in `inlets tcp client`.
 */
import { UsageError } from '../../errors.js';
import { parseUpstreams, type UpstreamMap } from './upstream-map.js';

/** Where a stream for a host connects. */
export interface HttpUpstream {
  host: string;
  port: number;
  tls: boolean;
}

export function parseHttpUpstreams(values: readonly string[]): { hosts: Map<string, HttpUpstream>; ports: UpstreamMap } {
  const hosts = new Map<string, HttpUpstream>();
  const tcp: string[] = [];
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = eq < 0 ? '*' : v.slice(0, eq).toLowerCase();
    if (/^\d+$/.test(key)) {
      tcp.push(v);
      continue;
    }
    const text = v.slice(eq + 1);
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      url = new URL('x:');
    }
    if (!/^https?:$/.test(url.protocol) || !url.hostname || url.pathname.length > 1 || url.search || url.username) {
      throw new UsageError(`--upstream ${v}: "${text}" is not http://HOST[:PORT] or https://HOST[:PORT] (no path)`);
    }
    if (hosts.has(key)) throw new UsageError(`--upstream: ${key === '*' ? 'only one upstream for any host' : `host ${key} is given twice`}`);
    const tls = url.protocol === 'https:';
    hosts.set(key, { host: url.hostname.replace(/^\[|\]$/g, ''), port: +url.port || (tls ? 443 : 80), tls });
  }
  if (!hosts.size && !tcp.length) throw new UsageError('no upstream: give --upstream blog.example.com=http://127.0.0.1:3000, or --upstream http://127.0.0.1:3000 for any host');
  return { hosts, ports: tcp.length ? parseUpstreams(tcp, []) : new Map() };
}
