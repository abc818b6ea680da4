/**
 * A paused reader: the upstream stops reading while a public peer sends as fast as it can. The
 * tunnel must stop the sender instead of buffering: server and client processes (the built
 * bundle) keep a bounded RSS, and every byte arrives once the upstream reads again.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, connectTo, freePort, randomToken, rssOf, sleep, spawnInlets, tcpServer, tempDir, waitFor } from '../helpers/engine-harness.js';

afterEach(cleanupAll);

const MiB = 1024 * 1024;

describe('paused reader', () => {
  it('keeps server and client memory bounded while the upstream does not read', async () => {
    const token = randomToken();
    let upstreamSocket: Socket | undefined;
    const upstream = await tcpServer((s) => {
      s.pause();
      upstreamSocket = s;
    });
    const controlPort = await freePort();
    const publicPort = await freePort();
    const server = spawnInlets(['tcp', 'server', '--control-addr', '127.0.0.1', '--control-port', String(controlPort), '--data-addr', '127.0.0.1', '--state-dir', await tempDir(), '--token-env', 'T'], { T: token });
    await server.waitOutput(/TLS public key pin: sha256:[0-9a-f]{64}/);
    const pin = /(sha256:[0-9a-f]{64})/.exec(server.stdout())![1];
    const client = spawnInlets(['tcp', 'client', '--url', `wss://127.0.0.1:${controlPort}`, '--tls-pin', pin, '--token-env', 'T', '--upstream', `${publicPort}=127.0.0.1:${upstream.port}`], { T: token });
    await client.waitOutput(/serving public ports/);
    const before = { server: rssOf(server.pid), client: rssOf(client.pid) };

    // send until the tunnel stops taking data (no progress for 2 s), at most 1 GiB
    const pub = await connectTo(publicPort);
    const chunk = Buffer.alloc(MiB, 0x5a);
    const hash = createHash('sha256');
    let written = 0;
    let stalled = false;
    let peak = { server: 0, client: 0 };
    while (!stalled && written < 1024 * MiB) {
      hash.update(chunk);
      written += chunk.length;
      if (!pub.write(chunk)) {
        stalled = !(await Promise.race([new Promise((r) => pub.once('drain', () => r(true))), sleep(2000).then(() => false)]));
      }
      peak = { server: Math.max(peak.server, rssOf(server.pid)), client: Math.max(peak.client, rssOf(client.pid)) };
    }
    expect(stalled).toBe(true);
    await sleep(500);
    peak = { server: Math.max(peak.server, rssOf(server.pid)), client: Math.max(peak.client, rssOf(client.pid)) };
    // bounded: the kernel's socket buffers plus one stream window and the session bounds, far below what was offered
    expect(written).toBeLessThan(128 * MiB);
    expect(peak.server - before.server).toBeLessThan(64 * MiB);
    expect(peak.client - before.client).toBeLessThan(64 * MiB);

    // resume: every byte arrives, in order
    await waitFor(() => upstreamSocket !== undefined, 'the upstream connection');
    const got = createHash('sha256');
    let received = 0;
    upstreamSocket!.on('data', (d: Buffer) => {
      got.update(d);
      received += d.length;
    });
    upstreamSocket!.resume();
    pub.end();
    await waitFor(() => received === written, `all ${written} bytes at the upstream (have ${received})`, 60_000);
    expect(got.digest('hex')).toBe(hash.digest('hex'));
    console.log(`paused reader: ${written / MiB} MiB taken before the stall; RSS growth server ${((peak.server - before.server) / MiB).toFixed(1)} MiB, client ${((peak.client - before.client) / MiB).toFixed(1)} MiB`);
  }, 180_000);
});
