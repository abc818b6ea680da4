/**
 * The client stops, with one line, when the server is not an inlets server (issue 14, item 8): a
 * web server answering 404 to the upgrade, and a plain-TCP port where TLS was expected. A 503
 * (an inlets server behind a proxy still starting) is still retried.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TunnelClient } from '../../src/engine/client/tunnel-client.js';
import { parseUpstreams } from '../../src/engine/client/upstream-map.js';

const servers: (Server | TcpServer)[] = [];
const clients: TunnelClient[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(server: Server | TcpServer): Promise<number> {
  servers.push(server);
  server.on('connection', (socket: Socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** Runs a client until it reports `fatal` or `disconnects` times disconnected. */
function run(url: string, trust: ConstructorParameters<typeof TunnelClient>[0]['trust'], disconnects = 3): Promise<{ fatal?: Error & { code?: string }; retried: number }> {
  const client = new TunnelClient({ url, token: 'not-the-token', trust, upstreams: parseUpstreams(['127.0.0.1'], ['8080']), reconnect: { initialMs: 20, maxMs: 40 } });
  clients.push(client);
  let retried = 0;
  return new Promise((resolve) => {
    client.once('fatal', (fatal: Error & { code?: string }) => resolve({ fatal, retried }));
    client.on('disconnected', () => {
      if (++retried >= disconnects) resolve({ retried });
    });
    client.start();
  });
}

describe('not an inlets server', () => {
  it('a web server answering 404: one permanent error, no retries', async () => {
    const port = await listen(createHttpServer((_req, res) => res.writeHead(404).end('<html>\n<h1>Not Found</h1>\n</html>')));
    const { fatal, retried } = await run(`ws://127.0.0.1:${port}`, {});
    expect(retried).toBe(0);
    expect(fatal).toMatchObject({ code: 'NOT_INLETS' });
    expect(fatal!.message).toBe(`127.0.0.1:${port} is not an inlets server (it answered the tunnel upgrade with HTTP 404); check the URL and port`);
  });

  it('a plain-TCP port where TLS was expected: one line, not an OpenSSL dump', async () => {
    const port = await listen(createTcpServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    const { fatal, retried } = await run(`wss://127.0.0.1:${port}`, { pin: `sha256:${'0'.repeat(64)}` });
    expect(retried).toBe(0);
    expect(fatal).toMatchObject({ code: 'NOT_INLETS' });
    expect(fatal!.message).not.toContain('\n');
    expect(fatal!.message).not.toMatch(/ssl3_|openssl/i);
    expect(fatal!.message).toContain(`127.0.0.1:${port} does not speak TLS`);
  });

  it('a 503 is still retried', async () => {
    const port = await listen(createHttpServer((_req, res) => res.writeHead(503).end()));
    const { fatal, retried } = await run(`ws://127.0.0.1:${port}`, {}, 2);
    expect(fatal).toBeUndefined();
    expect(retried).toBe(2);
  });
});
