// The upstream for the latency and connection workloads: a TCP echo server on 127.0.0.1, in its own
// process so it shares no event loop with the tunnel or the load client. Prints {"port": N} once
// listening; exits when its stdin closes (so it never outlives the benchmark).
import net from 'node:net';

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  // pipe() honours backpressure, so a fast writer cannot make this process buffer without bound.
  socket.pipe(socket);
});
server.maxConnections = 20000;
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
