// A WAN stand-in for the benchmark: a TCP relay on 127.0.0.1 that forwards every connection to a
// target and delivers each chunk `oneWayMs` later than it arrived, in each direction, in order.
// The round trip through it grows by 2 × oneWayMs. Each direction buffers at most `maxBufferBytes`
// (default 64 MiB, above 1.5 Gbit/s × 100 ms); past that it stops reading from the sender, so TCP
// backpressure reaches the sender instead of memory growing. Runs as its own process:
//   node delay-relay.mjs '{"targetPort":N,"oneWayMs":25}'
// prints {"port":N} once listening; a "stats" line on stdin prints how late chunks were delivered
// beyond their due time (its own event-loop and timer delay, in ms) since the last "stats", as
// {"lateness":{...}}; exits when its stdin closes (it never outlives the benchmark).
import net from 'node:net';
import { createInterface } from 'node:readline';

/** Lateness histogram: 0.1 ms buckets up to 1 s, the last one holding everything above. */
const BUCKET_MS = 0.1;
const late = new Uint32Array(10001);
let lateMax = 0;
function noteLateness(ms) {
  late[Math.min(late.length - 1, Math.floor(ms / BUCKET_MS))]++;
  if (ms > lateMax) lateMax = ms;
}
/** { chunks, p50, p99, max } of the lateness since the last call, in ms; resets it. */
export function takeLateness() {
  const n = late.reduce((a, b) => a + b, 0);
  const at = (p) => {
    let seen = 0;
    for (let i = 0; i < late.length; i++) {
      seen += late[i];
      if (seen >= Math.ceil((p / 100) * n)) return Math.round((i + 1) * BUCKET_MS * 10) / 10;
    }
    return null;
  };
  const out = { chunks: n, p50: n ? at(50) : null, p99: n ? at(99) : null, max: Math.round(lateMax * 10) / 10 };
  late.fill(0);
  lateMax = 0;
  return out;
}

/** Default bound on bytes held per direction of one connection (queued, not yet delivered). */
export const DEFAULT_MAX_BUFFER_BYTES = 64 * 1024 * 1024;

/**
 * Pipes `from` into `to`, each chunk delivered `oneWayMs` after it arrived, order kept.
 * @param {net.Socket} from
 * @param {net.Socket} to
 * @param {number} oneWayMs
 * @param {number} maxBufferBytes
 */
function delayedPipe(from, to, oneWayMs, maxBufferBytes) {
  /** @type {Array<{ due: number, chunk: Buffer }>} */
  const queue = [];
  let head = 0;
  let queuedBytes = 0;
  let timer = null;
  let blocked = false; // `to` asked us to wait for 'drain'
  let ended = false; // `from` ended: end `to` once the queue is empty

  const deliver = () => {
    timer = null;
    const now = performance.now();
    while (head < queue.length && !blocked) {
      const item = queue[head];
      if (item.due > now) break;
      queue[head++] = undefined;
      queuedBytes -= item.chunk.length;
      noteLateness(now - item.due);
      if (!to.write(item.chunk)) blocked = true;
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    if (queuedBytes < maxBufferBytes / 2 && from.isPaused()) from.resume();
    if (head >= queue.length) {
      if (ended) to.end();
      return;
    }
    if (!blocked) timer = setTimeout(deliver, Math.max(0, queue[head].due - performance.now()));
  };

  from.on('data', (chunk) => {
    queue.push({ due: performance.now() + oneWayMs, chunk });
    queuedBytes += chunk.length;
    if (queuedBytes >= maxBufferBytes) from.pause();
    if (timer === null && !blocked) timer = setTimeout(deliver, oneWayMs);
  });
  from.on('end', () => {
    ended = true;
    if (head >= queue.length && timer === null) to.end();
  });
  to.on('drain', () => {
    blocked = false;
    if (timer === null) deliver();
  });
}

/**
 * Starts the relay in this process.
 * @param {{ targetPort: number, oneWayMs: number, maxBufferBytes?: number }} opts
 * @returns {Promise<net.Server>}
 */
export function startDelayRelay({ targetPort, oneWayMs, maxBufferBytes = DEFAULT_MAX_BUFFER_BYTES }) {
  const server = net.createServer({ noDelay: true }, (inbound) => {
    const outbound = net.connect({ host: '127.0.0.1', port: targetPort, noDelay: true });
    inbound.setNoDelay(true);
    const close = () => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', close).on('close', close);
    outbound.on('error', close).on('close', close);
    delayedPipe(inbound, outbound, oneWayMs, maxBufferBytes);
    delayedPipe(outbound, inbound, oneWayMs, maxBufferBytes);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve(server));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opts = JSON.parse(process.argv[2] ?? '{}');
  const server = await startDelayRelay(opts);
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line.trim() === 'stats') process.stdout.write(`${JSON.stringify({ lateness: takeLateness() })}\n`);
  });
  rl.on('close', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
}
