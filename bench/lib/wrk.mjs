// wrk (Debian package `wrk`, written in C, so the load generator is not the bottleneck) for the HTTP
// workload: keep-alive HTTP/1.1 GETs, no Lua script, its text report parsed ("Requests/sec" and the
// --latency distribution).
import { runToEnd } from './procs.mjs';

export const WRK = 'wrk';

const TIME_UNITS = { us: 0.001, ms: 1, s: 1000, m: 60000, h: 3600000 };

/** A wrk duration such as "812.00us", "1.23ms" or "2.00s", in ms; null if it does not parse. */
export function wrkTimeMs(text) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  return m ? Math.round(Number(m[1]) * TIME_UNITS[m[2]] * 1000) / 1000 : null;
}

/**
 * Parses wrk's text report (run with --latency).
 * @returns {{ requestsPerSecond: number, requests: number|null, seconds: number|null, p50Ms: number|null, p75Ms: number|null, p90Ms: number|null, p99Ms: number|null, errors: { connect: number, read: number, write: number, timeout: number, non2xx: number }, errorTotal: number }}
 */
export function parseWrk(text) {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  if (!rps) throw new Error(`wrk: no "Requests/sec" line in its report: ${text.slice(-500)}`);
  const dist = {};
  const block = /Latency Distribution\n((?:\s+\d+%\s+\S+\n?)+)/.exec(text);
  for (const m of (block?.[1] ?? '').matchAll(/(\d+)%\s+(\S+)/g)) dist[m[1]] = wrkTimeMs(m[2]);
  const done = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)/m.exec(text);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const errors = {
    connect: sock ? Number(sock[1]) : 0,
    read: sock ? Number(sock[2]) : 0,
    write: sock ? Number(sock[3]) : 0,
    timeout: sock ? Number(sock[4]) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
  return {
    requestsPerSecond: Math.round(Number(rps[1])),
    requests: done ? Number(done[1]) : null,
    seconds: done ? Math.round((Number(done[2]) * TIME_UNITS[done[3]]) / 10) / 100 : null,
    p50Ms: dist['50'] ?? null,
    p75Ms: dist['75'] ?? null,
    p90Ms: dist['90'] ?? null,
    p99Ms: dist['99'] ?? null,
    errors,
    errorTotal: Object.values(errors).reduce((s, v) => s + v, 0),
  };
}

/**
 * Runs `wrk -t threads -c connections -d seconds --latency http://127.0.0.1:port/` and parses it.
 * @param {{ port: number, threads: number, connections: number, seconds: number, timeoutSeconds?: number }} opts
 */
export async function runWrk({ port, threads, connections, seconds, timeoutSeconds = 5 }) {
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', `${timeoutSeconds}s`, '--latency', `http://127.0.0.1:${port}/`];
  const res = await runToEnd(`wrk -c ${connections}`, WRK, args, (seconds + timeoutSeconds + 20) * 1000);
  if (res.code !== 0) throw new Error(`wrk exited (code ${res.code}, signal ${res.signal}): ${(res.stderr || res.stdout).slice(-500)}`);
  return { ...parseWrk(res.stdout), threads, connections };
}
