// Turns per-path results into the printed table and the pass/fail list of the goals.

const MiB = 1024 * 1024;
const mib = (bytes) => (typeof bytes === 'number' ? bytes / MiB : null);
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Rows of the table: label, unit, how to read the figure from one path's result. */
export const FIGURES = [
  { key: 'single', label: 'throughput, 1 stream', unit: 'Gbit/s', get: (r) => num(r.single?.gbps) },
  { key: 'multi', label: 'throughput, 8 streams', unit: 'Gbit/s', get: (r) => num(r.multi?.gbps) },
  { key: 'rttP50', label: 'round trip p50 (1 byte)', unit: 'µs', get: (r) => num(r.rtt?.p50) },
  { key: 'rttP99', label: 'round trip p99 (1 byte)', unit: 'µs', get: (r) => num(r.rtt?.p99) },
  { key: 'rttCpuServer', label: 'CPU per round trip: server', unit: 'µs', get: (r) => num(r.rtt?.cpuPerRoundTripUs?.server) },
  { key: 'rttCpuClient', label: 'CPU per round trip: client', unit: 'µs', get: (r) => num(r.rtt?.cpuPerRoundTripUs?.client) },
  { key: 'connectP50', label: 'connect + first echo p50, paced', unit: 'ms', get: (r) => num(r.connect?.p50) },
  { key: 'connectP99', label: 'connect + first echo p99, paced', unit: 'ms', get: (r) => num(r.connect?.p99) },
  { key: 'connectB2bP50', label: '  same, back to back, p50', unit: 'ms', get: (r) => num(r.connectBackToBack?.p50) },
  { key: 'connectB2bP99', label: '  same, back to back, p99', unit: 'ms', get: (r) => num(r.connectBackToBack?.p99) },
  { key: 'holP50', label: 'interactive p50 under bulk', unit: 'ms', get: (r) => ms(r.hol?.interactive?.p50) },
  { key: 'holP99', label: 'interactive p99 under bulk', unit: 'ms', get: (r) => ms(r.hol?.interactive?.p99) },
  { key: 'holBulk', label: 'bulk beside interactive', unit: 'Gbit/s', get: (r) => num(r.hol?.bulk?.gbps) },
  { key: 'cpuServer', label: 'CPU per GiB, 1 stream: server', unit: 's/GiB', get: (r) => num(r.single?.cpu?.serverPerGiB) },
  { key: 'cpuClient', label: 'CPU per GiB, 1 stream: client', unit: 's/GiB', get: (r) => num(r.single?.cpu?.clientPerGiB) },
  { key: 'cpuTotal', label: 'CPU per GiB, 1 stream: total', unit: 's/GiB', get: (r) => num(r.single?.cpu?.totalPerGiB) },
  { key: 'cpuMultiTotal', label: 'CPU per GiB, 8 streams: total', unit: 's/GiB', get: (r) => num(r.multi?.cpu?.totalPerGiB) },
  { key: 'connsErrors', label: '1000 conns: errors', unit: 'count', get: (r) => num(r.conns?.errors) },
  { key: 'connsRss', label: '1000 conns: server RSS', unit: 'MiB', get: (r) => mib(r.conns?.serverRssBytes) },
  { key: 'idleServerRss', label: 'idle RSS, server side', unit: 'MiB', get: (r) => mib(r.idle?.serverRssBytes) },
  { key: 'idleClientRss', label: 'idle RSS, client side', unit: 'MiB', get: (r) => mib(r.idle?.clientRssBytes) },
  // HTTP: wrk keep-alive GETs of a 1 KiB body (ssh -R carries the port, inlets runs http mode).
  { key: 'httpRps', label: 'HTTP (wrk): requests/s', unit: 'req/s', get: (r) => num(r.http?.wrk?.requestsPerSecond) },
  { key: 'httpP50', label: 'HTTP (wrk): latency p50', unit: 'ms', get: (r) => num(r.http?.wrk?.p50Ms) },
  { key: 'httpP99', label: 'HTTP (wrk): latency p99', unit: 'ms', get: (r) => num(r.http?.wrk?.p99Ms) },
  { key: 'httpErrors', label: 'HTTP (wrk): errors (socket, non-2xx)', unit: 'count', get: (r) => num(r.http?.wrk?.errorTotal) },
  { key: 'httpCpuServer', label: 'HTTP (wrk): CPU per request: server', unit: 'µs', get: (r) => num(r.http?.wrk?.cpuPerRequestUs?.server) },
  { key: 'httpCpuClient', label: 'HTTP (wrk): CPU per request: client', unit: 'µs', get: (r) => num(r.http?.wrk?.cpuPerRequestUs?.client) },
];

function ms(us) {
  return typeof us === 'number' ? us / 1000 : null;
}

function fmt(v) {
  if (v === null || v === undefined) return '-';
  if (Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** Rows for the WAN stand-in: the control connection through the delay relay at `rttMs`. */
function wanFigures(rttMs) {
  return [
    { key: `wan${rttMs}Single`, label: `+${rttMs} ms RTT: throughput, 1 stream`, unit: 'Gbit/s', get: (r) => num(r.wan?.[rttMs]?.single?.gbps) },
    { key: `wan${rttMs}HolP99`, label: `+${rttMs} ms RTT: interactive p99 under bulk`, unit: 'ms', get: (r) => ms(r.wan?.[rttMs]?.hol?.interactive?.p99) },
    { key: `wan${rttMs}HolBulk`, label: `+${rttMs} ms RTT: bulk beside interactive`, unit: 'Gbit/s', get: (r) => num(r.wan?.[rttMs]?.hol?.bulk?.gbps) },
    { key: `wan${rttMs}RelayLateP99`, label: `+${rttMs} ms RTT: relay's own lateness p99`, unit: 'ms', get: (r) => num(r.wan?.[rttMs]?.hol?.relayLateness?.p99) },
  ];
}

/**
 * Every figure for every path, plus the inlets/ssh ratio, as plain data for the JSON file.
 * `wanRtts` (ms) adds the WAN stand-in rows.
 */
export function figureTable(results, wanRtts = []) {
  return [...FIGURES, ...wanRtts.flatMap(wanFigures)].map((f) => {
    const direct = results.direct ? f.get(results.direct) : null;
    const ssh = results.ssh ? f.get(results.ssh) : null;
    const inlets = results.inlets ? f.get(results.inlets) : null;
    const ratio = inlets !== null && ssh !== null && ssh !== 0 ? inlets / ssh : null;
    return { key: f.key, label: f.label, unit: f.unit, direct, ssh, inlets, inletsOverSsh: ratio };
  });
}

/** The table as text, rows = figures, columns = paths. */
export function renderTable(rows) {
  const header = ['figure', 'unit', 'direct', 'ssh -R', 'inlets', 'inlets/ssh'];
  const body = rows.map((r) => [r.label, r.unit, fmt(r.direct), fmt(r.ssh), fmt(r.inlets), r.inletsOverSsh === null ? '-' : `${r.inletsOverSsh.toFixed(2)}x`]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The issues' goals, each with status 'pass', 'fail' or 'n/a' (a figure is missing). */
export function evaluateGoals(rows, wanRtts = []) {
  const by = Object.fromEntries(rows.map((r) => [r.key, r]));
  const goal = (name, ok, detail) => ({ goal: name, status: ok === null ? 'n/a' : ok ? 'pass' : 'fail', detail });
  const ratioAtLeast = (key, factor) => {
    const r = by[key];
    if (r.inlets === null || r.ssh === null) return null;
    return r.inlets >= factor * r.ssh;
  };
  const notAbove = (key) => {
    const r = by[key];
    if (r.inlets === null || r.ssh === null) return null;
    return r.inlets <= r.ssh;
  };
  const ratioAtMost = (key, factor) => {
    const r = by[key];
    if (r.inlets === null || r.ssh === null) return null;
    return r.inlets <= factor * r.ssh;
  };
  const d = (key) => `inlets ${fmt(by[key].inlets)} ${by[key].unit} vs ssh -R ${fmt(by[key].ssh)} ${by[key].unit}`;
  const hol = by.holP99.inlets;
  const errs = by.connsErrors.inlets;
  const rss = by.connsRss.inlets;
  return [
    goal('single-stream throughput >= 1.5x ssh -R', ratioAtLeast('single', 1.5), d('single')),
    goal('8-stream throughput >= 1.5x ssh -R', ratioAtLeast('multi', 1.5), d('multi')),
    goal('round trip p50 <= ssh -R', notAbove('rttP50'), d('rttP50')),
    goal('round trip p99 <= 1.5x ssh -R', ratioAtMost('rttP99', 1.5), d('rttP99')),
    goal('connect + first echo p50 <= ssh -R', notAbove('connectP50'), d('connectP50')),
    goal('interactive p99 under bulk <= 5 ms', hol === null ? null : hol <= 5, `inlets ${fmt(hol)} ms`),
    goal(
      '1000 conns: 0 errors, server RSS <= 150 MiB',
      errs === null || rss === null ? null : errs === 0 && rss <= 150,
      `inlets ${fmt(errs)} errors, ${fmt(rss)} MiB`,
    ),
    goal(
      'idle RSS <= 35 MiB, server and client each',
      by.idleServerRss.inlets === null || by.idleClientRss.inlets === null ? null : by.idleServerRss.inlets <= 35 && by.idleClientRss.inlets <= 35,
      `inlets ${fmt(by.idleServerRss.inlets)} / ${fmt(by.idleClientRss.inlets)} MiB vs ssh -R ${fmt(by.idleServerRss.ssh)} / ${fmt(by.idleClientRss.ssh)} MiB`,
    ),
    goal('CPU per GiB (server + client, 1 stream) <= ssh -R', notAbove('cpuTotal'), d('cpuTotal')),
    goal('HTTP requests/s >= ssh -R', ratioAtLeast('httpRps', 1), `${d('httpRps')}; errors inlets ${fmt(by.httpErrors.inlets)}, ssh -R ${fmt(by.httpErrors.ssh)}`),
    goal('HTTP latency p99 <= ssh -R', notAbove('httpP99'), d('httpP99')),
    ...wanRtts.flatMap((rtt) => {
      const single = by[`wan${rtt}Single`];
      const hol = by[`wan${rtt}HolP99`].inlets;
      const out = [];
      if (rtt === 100) {
        out.push(goal('+100 ms RTT: 1-stream throughput >= 1.2 Gbit/s', single.inlets === null ? null : single.inlets >= 1.2, d(`wan${rtt}Single`)));
      }
      out.push(goal(`+${rtt} ms RTT: interactive p99 under bulk <= ${5 + rtt} ms (5 ms + the added round trip)`, hol === null ? null : hol <= 5 + rtt, d(`wan${rtt}HolP99`)));
      return out;
    }),
  ];
}

export function renderGoals(goals) {
  const mark = { pass: 'PASS', fail: 'FAIL', 'n/a': 'n/a ' };
  return goals.map((g) => `  [${mark[g.status]}] ${g.goal}  (${g.detail})`).join('\n');
}
