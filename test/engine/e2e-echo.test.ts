/** End to end over real TLS websockets on loopback (in-process server and client). */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, connectTo, echoUpstream, freePort, readAll, startClient, startServer, tcpServer } from '../helpers/engine-harness.js';

afterEach(cleanupAll);

async function tunnel() {
  const upstream = await echoUpstream();
  const srv = await startServer();
  const publicPort = await freePort();
  await startClient({ url: srv.url, token: srv.token, trust: { pin: srv.pin }, upstreams: new Map([[publicPort, { host: '127.0.0.1', port: upstream.port }]]) });
  return { srv, publicPort, upstream };
}

describe('tunnel end to end', () => {
  it('echoes bytes through the tunnel', async () => {
    const { publicPort } = await tunnel();
    const s = await connectTo(publicPort);
    const got = readAll(s);
    s.end('hello through the tunnel\n');
    expect((await got).toString()).toBe('hello through the tunnel\n');
  });

  it('carries 200 parallel streams, each intact', async () => {
    const { publicPort } = await tunnel();
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const payload = randomBytes(16 * 1024 + i * 97);
        const s = await connectTo(publicPort);
        const got = readAll(s);
        s.end(payload);
        const back = await got;
        return { sent: createHash('sha256').update(payload).digest('hex'), got: createHash('sha256').update(back).digest('hex'), len: back.length, want: payload.length };
      }),
    );
    for (const r of results) {
      expect(r.len).toBe(r.want);
      expect(r.got).toBe(r.sent);
    }
  });

  it('half close: the upstream sees the end, and can still answer after it', async () => {
    const upstream = await tcpServer((s) => {
      const parts: Buffer[] = [];
      s.on('data', (d) => parts.push(d));
      s.on('end', () => {
        // the public side finished sending; answer afterwards, then close our side
        setTimeout(() => s.end(`got ${Buffer.concat(parts).length} bytes then EOF`), 50);
      });
    });
    const srv = await startServer();
    const publicPort = await freePort();
    await startClient({ url: srv.url, token: srv.token, trust: { pin: srv.pin }, upstreams: new Map([[publicPort, { host: '127.0.0.1', port: upstream.port }]]) });
    const s = await connectTo(publicPort);
    s.allowHalfOpen = true;
    const got = readAll(s);
    s.end(Buffer.alloc(100_000, 7));
    expect((await got).toString()).toBe('got 100000 bytes then EOF');
  });

  it('works without TLS (--disable-tls, behind a TLS-terminating proxy)', async () => {
    const upstream = await echoUpstream();
    const srv = await startServer({ tls: null });
    expect(srv.url).toMatch(/^ws:\/\//);
    const publicPort = await freePort();
    await startClient({ url: srv.url, token: srv.token, trust: {}, upstreams: new Map([[publicPort, { host: '127.0.0.1', port: upstream.port }]]) });
    const s = await connectTo(publicPort);
    const got = readAll(s);
    s.end('plain');
    expect((await got).toString()).toBe('plain');
  });

  it('resets the public connection when the upstream is unreachable', async () => {
    const srv = await startServer();
    const publicPort = await freePort();
    const deadPort = await freePort();
    await startClient({ url: srv.url, token: srv.token, trust: { pin: srv.pin }, upstreams: new Map([[publicPort, { host: '127.0.0.1', port: deadPort }]]) });
    const s = await connectTo(publicPort);
    const closed = new Promise<boolean>((resolve) => s.once('close', resolve));
    s.on('error', () => {});
    s.on('data', () => {});
    s.write('anyone there?');
    await closed;
    expect(s.destroyed).toBe(true);
  });
});
