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

/** Histogram buckets, in seconds; methods outside METHODS count as OTHER (bounded labels). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

export class ServerMetrics {
  /** Requests refused for a missing, empty or wrong token (websocket and HTTP). */
  authFailures = 0;
  /** Sessions from a client id the server had seen before. */
  reconnects = 0;
  readonly #ports = new Map<number, PortCounters>();
  /** HTTP mode, per host (the caller bounds the hosts): requests by method and status class, durations, bytes. */
  readonly #http = new Map<string, { n: Map<string, number>; b: number[]; sum: number; count: number; in: number; out: number }>();
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

  /** Counts one finished HTTP request (RED: rate, errors by status class, duration). */
  request(host: string, method: string, status: number, seconds: number, bytesIn: number, bytesOut: number): void {
    let h = this.#http.get(host);
    if (!h) this.#http.set(host, (h = { n: new Map(), b: BUCKETS.map(() => 0), sum: 0, count: 0, in: 0, out: 0 }));
    const key = `${METHODS.includes(method) ? method : 'OTHER'} ${Math.floor(status / 100)}xx`;
    h.n.set(key, (h.n.get(key) ?? 0) + 1);
    BUCKETS.forEach((le, i) => seconds <= le && h!.b[i]++);
    h.sum += seconds;
    h.count++;
    h.in += bytesIn;
    h.out += bytesOut;
  }

  /** The exposition text; `connectedClients` is read from the live sessions. */
  render(connectedClients: number): string {
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
    if (this.#http.size) {
      const hosts = [...this.#http].sort((a, b) => (a[0] < b[0] ? -1 : 1));
      head('inlets_http_requests_total', 'counter', 'Public HTTP requests, by host, method and status class.');
      for (const [host, h] of hosts) for (const [k, n] of h.n) {
        const [method, code] = k.split(' ');
        out.push(`inlets_http_requests_total{host="${host}",method="${method}",code="${code}"} ${n}`);
      }
      head('inlets_http_request_duration_seconds', 'histogram', 'Public HTTP request durations, to the end of the answer, by host.');
      for (const [host, h] of hosts) {
        BUCKETS.forEach((le, i) => out.push(`inlets_http_request_duration_seconds_bucket{host="${host}",le="${le}"} ${h.b[i]}`));
        out.push(`inlets_http_request_duration_seconds_bucket{host="${host}",le="+Inf"} ${h.count}`, `inlets_http_request_duration_seconds_sum{host="${host}"} ${h.sum}`, `inlets_http_request_duration_seconds_count{host="${host}"} ${h.count}`);
      }
      head('inlets_http_bytes_total', 'counter', 'Public HTTP bytes by host; in: from public peers, out: to them.');
      for (const [host, h] of hosts) out.push(`inlets_http_bytes_total{host="${host}",direction="in"} ${h.in}`, `inlets_http_bytes_total{host="${host}",direction="out"} ${h.out}`);
    }
    out.push(...processMetricLines());
    return out.join('\n') + '\n';
  }
}
