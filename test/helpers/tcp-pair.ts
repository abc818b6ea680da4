/** Two ends of a real loopback TCP connection, in the shape runMuxSuite expects. */
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';

export async function makeTcpPair(): Promise<{ a: Duplex; b: Duplex; close(): Promise<void> }> {
  const server = createServer({ noDelay: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const b = connect({ port, host: '127.0.0.1', noDelay: true });
  await once(b, 'connect');
  const [a] = await accepted;
  return {
    a,
    b,
    async close() {
      a.destroy();
      b.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
