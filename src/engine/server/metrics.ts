import type { Socket } from 'node:net';
import { processMetricLines, sampleEventLoopLag } from './process-metrics.js';

/**
 * The server's Prometheus metrics, written out by hand in text exposition format 0.0.4
 * (prom-client would not fit the 16 KiB user-data budget of the bundle), then the process's own
 * (process-metrics.ts).
 */

/** Per-port traffic; `in` is bytes from public peers, `out` bytes sent to them. */
interface PortCounters {
  open: number;
  in: number;
  out: number;
}

export class ServerMetrics {
  /** Requests refused for a missing, empty or wrong token (websocket and HTTP). */
  authFailures = 0;
  /** Sessions from a client id the server had seen before. */
  reconnects = 0;
  readonly #ports = new Map<number, PortCounters>();
  /** Open public sockets and the byte counts already added for them. */
  readonly #live = new Map<Socket, { port: number; in: number; out: number }>();

  constructor() {
    sampleEventLoopLag();
  }

  #port(p: number): PortCounters {
    let c = this.#ports.get(p);
    if (!c) this.#ports.set(p, (c = { open: 0, in: 0, out: 0 }));
    return c;
  }

  /** Counts a public connection on `port` until it closes, and its bytes both ways. */
  track(port: number, socket: Socket): void {
    this.#port(port).open++;
    this.#live.set(socket, { port, in: 0, out: 0 });
    socket.once('close', () => {
      this.#flush(socket);
      this.#live.delete(socket);
      this.#port(port).open--;
    });
  }

  /** Adds what `socket` moved since the last flush (sockets count their own bytes). */
  #flush(socket: Socket): void {
    const seen = this.#live.get(socket);
    if (!seen) return;
    const c = this.#port(seen.port);
    c.in += socket.bytesRead - seen.in;
    c.out += socket.bytesWritten - seen.out;
    seen.in = socket.bytesRead;
    seen.out = socket.bytesWritten;
  }

  /** The exposition text; `connectedClients` is read from the live sessions, `extra` is HTTP mode's. */
  render(connectedClients: number, extra: string[] = []): string {
    for (const socket of this.#live.keys()) this.#flush(socket);
    const out: string[] = [];
    const head = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    head('inlets_connected_clients', 'gauge', 'Client sessions currently connected.');
    out.push(`inlets_connected_clients ${connectedClients}`);
    head('inlets_auth_failures_total', 'counter', 'Requests refused for a missing or wrong token.');
    out.push(`inlets_auth_failures_total ${this.authFailures}`);
    head('inlets_reconnects_total', 'counter', 'Sessions from a client id seen before.');
    out.push(`inlets_reconnects_total ${this.reconnects}`);
    const sorted = [...this.#ports].sort((a, b) => a[0] - b[0]);
    head('inlets_open_connections', 'gauge', 'Public connections open, per port.');
    for (const [p, c] of sorted) out.push(`inlets_open_connections{port="${p}"} ${c.open}`);
    head('inlets_bytes_total', 'counter', 'Public port bytes; in: from public peers, out: to them.');
    for (const [p, c] of sorted) out.push(`inlets_bytes_total{port="${p}",direction="in"} ${c.in}`, `inlets_bytes_total{port="${p}",direction="out"} ${c.out}`);
    out.push(...extra);
    out.push(...processMetricLines());
    return out.join('\n') + '\n';
  }
}
