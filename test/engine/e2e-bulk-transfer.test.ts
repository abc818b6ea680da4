/** Large transfers through the tunnel, checked with SHA-256 (in-process server and client). */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, connectTo, freePort, hashUntilEnd, startClient, startServer, tcpServer } from '../helpers/engine-harness.js';

afterEach(cleanupAll);

const MiB = 1024 * 1024;

/** Writes `total` bytes of a deterministic pattern with backpressure; resolves with their sha256. */
async function sendPattern(socket: Socket, total: number): Promise<string> {
  const h = createHash('sha256');
  const chunk = Buffer.alloc(256 * 1024);
  let sent = 0;
  for (let i = 0; sent < total; i++) {
    chunk.fill(i & 0xff);
    chunk.writeUInt32BE(i, 0);
    const piece = chunk.subarray(0, Math.min(chunk.length, total - sent));
    h.update(piece);
    sent += piece.length;
    if (!socket.write(Buffer.from(piece))) await new Promise((r) => socket.once('drain', r));
  }
  socket.end();
  return h.digest('hex');
}

describe('bulk transfer', () => {
  it('moves 256 MiB from a public peer to the upstream intact', async () => {
    let upstreamHash: Promise<{ sha256: string; bytes: number }> | undefined;
    const upstream = await tcpServer((s) => {
      upstreamHash = hashUntilEnd(s);
      void upstreamHash.then(() => s.end());
    });
    const srv = await startServer();
    const publicPort = await freePort();
    await startClient({ url: srv.url, token: srv.token, trust: { pin: srv.pin }, upstreams: new Map([[publicPort, { host: '127.0.0.1', port: upstream.port }]]) });
    const s = await connectTo(publicPort);
    s.on('data', () => {});
    const sent = await sendPattern(s, 256 * MiB);
    await new Promise((r) => s.once('close', r));
    const got = await upstreamHash!;
    expect(got.bytes).toBe(256 * MiB);
    expect(got.sha256).toBe(sent);
  }, 240_000);

  it('moves 64 MiB from the upstream to a public peer intact', async () => {
    let sent: Promise<string> | undefined;
    const upstream = await tcpServer((s) => {
      s.on('data', () => {});
      sent = sendPattern(s, 64 * MiB);
    });
    const srv = await startServer();
    const publicPort = await freePort();
    await startClient({ url: srv.url, token: srv.token, trust: { pin: srv.pin }, upstreams: new Map([[publicPort, { host: '127.0.0.1', port: upstream.port }]]) });
    const s = await connectTo(publicPort);
    const got = await hashUntilEnd(s);
    expect(got.bytes).toBe(64 * MiB);
    expect(got.sha256).toBe(await sent!);
  }, 120_000);
});
