/**
 * `inlets http server` as the exit node runs it (dist/inlets-server-http.mjs) with Let's Encrypt
 * against Debian's pebble, `inlets http client` and `inlets status` from dist/inlets.mjs: a
 * request over HTTPS verified by curl against pebble's root, and the certificate in status.
 */
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, cleanupAll, freePort, randomToken, spawnInlets, tempDir, testIdentity, track, waitFor } from '../helpers/engine-harness.js';
import { describingUpstream } from '../helpers/http-upstream.js';
import { startPebble } from '../helpers/pebble.js';

afterEach(cleanupAll);

const DOMAIN = 'app.example.test';

describe('inlets http server and client (CLI)', () => {
  it('the exit node build gets a certificate from pebble and serves a request through the client; status shows it; --renew-before forces renewal', async () => {
    const [httpPort, tlsPort, controlPort] = [await freePort(), await freePort(), await freePort()];
    const pebble = await startPebble(httpPort);
    const dir = await tempDir();
    const id = testIdentity();
    for (const [f, text] of [['ca.pem', pebble.ca], ['tls.crt', id.certPem], ['tls.key', id.keyPem]]) writeFileSync(join(dir, f), text, { mode: 0o600 });
    const token = randomToken();
    const server = spawn(process.execPath, [join(ROOT, 'dist/inlets-server-http.mjs'), 'http', 'server', '--token-env', 'T', '--control-addr', '127.0.0.1', '--control-port', String(controlPort), '--data-addr', '127.0.0.1', '--port', String(httpPort), '--tls-port', String(tlsPort), '--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--state-dir', join(dir, 'state'), '--letsencrypt-domain', DOMAIN, '--letsencrypt-url', pebble.directoryUrl, '--letsencrypt-ca', join(dir, 'ca.pem'), '--renew-before', '3650'], { env: { T: token, PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    server.stderr!.on('data', (d) => (log += d));
    track(() => new Promise<void>((r) => (server.exitCode !== null ? r() : (server.once('exit', () => r()), server.kill()))));
    const up = await describingUpstream('app');
    const url = `wss://127.0.0.1:${controlPort}`;
    const client = spawnInlets(['http', 'client', '--url', url, '--token-env', 'T', '--tls-pin', id.pin, '--upstream', `${DOMAIN}=http://127.0.0.1:${up.port}`], { T: token });
    track(() => client.kill());
    await client.waitOutput(/serving hosts app\.example\.test/);
    await waitFor(() => /certificate for app\.example\.test issued/.test(log), `the certificate (server log:\n${log})`, 60_000, 100);
    const rootFile = join(dir, 'root.pem');
    writeFileSync(rootFile, await pebble.rootCaPem());
    const body = await new Promise<string>((resolve, reject) =>
      execFile('curl', ['-sS', '--cacert', rootFile, '--resolve', `${DOMAIN}:${tlsPort}:127.0.0.1`, `https://${DOMAIN}:${tlsPort}/hello`], { timeout: 15_000 }, (e, out) => (e ? reject(e) : resolve(out))),
    );
    expect(JSON.parse(body)).toMatchObject({ name: 'app', url: '/hello', headers: { host: `${DOMAIN}:${tlsPort}`, 'x-forwarded-proto': 'https' } });
    const status = spawnInlets(['status', '--url', url, '--token-env', 'T', '--tls-pin', id.pin], { T: token });
    expect(await status.exited).toBe(0);
    expect(status.stdout()).toMatch(/inlets .* \(http\)/);
    expect(status.stdout()).toMatch(/hosts: app\.example\.test → /);
    expect(status.stdout()).toMatch(/certificate app\.example\.test: issued, expires \d{4}-\S+, renews from \d{4}-/);
    // A 10-year window on pebble's 5-year certificates: renewed (10 s after the first), without a restart.
    await waitFor(() => (log.match(/certificate for app\.example\.test issued/g) ?? []).length >= 2, `a renewal (server log:\n${log})`, 60_000, 200);
    expect(log).toMatch(/renewal window is longer than its life/);
    expect(server.exitCode).toBeNull();
    expect(log).not.toContain(token);
  });
});
