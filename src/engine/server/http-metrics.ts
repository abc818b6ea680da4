/**
 * HTTP mode's RED metrics (rate, errors, duration) per host, in Prometheus text format. The
 * caller bounds the hosts (names it serves or knows; everything else counts as "other").
 */

/** Histogram buckets, in seconds; methods outside METHODS count as OTHER (bounded labels). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

export class HttpMetrics {
  readonly #http = new Map<string, { n: Map<string, number>; b: number[]; sum: number; count: number; in: number; out: number }>();

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

  /** The exposition lines (none before the first request). */
  lines(): string[] {
    const out: string[] = [];
    const head = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    if (!this.#http.size) return out;
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
    return out;
  }
}
