/**
 * The staged start (templates/inlets-stage1.mjs, PROTOCOL.md §15) booted for real from rendered
 * 'https-staged' user-data, checked the way an attacker would: it serves nothing but the delivery
 * path, takes only the tunnel token, only the exact bytes whose SHA-256 the user-data pinned, and
 * nothing too big or too slow; the right bytes become the running http server, kept 0600.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootUserData, stopBootedNodeAndWait } from '../../src/boot/boot-user-data.js';
import { renderUserData } from '../../src/core/user-data/render.js';
import { stagedServer } from '../../src/core/user-data/exit-node-plan.js';
import { engineBundlePath, readEngineBundle } from '../../src/core/engine-bundle.js';
import { deliverServer } from '../../src/core/deliver-server.js';
import { generateSelfSigned } from '../../src/engine/tls/self-signed.js';
import { requestControl } from '../../src/engine/transport/control-request.js';
import { eventually, freePortOn, testLoopbackAddress } from './boot-helpers.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('staged start', () => {
  it('refuses everything but the pinned server with the token; then runs it', { timeout: 60_000 }, async () => {
    const address = testLoopbackAddress();
    const [controlPort, httpPort, httpsPort] = [await freePortOn(address), await freePortOn(address), await freePortOn(address)];
    const tls = generateSelfSigned({ commonName: 'staged-test' });
    const token = randomBytes(32).toString('hex');
    const userData = renderUserData({ mode: 'https-staged', https: { domains: ['staged.example.test'], url: 'https://127.0.0.1:9/dir', httpPort, httpsPort }, token, tls, controlPort, format: 'cloud-config', binary: true });
    const rootDir = mkdtempSync(join(tmpdir(), 'inlets-staged-'));
    cleanups.push(() => rmSync(rootDir, { recursive: true, force: true }));
    const node = await bootUserData(userData, { address, rootDir });
    cleanups.push(() => stopBootedNodeAndWait(node));
    const url = `https://${address}:${controlPort}`;
    const put = (body: Buffer, t: string | null = token) => requestControl({ url, path: '/server', method: 'PUT', body, token: t ?? undefined, trust: { pin: tls.pin }, timeoutMs: 10_000 });

    const waiting = await eventually(() => requestControl({ url, path: '/status', token, trust: { pin: tls.pin }, timeoutMs: 3000 }));
    expect(waiting.status).toBe(503);
    expect(waiting.body).toContain('waiting for inletsctl to deliver the server');

    const server = stagedServer(readEngineBundle(engineBundlePath('http'))).bytes;
    expect((await put(server, null)).status).toBe(401);
    expect((await put(server, 'f'.repeat(64))).status).toBe(401);
    expect((await put(server, `${token}x`)).status).toBe(401);
    const tampered = Buffer.from(server);
    tampered[100] ^= 1;
    expect((await put(tampered)).status).toBe(422);
    expect((await put(Buffer.alloc(0))).status).toBe(413);
    // A declared size over the bound is refused before any body is read.
    const big = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: address, port: controlPort, rejectUnauthorized: false }, () => s.write(`PUT /server HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${2 << 20}\r\n\r\n`));
      let got = '';
      s.on('data', (d) => (got += d)).on('close', () => resolve(got)).on('error', reject);
    });
    expect(big).toMatch(/^HTTP\/1\.1 413/);
    // A connection that sends nothing is closed by the head limit (5 s), not held.
    const t0 = Date.now(); // the head limit is 5 s, silence 10 s
    await new Promise<void>((resolve, reject) => {
      const s = tlsConnect({ host: address, port: controlPort, rejectUnauthorized: false });
      s.on('close', () => resolve()).on('error', () => undefined).resume();
      setTimeout(() => reject(new Error('an idle connection was held past 15 s')), 15_000).unref();
    });
    expect(Date.now() - t0).toBeLessThan(8_000);

    // The right bytes, delivered as create delivers them.
    await deliverServer({ ip: address, controlPort, token, pin: tls.pin, bytes: server, timeoutMs: 20_000 });
    const status = await eventually(async () => {
      const r = await requestControl({ url, path: '/status', token, trust: { pin: tls.pin }, timeoutMs: 3000 });
      if (r.status !== 200) throw new Error(`status ${r.status}`);
      return JSON.parse(r.body);
    });
    expect(status).toMatchObject({ mode: 'http', certificates: [expect.objectContaining({ domain: 'staged.example.test' })] });
    const kept = join(node.rootDir, 'var/lib/inlets/inlets-server.mjs.br');
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    // Delivering again is harmless: the server answers that path itself.
    await deliverServer({ ip: address, controlPort, token, pin: tls.pin, bytes: server, timeoutMs: 5_000 });
  });
});
