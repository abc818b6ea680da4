// iperf3 (Debian package `iperf3`, written in C, so the load generator is not the bottleneck):
// one long-lived server on 127.0.0.1 as the throughput upstream, and client runs parsed from -J.
import { startProcess, waitForOutput, runToEnd } from './procs.mjs';

/** Starts `iperf3 -s` on 127.0.0.1:port and resolves once it listens. */
export async function startIperfServer(port) {
  const entry = startProcess('iperf3 server', 'iperf3', ['-s', '-B', '127.0.0.1', '-p', String(port), '--forceflush']);
  await waitForOutput(entry, /Server listening on/, 10000, 'listening line');
  return entry;
}

/**
 * Runs `iperf3 -c 127.0.0.1 -p port -t seconds -P streams -J` and returns the receiver-side rate.
 * @returns {Promise<{gbps: number, streams: number, seconds: number, bytes: number|null, retransmits: number|null}>}
 */
export async function runIperf(port, seconds, streams) {
  // Through the WAN relay the previous test's tail can still be in flight (up to 64 MiB delayed
  // per direction): iperf3's server then says it is busy. Wait for it, up to 30 s.
  for (let waited = 0; ; waited += 500) {
    try {
      return await runIperfOnce(port, seconds, streams);
    } catch (err) {
      if (!/server is busy/.test(err.message) || waited >= 30000) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function runIperfOnce(port, seconds, streams) {
  const args = ['-c', '127.0.0.1', '-p', String(port), '-t', String(seconds), '-J', '--connect-timeout', '5000'];
  if (streams > 1) args.push('-P', String(streams));
  const res = await runToEnd(`iperf3 client -P ${streams}`, 'iperf3', args, (seconds + 20) * 1000);
  let report;
  try {
    report = JSON.parse(res.stdout);
  } catch {
    throw new Error(`iperf3 client printed no JSON (code ${res.code}, signal ${res.signal}): ${(res.stderr || res.stdout).slice(-500)}`);
  }
  if (report.error) throw new Error(`iperf3: ${report.error}`);
  const received = report.end?.sum_received;
  if (!received || typeof received.bits_per_second !== 'number') throw new Error('iperf3: no sum_received in its report');
  return {
    gbps: Math.round((received.bits_per_second / 1e9) * 1000) / 1000,
    streams,
    seconds: Math.round(received.seconds * 100) / 100,
    bytes: typeof received.bytes === 'number' ? received.bytes : null,
    retransmits: report.end?.sum_sent?.retransmits ?? null,
  };
}
