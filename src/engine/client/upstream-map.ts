/**
 * Which local address serves each public port, from the client's flags:
 * - `--upstream HOST` with `--ports 80,443` and/or repeated `--port 22`: each public port goes to
 *   the same port on HOST;
 * - `--upstream 2222=192.168.1.10:22`: public 2222 goes to 192.168.1.10:22 (remap);
 *   `--upstream 8080=localhost` keeps the port; IPv6 hosts go in brackets: `2222=[::1]:22`.
 */
import { UsageError } from '../../errors.js';
import { parsePort } from '../port-ranges.js';

/** Where a stream for a public port connects. */
export interface Upstream {
  host: string;
  port: number;
}

/** Public port → upstream. */
export type UpstreamMap = Map<number, Upstream>;

/** Splits `host:port`, `[v6]:port`, or a bare host (then `port` is `defaultPort`). */
function parseHostPort(text: string, defaultPort: number | undefined, what: string): Upstream {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(text) ?? /^([0-9a-fA-F:]+:[0-9a-fA-F:.]*)()$/.exec(text);
  const host = m && (m[1] || m[2]);
  if (!host) throw new UsageError(`${what}: "${text}" is not HOST or HOST:PORT`);
  if (m[3] !== undefined) return { host, port: parsePort(m[3], what) };
  if (defaultPort === undefined) throw new UsageError(`${what}: "${text}" needs a port`);
  return { host, port: defaultPort };
}

/**
 * Builds the map. `upstreams` are the `--upstream` values, `ports` the `--ports` lists and
 * `--port` values (each may hold a comma-separated list). Throws UsageError with the flag named.
 */
export function parseUpstreams(upstreams: readonly string[], ports: readonly string[]): UpstreamMap {
  const map: UpstreamMap = new Map();
  const add = (pub: number, up: Upstream) => {
    if (map.has(pub)) throw new UsageError(`public port ${pub} is given twice`);
    map.set(pub, up);
  };
  let defaultHost: string | undefined;
  for (const u of upstreams) {
    const eq = u.indexOf('=');
    if (eq < 0) {
      if (defaultHost !== undefined) throw new UsageError(`--upstream: only one plain HOST is allowed (got "${defaultHost}" and "${u}"); remap with PORT=HOST:PORT`);
      const hp = parseHostPort(u, -1, '--upstream');
      if (hp.port !== -1) throw new UsageError(`--upstream ${u}: give the ports with --ports, or remap with PUBLIC=${u}`);
      defaultHost = hp.host;
    } else {
      const pub = parsePort(u.slice(0, eq), '--upstream');
      add(pub, parseHostPort(u.slice(eq + 1), pub, '--upstream'));
    }
  }
  const plain = ports.flatMap((p) => p.split(',')).map((p) => parsePort(p, '--ports'));
  if (plain.length && defaultHost === undefined) throw new UsageError('--ports/--port need --upstream HOST to say where they go');
  for (const p of plain) add(p, { host: defaultHost!, port: p });
  if (!map.size) {
    throw new UsageError(
      defaultHost === undefined ? 'no upstream: give --upstream HOST --ports 80,443 or --upstream 2222=HOST:22' : `--upstream ${defaultHost}: give the ports with --ports or --port`,
    );
  }
  return map;
}

/** `2222 → 192.168.1.10:22` lines, for logs. */
export function describeUpstreams(map: UpstreamMap): string {
  return [...map].map(([p, u]) => `${p} → ${u.host.includes(':') ? `[${u.host}]` : u.host}:${u.port}`).join(', ');
}
