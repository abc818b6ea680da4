/**
 * The standard process metrics of Prometheus client libraries (same names, types and units), for
 * the server's `/metrics`, plus the event loop's lag: how late a 500 ms timer last fired, which
 * stays near 0 while the loop keeps up and grows when something blocks it.
 */
import { readdirSync } from 'node:fs';

const TICK_MS = 500;
let lagSeconds = 0;
let sampling = false;

/** Starts the lag sampler once per process (an unref'd timer: it never keeps the process alive). */
export function sampleEventLoopLag(): void {
  if (sampling) return;
  sampling = true;
  let due = Date.now() + TICK_MS;
  setInterval(() => {
    const now = Date.now();
    lagSeconds = Math.max(0, now - due) / 1000;
    due = now + TICK_MS;
  }, TICK_MS).unref();
}

/** Exposition lines for this process; open file descriptors only where /proc tells (Linux). */
export function processMetricLines(): string[] {
  const cpu = process.cpuUsage();
  let fds: number | undefined;
  try {
    fds = readdirSync('/proc/self/fd').length - 1; // less the descriptor reading the directory
  } catch {
    // no /proc: the metric is left out rather than reported wrong
  }
  // Standard names, so no HELP lines (optional in the format): TYPE and the sample only.
  const rows: [string, number | undefined][] = [
    ['process_cpu_seconds_total counter', (cpu.user + cpu.system) / 1e6],
    ['process_resident_memory_bytes gauge', process.memoryUsage.rss()],
    ['process_start_time_seconds gauge', Math.round(Date.now() / 1000 - process.uptime())],
    ['process_open_fds gauge', fds],
    ['nodejs_eventloop_lag_seconds gauge', lagSeconds],
  ];
  return rows.flatMap(([typed, value]) => (value === undefined ? [] : [`# TYPE ${typed}`, `${typed.split(' ')[0]} ${value}`]));
}
