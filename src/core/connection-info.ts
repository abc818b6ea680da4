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
export function clientCommand(record: Pick<TunnelRecord, 'ip' | 'controlPort' | 'pin' | 'ports'>): string {
  const ports = exampleClientPorts(record.ports).map((p) => `--port ${p}`).join(' ');
  return `${inletsPrefix()} tcp client --url ${tunnelUrl(record.ip ?? 'IP', record.controlPort)} --token-env INLETS_TOKEN --tls-pin ${record.pin} --upstream 127.0.0.1 ${ports}`;
}

/**
 * The command that deletes the tunnel again, as it runs when pasted (see invocation.ts).
 * @param options.yes add `--yes`, for scripts (stdin is no terminal there, so nothing can be asked)
 */
export function deleteCommandFor(name: string, options: { yes?: boolean } = {}): string {
  return `${inletsctlPrefix()} delete ${name}${options.yes ? ' --yes' : ''}`;
}
