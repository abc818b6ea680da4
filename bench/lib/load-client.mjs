// The Node load generator for the latency and connection workloads. It runs in its own process (so
// it shares no event loop with the tunnel) and the same code drives every path. Usage:
//   node load-client.mjs <mode> '<json options>'
// It prints one JSON line with the result as its last line of stdout. Modes:
//   rtt          1-byte round trips, sequential, on one connection
//   connect      fresh connections: connect, send 1 byte, wait for the echo, close (gapMs apart)
//   interactive  1 byte every gapMs on one connection for durationMs (run beside a bulk load)
//   conns        hold `count` connections open with a small echo on each; prints {"event":"holding"}
//                and waits for a "release" line on stdin before closing them
import net from 'node:net';
import { createInterface } from 'node:readline';
import { summarize } from './stats.mjs';

const HOST = '127.0.0.1';
const now = () => process.hrtime.bigint();
const micros = (t0, t1) => Number(t1 - t0) / 1000;

function connect(port, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('connect timeout'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Sends `payload` and resolves when the same bytes came back (or rejects on timeout/close). */
function echoOnce(socket, payload, timeoutMs) {
  return new Promise((resolve, reject) => {
    const parts = [];
    let got = 0;
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
    };
    const onData = (chunk) => {
      parts.push(chunk);
      got += chunk.length;
      if (got < payload.length) return;
      cleanup();
      const back = Buffer.concat(parts);
      if (got === payload.length && back.equals(payload)) resolve();
      else reject(new Error('echo mismatch'));
    };
    const onClose = () => {
      cleanup();
      reject(new Error('closed before echo'));
    };
    const onError = (err) => {
      cleanup();
      reject(err);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error('echo timeout'));
    }, timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    socket.write(payload);
  });
}

/**
 * 1-byte round trips on one connection; the first `warmup` are not recorded. One 'data' listener
 * for the whole run keeps the client's own overhead per round trip small.
 */
async function rtt({ port, count, warmup, timeoutMs = 10000 }) {
  const socket = await connect(port, timeoutMs);
  const samples = [];
  const one = Buffer.from([0x2a]);
  const total = warmup + count;
  try {
    await new Promise((resolve, reject) => {
      let done = 0;
      let t0 = now();
      let lastProgress = Date.now();
      const watchdog = setInterval(() => {
        if (Date.now() - lastProgress > timeoutMs) finish(new Error('echo timeout'));
      }, 250);
      const finish = (err) => {
        clearInterval(watchdog);
        socket.off('data', onData);
        if (err) reject(err);
        else resolve();
      };
      const onData = (chunk) => {
        const t1 = now();
        // One byte is never split, but a late duplicate would show up as a longer chunk.
        if (chunk.length !== 1) return finish(new Error(`unexpected echo of ${chunk.length} bytes`));
        if (done >= warmup) samples.push(micros(t0, t1));
        done++;
        lastProgress = Date.now();
        if (done >= total) return finish();
        t0 = now();
        socket.write(one);
      };
      socket.on('data', onData);
      socket.once('close', () => finish(new Error('closed during round trips')));
      socket.write(one);
    });
  } finally {
    socket.destroy();
  }
  return { unit: 'us', ...summarize(samples) };
}

/**
 * Fresh connections: connect, send 1 byte, wait for its echo; time in ms. `gapMs` pauses between
 * connections (0 = back to back), so one connection's teardown does not delay the next.
 */
async function connectLatency({ port, count, warmup, gapMs = 0, timeoutMs = 10000 }) {
  const samples = [];
  let errors = 0;
  let firstError = null;
  const one = Buffer.from([0x2a]);
  for (let i = 0; i < warmup + count; i++) {
    const t0 = now();
    let socket;
    try {
      socket = await connect(port, timeoutMs);
      await echoOnce(socket, one, timeoutMs);
      if (i >= warmup) samples.push(micros(t0, now()) / 1000);
    } catch (err) {
      errors++;
      firstError ??= err.message;
      if (errors > 20) break;
    } finally {
      socket?.destroy();
    }
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  return { unit: 'ms', gapMs, errors, firstError, ...summarize(samples) };
}

/** 1 byte every `gapMs` on one connection for `durationMs`; round trips in µs. */
async function interactive({ port, durationMs, gapMs, timeoutMs = 10000 }) {
  const socket = await connect(port, timeoutMs);
  const samples = [];
  const one = Buffer.from([0x2a]);
  const end = Date.now() + durationMs;
  try {
    while (Date.now() < end) {
      const t0 = now();
      await echoOnce(socket, one, timeoutMs);
      samples.push(micros(t0, now()));
      await new Promise((r) => setTimeout(r, gapMs));
    }
  } finally {
    socket.destroy();
  }
  return { unit: 'us', ...summarize(samples) };
}

/** Opens `count` connections (at most `concurrency` opening at once), echoes on each, holds them. */
async function conns({ port, count, concurrency, timeoutMs = 15000, holdTimeoutMs = 60000 }) {
  const sockets = [];
  const errors = { connect: 0, firstEcho: 0, secondEcho: 0, closedEarly: 0 };
  const messages = new Set();
  let released = false;
  const note = (err) => {
    if (messages.size < 5) messages.add(err.message);
  };
  const t0 = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const id = next++;
      let socket;
      try {
        socket = await connect(port, timeoutMs);
      } catch (err) {
        errors.connect++;
        note(err);
        continue;
      }
      socket.on('error', () => {});
      try {
        await echoOnce(socket, Buffer.from(`hello ${String(id).padStart(8, '0')}\n`), timeoutMs);
        socket.once('close', () => {
          if (!released) errors.closedEarly++;
        });
        sockets.push({ id, socket });
      } catch (err) {
        errors.firstEcho++;
        note(err);
        socket.destroy();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const openMs = Date.now() - t0;
  // With every connection open at once, one more small echo on each, all in flight together.
  const results = await Promise.allSettled(
    sockets.map(({ id, socket }) => echoOnce(socket, Buffer.from(`again ${String(id).padStart(8, '0')}\n`), timeoutMs)),
  );
  for (const r of results) {
    if (r.status === 'rejected') {
      errors.secondEcho++;
      note(r.reason);
    }
  }
  const held = sockets.length;
  process.stdout.write(`${JSON.stringify({ event: 'holding', held, openMs })}\n`);
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, holdTimeoutMs);
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      if (line.trim() === 'release') {
        clearTimeout(timer);
        rl.close();
        resolve();
      }
    });
    rl.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const stillOpen = sockets.filter(({ socket }) => !socket.destroyed).length;
  released = true;
  for (const { socket } of sockets) socket.destroy();
  const errorCount = errors.connect + errors.firstEcho + errors.secondEcho + errors.closedEarly;
  return { requested: count, held, stillOpen, openMs, errors: errorCount, errorKinds: errors, errorMessages: [...messages] };
}

const modes = { rtt, connect: connectLatency, interactive, conns };
const [mode, json] = process.argv.slice(2);
if (!modes[mode]) {
  process.stderr.write(`unknown mode ${mode}; one of ${Object.keys(modes).join(', ')}\n`);
  process.exit(2);
}
try {
  const result = await modes[mode](JSON.parse(json ?? '{}'));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
} catch (err) {
  process.stdout.write(`${JSON.stringify({ error: err.message })}\n`);
  process.exit(1);
}
