import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { MuxSession } from '../../src/engine/mux/mux-session.js';
import type { MuxStream } from '../../src/engine/mux/mux-stream.js';
import { splice } from '../../src/engine/mux/splice.js';
import { ErrorCode } from '../../src/engine/protocol/frame-codec.js';
import { duplexPair } from '../helpers/duplex-pair.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function listen(server: Server): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as { port: number }).port;
}

/**
 * A tiny tunnel: connections to the public port become streams from the server session, which
 * the client session splices to the upstream port. Returns the public port and the splice results.
 */
async function tunnel(upstream: (socket: Socket) => void) {
  const [a, b] = duplexPair();
  const server = new MuxSession(a, { role: 'server' });
  const client = new MuxSession(b, { role: 'client' });
  cleanups.push(() => {
    server.close();
    client.close();
  });
  const upstreamPort = await listen(createServer({ allowHalfOpen: true }, upstream));
  const splices: Promise<void>[] = [];
  const streams: MuxStream[] = [];
  client.on('stream', (stream: MuxStream) => {
    streams.push(stream);
    splices.push(splice(stream, connect({ port: upstreamPort, host: '127.0.0.1', allowHalfOpen: true })));
  });
  const publicPort = await listen(
    createServer({ allowHalfOpen: true }, (socket) => {
      const stream = server.openStream({ port: 0, remote: `${socket.remoteAddress}:${socket.remotePort}` });
      streams.push(stream);
      splices.push(splice(stream, socket));
    }),
  );
  return { publicPort, splices, streams, server, client };
}

function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

describe('splice', () => {
  it('echoes 8 MiB through a tunnel and resolves once both sides are done', async () => {
    const t = await tunnel((socket) => socket.pipe(socket));
    const socket = connect({ port: t.publicPort, host: '127.0.0.1', allowHalfOpen: true });
    const data = randomBytes(8 * 1024 * 1024);
    const received = readAll(socket);
    socket.end(data);
    const echoed = await received;
    expect(echoed.length).toBe(data.length);
    expect(createHash('sha256').update(echoed).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    socket.destroy();
    await Promise.all(t.splices);
    expect(t.splices).toHaveLength(2);
    expect(t.server.streamCount + t.client.streamCount).toBe(0);
  });

  it('propagates half close: the public client ends first and still gets the answer', async () => {
    const t = await tunnel(async (socket) => {
      const request = await readAll(socket);
      socket.end(`answer to ${request.toString()}`);
    });
    const socket = connect({ port: t.publicPort, host: '127.0.0.1', allowHalfOpen: true });
    const received = readAll(socket);
    socket.end('question');
    expect((await received).toString()).toBe('answer to question');
  });

  it('propagates half close the other way: the upstream ends first and still receives', async () => {
    let upstreamGot!: Promise<Buffer>;
    const t = await tunnel((socket) => {
      upstreamGot = readAll(socket);
      socket.end('banner');
    });
    const socket = connect({ port: t.publicPort, host: '127.0.0.1', allowHalfOpen: true });
    expect((await readAll(socket)).toString()).toBe('banner');
    socket.end('late words');
    expect((await upstreamGot).toString()).toBe('late words');
  });

  it('an upstream that resets makes the public socket close, and the splices settle', async () => {
    const t = await tunnel((socket) => socket.resetAndDestroy());
    const socket = connect({ port: t.publicPort, host: '127.0.0.1' });
    socket.on('error', () => {});
    await once(socket, 'close');
    await Promise.all(t.splices);
    expect(t.streams.every((s) => s.destroyed)).toBe(true);
  });

  it('a stream reset by the peer destroys the socket', async () => {
    const t = await tunnel(() => {});
    const socket = connect({ port: t.publicPort, host: '127.0.0.1' });
    socket.on('error', () => {});
    const [clientSide] = (await once(t.client, 'stream')) as [MuxStream];
    clientSide.reset(ErrorCode.UPSTREAM_UNREACHABLE, 'test');
    await once(socket, 'close');
    await Promise.all(t.splices);
  });

  it('a public client that goes away resets the stream and hangs up on the upstream', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const t = await tunnel((socket) => {
      socket.resume();
      socket.on('error', () => upstreamClosed());
      socket.on('end', () => upstreamClosed()); // the tunnel side hung up
    });
    const socket = connect({ port: t.publicPort, host: '127.0.0.1' });
    socket.write('hello');
    await once(t.client, 'stream');
    await new Promise((r) => setTimeout(r, 50));
    socket.resetAndDestroy();
    await closed;
    await Promise.all(t.splices);
    expect(t.streams.every((s) => s.destroyed)).toBe(true);
    expect(t.server.streamCount + t.client.streamCount).toBe(0);
  });
});
