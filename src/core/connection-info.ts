/** How a user connects to and removes a tunnel: the strings create prints. */
import { isIPv6 } from 'node:net';
import { inletsctlPrefix, inletsPrefix } from './invocation.js';
import type { TunnelRecord } from './state-store.js';

/** `host:port`, with brackets around an IPv6 address. */
export function hostPort(ip: string, port: number): string {
  return isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The client's control URL: `wss://IP:8123`. */
export function tunnelUrl(ip: string, controlPort: number): string {
  return `wss://${hostPort(ip, controlPort)}`;
}

/** Data ports the printed client command exposes: the ones asked for, else 8080 as an example. */
export function exampleClientPorts(ports: number[]): number[] {
  return ports.length > 0 ? ports : [8080];
}

/**
 * The client command. It reads the token from `$INLETS_TOKEN` (`--token-env`), so the token
 * never appears in the process list; print `export INLETS_TOKEN=…` before it.
 */
export function clientCommand(record: Pick<TunnelRecord, 'ip' | 'controlPort' | 'pin' | 'ports' | 'mode' | 'domains'>): string {
  const connect = `--url ${tunnelUrl(record.ip ?? 'IP', record.controlPort)} --token-env INLETS_TOKEN --tls-pin ${record.pin}`;
  if (record.mode === 'https') {
    // Each domain to the same local example upstream; the user edits the URL per domain.
    const upstreams = (record.domains ?? []).map((d) => `--upstream ${d}=http://127.0.0.1:8080`);
    const tcp = record.ports.map((p) => `--upstream ${p}=127.0.0.1:${p}`);
    return `${inletsPrefix()} http client ${connect} ${[...upstreams, ...tcp].join(' ')}`;
  }
  const ports = exampleClientPorts(record.ports).map((p) => `--port ${p}`).join(' ');
  return `${inletsPrefix()} tcp client ${connect} --upstream 127.0.0.1 ${ports}`;
}

/** A DNS record the user creates so that a domain reaches the exit node (HTTPS mode). */
export interface DnsRecord {
  type: 'A' | 'AAAA';
  name: string;
  value: string;
}

/** One A (or AAAA) record per domain → the exit node's IP. */
export function dnsRecords(record: Pick<TunnelRecord, 'ip' | 'domains'>): DnsRecord[] {
  if (!record.ip) return [];
  const type = isIPv6(record.ip) ? 'AAAA' : 'A';
  return (record.domains ?? []).map((name) => ({ type, name, value: record.ip! }));
}

/**
 * The command that deletes the tunnel again, as it runs when pasted (see invocation.ts).
 * @param options.yes add `--yes`, for scripts (stdin is no terminal there, so nothing can be asked)
 */
export function deleteCommandFor(name: string, options: { yes?: boolean } = {}): string {
  return `${inletsctlPrefix()} delete ${name}${options.yes ? ' --yes' : ''}`;
}
