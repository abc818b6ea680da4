// The upstream for the HTTP workload: a keep-alive HTTP/1.1 server on 127.0.0.1 in its own process,
// written on a raw `net` server rather than node:http so the upstream costs as little CPU as
// possible (on a 2-core machine it competes with wrk and both tunnel ends). It reads request heads,
// skips Content-Length bodies, and answers every request with the same prebuilt 200 response and a
// 1 KiB body; pipelined requests get their answers in order in one write. "Connection: close" is
// honoured; a chunked request body or an oversized head gets a 400 and the connection is closed.
// Prints {"port": N} once listening; exits when its stdin closes (so it never outlives the bench).
import net from 'node:net';

const BODY_BYTES = Number(process.argv[2] ?? 1024);
const MAX_HEAD = 16384;
const body = Buffer.alloc(BODY_BYTES, 'x');
const head = (extra) =>
  Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${BODY_BYTES}\r\n${extra}\r\n`, 'latin1');
const OK = Buffer.concat([head(''), body]);
const OK_CLOSE = Buffer.concat([head('Connection: close\r\n'), body]);
const BAD = Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 'latin1');
const END_OF_HEAD = Buffer.from('\r\n\r\n', 'latin1');

/** Header value (lower-cased, trimmed) of `name` in a request head, or null. */
function header(text, name) {
  const m = new RegExp(`\\r\\n${name}:[ \\t]*([^\\r]*)`, 'i').exec(text);
  return m ? m[1].trim().toLowerCase() : null;
}

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  let pending = null; // unparsed bytes
  let skip = 0; // body bytes of the current request still to discard
  socket.on('data', (chunk) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    const out = [];
    let close = false;
    let at = 0;
    while (at < buf.length && !close) {
      if (skip > 0) {
        const n = Math.min(skip, buf.length - at);
        skip -= n;
        at += n;
        continue;
      }
      const end = buf.indexOf(END_OF_HEAD, at);
      if (end === -1) {
        if (buf.length - at > MAX_HEAD) {
          out.push(BAD);
          close = true;
        } else {
          pending = buf.subarray(at);
        }
        break;
      }
      const text = buf.toString('latin1', at, end + 2);
      at = end + 4;
      if (header(text, 'transfer-encoding') !== null) {
        out.push(BAD);
        close = true;
        break;
      }
      const length = Number(header(text, 'content-length') ?? 0);
      if (!Number.isSafeInteger(length) || length < 0) {
        out.push(BAD);
        close = true;
        break;
      }
      skip = length;
      const connection = header(text, 'connection');
      const http10 = /^[^\r]* HTTP\/1\.0\r\n/.test(text);
      close = connection === 'close' || (http10 && connection !== 'keep-alive');
      out.push(close ? OK_CLOSE : OK);
    }
    if (pending && pending.length > 0) pending = Buffer.from(pending); // do not pin the whole chunk
    if (out.length) socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
    if (close) socket.end();
  });
});
server.maxConnections = 20000;
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port, bodyBytes: BODY_BYTES })}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
