#!/usr/bin/env node
// Profiles the inlets tunnel processes during one workload: starts the echo upstream (and iperf3
// for bulk), the server and client with `--cpu-prof` and an event-loop-delay sampler, runs the
// workload, stops them (SIGTERM, so the profiles are written), and prints per process: CPU seconds
// user/system from /proc, event-loop delay, and self time by category and by function.
//   node bench/profile.mjs [--workload rtt|bulk] [--count 20000] [--seconds 5] [--out DIR] [--no-cpu-prof]
// --no-cpu-prof leaves V8's profiler off (for `perf record -p PID`: the processes also run with
// --perf-basic-prof, so perf can name JIT frames). Defaults: rtt, 20,000 round trips (after 2,000 not counted), 5 s of bulk, a temp dir for the
// .cpuprofile files (kept; the path is printed).
import { parseArgs } from 'node:util';
import { mkdtempSync, readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, waitForOutput, runToEnd, killAll, freePorts, sleep, cpuSeconds } from './lib/procs.mjs';
import { startIperfServer, runIperf } from './lib/iperf.mjs';
import { startInletsPath } from './lib/inlets-path.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const BUNDLE = process.env.INLETS_BENCH_BUNDLE || join(here, '..', 'dist', 'inlets.mjs');
const { values: f } = parseArgs({
  options: {
    workload: { type: 'string', default: 'rtt' },
    count: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '5' },
    out: { type: 'string' },
    'no-cpu-prof': { type: 'boolean', default: false },
  },
});
const out = f.out ?? mkdtempSync(join(tmpdir(), 'inlets-profile-'));
mkdirSync(out, { recursive: true });
const eldFile = join(out, 'eld');
process.env.INLETS_PROFILE_ELD_FILE = eldFile;

const [iperfPort] = await freePorts(1);
const echo = startProcess('echo server', process.execPath, [join(here, 'lib', 'echo-server.mjs')]);
const [, echoPort] = await waitForOutput(echo, /"port":(\d+)/, 10000, 'port line');
if (f.workload === 'bulk') await startIperfServer(iperfPort);
const [pubIperf, pubEcho] = await freePorts(2);
const path = await startInletsPath({
  bundle: BUNDLE,
  dir: mkdtempSync(join(tmpdir(), 'inlets-profile-state-')),
  forwards: [
    { publicPort: pubIperf, upstreamPort: iperfPort },
    { publicPort: pubEcho, upstreamPort: Number(echoPort) },
  ],
  nodeArgs: [...(f['no-cpu-prof'] ? [] : ['--cpu-prof', `--cpu-prof-dir=${out}`]), '--perf-basic-prof', '--import', join(here, 'lib', 'loop-delay.mjs')],
});
await sleep(1500);
const pids = { server: path.serverPids()[0], client: path.clientPids()[0] };
console.log(`pids: server ${pids.server}, client ${pids.client}`);
const stat = (pid) => {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8').slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
  return { user: Number(s[11]) / 100, system: Number(s[12]) / 100 };
};
const before = { server: stat(pids.server), client: stat(pids.client) };
let work;
if (f.workload === 'bulk') {
  work = await runIperf(pubIperf, Number(f.seconds), 1);
} else {
  const r = await runToEnd('rtt', process.execPath, [join(here, 'lib', 'load-client.mjs'), 'rtt', JSON.stringify({ port: pubEcho, count: Number(f.count), warmup: 2000 })], 300000);
  work = JSON.parse(r.stdout.trim().split('\n').pop());
}
const after = { server: stat(pids.server), client: stat(pids.client) };
await path.stop();
await killAll();

const units = f.workload === 'bulk' ? `per GiB (${(work.bytes / 2 ** 30).toFixed(2)} GiB)` : `per round trip (µs, ${Number(f.count) + 2000} round trips)`;
const scale = f.workload === 'bulk' ? 2 ** 30 / work.bytes : 1e6 / (Number(f.count) + 2000);
console.log(`workload ${f.workload}: ${JSON.stringify(work)}`);
for (const side of ['server', 'client']) {
  const u = after[side].user - before[side].user;
  const s = after[side].system - before[side].system;
  console.log(`${side}: CPU ${units}: user ${(u * scale).toFixed(f.workload === 'bulk' ? 2 : 1)}, system ${(s * scale).toFixed(f.workload === 'bulk' ? 2 : 1)} (system ${((100 * s) / (u + s)).toFixed(0)}%)`);
  try {
    console.log(`  event loop: ${readFileSync(`${eldFile}.${pids[side]}`, 'utf8').trim()}`);
  } catch {
    console.log('  event loop: (no file)');
  }
  const prof = readdirSync(out).find((n) => n.endsWith('.cpuprofile') && n.includes(`.${pids[side]}.`));
  if (!prof) {
    console.log('  (no .cpuprofile written)');
    continue;
  }
  console.log(`  profile: ${join(out, prof)}`);
  summarize(JSON.parse(readFileSync(join(out, prof), 'utf8')));
}

/** Self time by category and the top functions, excluding idle, as % of sampled busy time. */
function summarize(p) {
  const dt = new Map();
  for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const cats = new Map();
  const fns = new Map();
  let busy = 0;
  for (const n of p.nodes) {
    const t = dt.get(n.id) ?? 0;
    const { functionName: fn, url } = n.callFrame;
    if (fn === '(idle)') continue;
    busy += t;
    let cat;
    if (fn === '(program)') cat = 'native: (program), libuv, syscalls outside JS';
    else if (fn === '(garbage collector)') cat = 'garbage collector';
    else if (!url) cat = 'native called from JS (write, TLS, Buffer)';
    else if (url.includes('inlets')) cat = 'engine JS (dist/inlets.mjs)';
    else if (/node:internal\/(streams|stream_base)|node:stream/.test(url)) cat = 'node streams';
    else if (/node:(internal\/)?(net|tls|_tls|internal\/tls)/.test(url)) cat = 'node net/tls';
    else if (/timers|process\/task_queues|events/.test(url)) cat = 'node timers/events/ticks';
    else cat = 'node other';
    cats.set(cat, (cats.get(cat) ?? 0) + t);
    const key = `${fn || '(anonymous)'} ${url ? url.replace(/^.*\//, '') : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + t);
  }
  const pct = (t) => `${((100 * t) / busy).toFixed(1)}%`.padStart(6);
  console.log(`  busy (sampled, not idle): ${(busy / 1e6).toFixed(2)} s`);
  for (const [c, t] of [...cats].sort((a, b) => b[1] - a[1])) console.log(`   ${pct(t)}  ${c}`);
  console.log('  top functions (self):');
  for (const [c, t] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`   ${pct(t)}  ${c}`);
}
