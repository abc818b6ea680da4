/**
 * HTTPS mode through the real CLI on the `local` provider, with Debian's pebble as the ACME CA:
 * `create --letsencrypt-domain` → the printed DNS record is created (in pebble's DNS) → the node
 * gets its certificate → the printed `inlets http client` command serves the domain → curl, with
 * pebble's root, gets an answer over HTTPS and a redirect over HTTP → `inletsctl test` → delete.
 */
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { requestControl } from '../../src/engine/transport/control-request.js';
import { cleanupAll, freePort, tempDir, track, waitFor } from '../helpers/engine-harness.js';
import { describingUpstream } from '../helpers/http-upstream.js';
import { startPebble } from '../helpers/pebble.js';
import { INLETS, makeSandbox, requireBuild, runCli, stateRecords } from './cli-harness.js';

afterEach(cleanupAll);

const DOMAIN = 'blog.inlets-local.test';

const curl = (args: string[]) =>
  new Promise<string>((resolve, reject) => execFile('curl', ['-sS', '--max-time', '15', ...args], { timeout: 20_000 }, (e, out, err) => (e ? reject(new Error(`${e.message}\n${err}`)) : resolve(out))));

describe('local provider: HTTPS mode through the CLI against pebble', () => {
  it('create prints the DNS record and http client command; the certificate is issued; HTTPS works; test and delete', async () => {
    requireBuild();
    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    const pebble = await startPebble(httpPort);
    const dir = await tempDir();
    const caFile = join(dir, 'acme-ca.pem');
    writeFileSync(caFile, pebble.ca);
    const sb = await makeSandbox();
    track(async () => {
      for (const t of await stateRecords(sb.configDir)) await runCli(['delete', t.name, '--yes', '--poll', '200ms'], sb.env);
      await sb.cleanup();
    });

    const created = await runCli(
      ['create', 'blog', '--provider', 'local', '--letsencrypt-domain', DOMAIN.toUpperCase(), '--letsencrypt-url', pebble.directoryUrl, '--letsencrypt-ca', caFile, '--http-port', String(httpPort), '--https-port', String(httpsPort), '--poll', '200ms', '--json'],
      sb.env,
      120_000,
    );
    expect(created.code, created.stderr).toBe(0);
    const out = JSON.parse(created.stdout);
    expect(out).toMatchObject({ name: 'blog', provider: 'local', mode: 'https', domains: [DOMAIN], httpPort, httpsPort });
    expect(out.dnsRecords).toEqual([{ type: 'A', name: DOMAIN, value: out.ip }]);
    // No DNS record points at the node yet: its certificate cannot be issued.
    expect(out.certificates).toEqual([expect.objectContaining({ domain: DOMAIN })]);
    expect(out.certificates[0].state).not.toBe('issued');
    expect(out.clientCommand).toMatch(new RegExp(`^${INLETS.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} http client --url wss://${out.ip}:8123 --token-env INLETS_TOKEN --tls-pin sha256:[0-9a-f]{64} --upstream ${DOMAIN}=http://127\\.0\\.0\\.1:8080$`));
    expect(created.stdout + created.stderr).not.toContain(pebble.ca.slice(30, 90));

    // Before the certificate: inletsctl test carries HTTP through the node and reports the domain waiting.
    const early = await runCli(['test', 'blog', '--json', '--transfer-mb', '1', '--pings', '3'], sb.env, 120_000);
    expect(early.code, early.stderr).toBe(0);
    const earlyReport = JSON.parse(early.stdout);
    expect(earlyReport).toMatchObject({ name: 'blog', mode: 'https', port: httpPort, checksumOk: true });
    expect(earlyReport.domains).toEqual([expect.objectContaining({ domain: DOMAIN })]);
    expect(earlyReport.domains[0].https).toBeUndefined();

    // The user creates the printed record; the node's next attempt gets the certificate.
    await pebble.addA(DOMAIN, out.ip);
    const status = async () => JSON.parse((await requestControl({ url: `https://${out.ip}:8123`, path: '/status', token: out.token, trust: { pin: out.pin }, timeoutMs: 5000 })).body);
    let last: unknown;
    await waitFor(async () => ((last = (await status()).certificates), (last as { state: string }[])[0]?.state === 'issued'), `the certificate (last status ${JSON.stringify(last)})`, 150_000, 1000);

    // The printed client command, pointed at a real upstream.
    const up = await describingUpstream('blog');
    const command = out.clientCommand.replace(`${DOMAIN}=http://127.0.0.1:8080`, `${DOMAIN}=http://127.0.0.1:${up.port}`);
    let log = '';
    const client = spawn('sh', ['-c', `exec ${command}`], { env: { ...sb.env, INLETS_TOKEN: out.token }, stdio: ['ignore', 'pipe', 'pipe'] });
    client.stdout!.on('data', (d) => (log += d));
    client.stderr!.on('data', (d) => (log += d));
    track(() => new Promise<void>((r) => (client.exitCode !== null ? r() : (client.once('exit', () => r()), client.kill()))));
    await waitFor(() => log.includes(`serving hosts ${DOMAIN}`), `the client to connect (log: ${log})`, 30_000, 100);

    const rootFile = join(dir, 'root.pem');
    writeFileSync(rootFile, await pebble.rootCaPem());
    const body = JSON.parse(await curl(['--cacert', rootFile, '--resolve', `${DOMAIN}:${httpsPort}:${out.ip}`, `https://${DOMAIN}:${httpsPort}/hello?x=1`]));
    expect(body).toMatchObject({ name: 'blog', method: 'GET', url: '/hello?x=1' });
    expect(body.headers).toMatchObject({ host: `${DOMAIN}:${httpsPort}`, 'x-forwarded-proto': 'https' });
    const redirect = await curl(['-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '--resolve', `${DOMAIN}:${httpPort}:${out.ip}`, `http://${DOMAIN}:${httpPort}/page`]);
    expect(redirect).toBe(`308 https://${DOMAIN}:${httpsPort}/page`);

    // inletsctl test now verifies HTTPS too; without pebble's root it says why it cannot.
    const test = await runCli(['test', 'blog', '--json', '--transfer-mb', '1', '--pings', '3', '--cacert', rootFile], sb.env, 120_000);
    expect(test.code, test.stderr).toBe(0);
    expect(JSON.parse(test.stdout).domains).toEqual([expect.objectContaining({ domain: DOMAIN, state: 'issued', https: expect.objectContaining({ ok: true }) })]);
    const untrusted = await runCli(['test', 'blog', '--transfer-mb', '1', '--pings', '3'], sb.env, 120_000);
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toContain(`HTTPS to ${DOMAIN}`);
    expect(untrusted.stderr).toContain('--cacert');
    expect(untrusted.stderr).not.toContain(out.token);
    const wrongPort = await runCli(['test', 'blog', '--port', '9000'], sb.env);
    expect(wrongPort.code).toBe(2);

    const del = await runCli(['delete', 'blog', '--yes', '--json', '--poll', '200ms'], sb.env, 120_000);
    expect(del.code, del.stderr).toBe(0);
    expect(await stateRecords(sb.configDir)).toEqual([]);
    await expect(curl(['--cacert', rootFile, '--resolve', `${DOMAIN}:${httpsPort}:${out.ip}`, `https://${DOMAIN}:${httpsPort}/`])).rejects.toThrow();
  }, 300_000);
});
