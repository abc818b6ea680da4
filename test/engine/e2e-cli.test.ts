/** The bundled CLI (dist/inlets.mjs) as a user runs it: exit codes, messages, systemd units, status. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, controlGet, connectTo, echoUpstream, freePort, randomToken, readAll, spawnInlets, tempDir, type InletsProcess } from '../helpers/engine-harness.js';

afterEach(cleanupAll);

/** Starts `inlets tcp server` on free ports; resolves once it printed its pin. */
async function cliServer(token: string, extra: string[] = []) {
  const controlPort = await freePort();
  const stateDir = await tempDir();
  const p = spawnInlets(['tcp', 'server', '--control-addr', '127.0.0.1', '--control-port', String(controlPort), '--data-addr', '127.0.0.1', '--state-dir', stateDir, '--token-env', 'T', ...extra], { T: token });
  await p.waitOutput(/TLS public key pin: sha256:[0-9a-f]{64}/);
  const pin = /TLS public key pin: (sha256:[0-9a-f]{64})/.exec(p.stdout())![1];
  return { p, pin, url: `wss://127.0.0.1:${controlPort}`, controlPort, stateDir };
}

async function exitOf(p: InletsProcess) {
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

describe('inlets CLI', () => {
  let token: string;
  beforeAll(() => {
    token = randomToken();
  });

  it('prints help and version', async () => {
    const help = await exitOf(spawnInlets(['--help']));
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/inlets tcp server/);
    for (const cmd of [['tcp', 'server'], ['tcp', 'client'], ['status']]) {
      const r = await exitOf(spawnInlets([...cmd, '--help']));
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: inlets /);
    }
    const v = await exitOf(spawnInlets(['version']));
    expect(v.stdout).toMatch(/^inlets \d+\.\d+\.\d+/);
  });

  it('exits 2 with "inlets: <message>" on usage errors, http mode\'s among them', async () => {
    for (const [args, msg] of [
      [['tcp', 'server', '--bogus'], /Unknown option '--bogus'/],
      [['tcp'], /expected "server" or "client"/],
      [['frobnicate'], /unknown command/],
      [['http', 'server', '--letsencrypt-domain', 'not a domain'], /--letsencrypt-domain: "not a domain" is not a DNS name/],
      [['http', 'server', '--letsencrypt-email', 'me@example.com'], /--letsencrypt-email needs --letsencrypt-domain/],
      [['http', 'server', '--letsencrypt-domain', 'a.example.com', '--letsencrypt-issuer', 'beta'], /not prod or staging/],
      // The same shapes as create's (they may end up in a unit's ExecStart): no `;`, quotes or `$`.
      [['http', 'server', '--letsencrypt-domain', 'a.example.com', '--letsencrypt-email', 'me;x@example.com'], /--letsencrypt-email: "me;x@example.com" is not an e-mail address/],
      [['http', 'server', '--letsencrypt-domain', 'a.example.com', '--letsencrypt-url', 'https://ca.test/$(id)'], /--letsencrypt-url: .* is not an http\(s\) URL/],
      [['http', 'client', '--url', 'wss://127.0.0.1:1', '--upstream', 'blog.example.com=ftp://x'], /is not http:\/\/HOST/],
      [['http', 'client', '--url', 'wss://127.0.0.1:1'], /no upstream/],
      [['http', 'server', '--http-max-head', '0'], /--http-max-head: "0" is not a number of KiB \(1-1024\)/],
      [['http', 'client', '--url', 'wss://127.0.0.1:1', '--upstream', 'http://127.0.0.1:3000', '--host-header', 'a b'], /--host-header: "a b" is not "rewrite" or a HOST\[:PORT\]/],
      [['tcp', 'client', '--upstream', '127.0.0.1', '--ports', '70000', '--url', 'wss://127.0.0.1:1'], /--ports: "70000" is not a port/],
      [['tcp', 'client', '--upstream', '127.0.0.1', '--port', '80'], /--url is required/],
      [['tcp', 'server', '--allow-ports', '10-5', '--token-env', 'T'], /range "10-5" ends before it starts/],
    ] as const) {
      const r = await exitOf(spawnInlets([...args], { T: token }));
      expect(r.code, String(args)).toBe(2);
      expect(r.stderr).toMatch(/^inlets: /m);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('refuses an empty token, on the server and on the client', async () => {
    const srv = await exitOf(spawnInlets(['tcp', 'server', '--control-port', '0', '--disable-tls', '--token-env', 'T'], { T: '' }));
    expect(srv.code).toBe(2);
    expect(srv.stderr).toMatch(/^inlets: the token is empty/m);
    const cli = await exitOf(spawnInlets(['tcp', 'client', '--url', 'wss://127.0.0.1:1', '--upstream', '127.0.0.1', '--port', '80', '--token-env', 'T'], { T: '' }));
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/^inlets: the token is empty/m);
  });

  it('warns that --token is visible in the process list', async () => {
    const r = spawnInlets(['tcp', 'server', '--control-addr', '127.0.0.1', '--control-port', '0', '--disable-tls', '--token', 'visible-token']);
    await r.waitOutput(/control plane listening/);
    expect(r.stderr()).toMatch(/--token is visible .* process list/);
    expect(r.stderr()).not.toContain('visible-token');
    expect(await r.kill('SIGTERM')).toBe(0);
  });

  it('--generate systemd prints units without the token, for server and client', async () => {
    const s = await exitOf(spawnInlets(['tcp', 'server', '--token', token, '--allow-ports', '2222', '--generate', 'systemd']));
    expect(s.code).toBe(0);
    expect(s.stdout).not.toContain(token);
    expect(s.stdout).toMatch(/^ExecStart=\S+ \S+inlets\.mjs tcp server --allow-ports 2222 --token-env INLETS_TOKEN$/m);
    expect(s.stdout).toContain('EnvironmentFile=/etc/default/inlets-tcp-server');
    expect(s.stdout).toContain('Restart=always');
    const c = await exitOf(spawnInlets(['tcp', 'client', '--url', 'wss://203.0.113.1:8123', '--token-env', 'T', '--tls-pin', `sha256:${'a'.repeat(64)}`, '--upstream', '2222=127.0.0.1:22', '--generate', 'systemd'], { T: token }));
    expect(c.code).toBe(0);
    expect(c.stdout).not.toContain(token);
    expect(c.stdout).toMatch(/^ExecStart=.* tcp client .*--url wss:\/\/203\.0\.113\.1:8123 .*--upstream 2222=127\.0\.0\.1:22 .*--token-env INLETS_TOKEN$/m);
    expect(c.stdout).toContain('EnvironmentFile=/etc/default/inlets-tcp-client');
  });

  it('a client with a wrong token exits 1 with a clear message and does not retry', async () => {
    const srv = await cliServer(token);
    const c = spawnInlets(['tcp', 'client', '--url', srv.url, '--tls-pin', srv.pin, '--token-env', 'T', '--upstream', '127.0.0.1', '--port', String(await freePort())], { T: 'wrong' });
    const r = await exitOf(c);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^inlets: .*refused the token \(401/m);
    expect(r.stderr).not.toMatch(/reconnecting/);
    // exactly one attempt reached the server
    const m = await controlGet(srv.controlPort, '/metrics', token);
    expect(m.body).toMatch(/^inlets_auth_failures_total 1$/m);
    expect(srv.p.stderr()).not.toMatch(/client .* connected/);
  });

  it('a client with the wrong pin exits 1 naming both keys', async () => {
    const srv = await cliServer(token);
    const wrong = `sha256:${'1'.repeat(64)}`;
    const r = await exitOf(spawnInlets(['tcp', 'client', '--url', srv.url, '--tls-pin', wrong, '--token-env', 'T', '--upstream', '127.0.0.1', '--port', '2222'], { T: token }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(srv.pin);
    expect(r.stderr).toContain(wrong);
    expect(r.stderr).toMatch(/not sending the token/);
  });

  it('a client refused every port by --allow-ports exits 1 with the reason', async () => {
    const srv = await cliServer(token, ['--allow-ports', '1-1023']);
    const r = await exitOf(spawnInlets(['tcp', 'client', '--url', srv.url, '--tls-pin', srv.pin, '--token-env', 'T', '--upstream', '127.0.0.1', '--port', '40000'], { T: token }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^inlets: the server refused every port: 40000: port 40000 is outside the server's --allow-ports/m);
  });

  it('tunnels with the CLI and shows the client in `inlets status`, which needs the token', async () => {
    const srv = await cliServer(token);
    const up = await echoUpstream();
    const publicPort = await freePort();
    const c = spawnInlets(['tcp', 'client', '--url', srv.url, '--tls-pin', srv.pin, '--token-env', 'T', '--client-id', 'my-laptop', '--upstream', `${publicPort}=127.0.0.1:${up.port}`], { T: token });
    await c.waitOutput(/serving public ports/);
    const s = await connectTo(publicPort);
    const back = readAll(s);
    s.end('ping');
    expect((await back).toString()).toBe('ping');

    const table = await exitOf(spawnInlets(['status', '--url', srv.url, '--tls-pin', srv.pin, '--token-env', 'T'], { T: token }));
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^inlets \S+ \(tcp\) on /);
    expect(table.stdout).toMatch(/^CLIENT\s+REMOTE ADDRESS\s+CONNECTED\s+PORTS$/m);
    expect(table.stdout).toMatch(new RegExp(`^my-laptop\\s+127\\.0\\.0\\.1:\\d+\\s+\\S+( \\S+)? ago\\s+${publicPort}$`, 'm'));
    const json = await exitOf(spawnInlets(['status', '--url', srv.url, '--tls-pin', srv.pin, '--token-env', 'T', '--json'], { T: token }));
    expect(JSON.parse(json.stdout).clients[0]).toMatchObject({ id: 'my-laptop', ports: [publicPort] });
    const denied = await exitOf(spawnInlets(['status', '--url', srv.url, '--tls-pin', srv.pin, '--token-env', 'T'], { T: 'nope' }));
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^inlets: the server refused the token/m);
    expect(await c.kill('SIGTERM')).toBe(0);
  });

  it('stops gracefully on SIGTERM', async () => {
    const srv = await cliServer(token);
    expect(await srv.p.kill('SIGTERM')).toBe(0);
    expect(srv.p.stderr()).toMatch(/stopping/);
  });
});
