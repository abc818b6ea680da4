// A WAN stand-in for the benchmark: a TCP relay on 127.0.0.1 that forwards every connection to a
// target and delivers each chunk `oneWayMs` later than it arrived, in each direction, in order.
// The round trip through it grows by 2 × oneWayMs. Each direction buffers at most `maxBufferBytes`
// (default 64 MiB, above 1.5 Gbit/s × 100 ms); past that it stops reading from the sender, so TCP
// backpressure reaches the sender instead of memory growing. Runs as its own process:
//   node delay-relay.mjs '{"targetPort":N,"oneWayMs":25}'
// prints {"port":N} once listening; exits when its stdin closes (it never outlives the benchmark).
import net from 'node:net';

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
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
}
