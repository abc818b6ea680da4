// Preloaded into a tunnel process by bench/profile.mjs (`node --import`): samples the event loop's
// delay with perf_hooks.monitorEventLoopDelay (1 ms resolution) and, when the process
// exits, writes {"eventLoopDelayMs":{...}} to the file in INLETS_PROFILE_ELD_FILE.<pid>.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';

const file = process.env.INLETS_PROFILE_ELD_FILE;
if (file) {
  // 1 ms sampling resolution: the histogram records how late a 1 ms timer fired.
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  process.on('exit', () => {
    h.disable();
    const ms = (ns) => Math.round((ns / 1e6) * 1000) / 1000;
    const out = { n: h.count, p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean) };
    writeFileSync(`${file}.${process.pid}`, `${JSON.stringify({ eventLoopDelayMs: out })}\n`);
  });
}
