/**
 * The built CLI as a user or a CI script meets it: help, usage errors and exit codes, prompts off a
 * terminal, --json shapes, --dry-run, the state file, list with drift, delete by name / id / IP.
 * Uses the test-only fake provider (fixtures/fake-provider.ts), which boots real exit nodes on
 * loopback.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { INLETS, INLETSCTL, bundleFakeProvider, fakeCloud, fakeEvents, makeSandbox, requireBuild, root, runCli, stateRecords, type Sandbox } from './cli-harness.js';

let moduleDir: string;
let fakeModule: string;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  requireBuild();
  moduleDir = await mkdtemp(join(tmpdir(), 'inletsctl-fake-module-'));
  fakeModule = await bundleFakeProvider(moduleDir);
});
afterAll(async () => {
  await rm(moduleDir, { recursive: true, force: true });
});
afterEach(async () => {
  // Whatever a test left running at the fake is deleted through the CLI, then the sandbox goes.
  for (const sb of sandboxes.splice(0)) {
    for (const h of (await fakeCloud(sb.cloudDir)).hosts) await runCli(['delete', '--provider', 'fake', '--id', h.id, '--yes', '--poll', '200ms'], sb.env);
    await sb.cleanup();
  }
});

async function sandbox(env: NodeJS.ProcessEnv = {}): Promise<Sandbox> {
  const sb = await makeSandbox({ FAKE_CLOUD_TOKEN: 'fake-cloud-secret', ...env }, fakeModule);
  sandboxes.push(sb);
  return sb;
}

const noStack = (stderr: string) => expect(stderr).not.toMatch(/^\s+at /m);

describe('help and usage errors', () => {
  it('prints help listing every command, and examples on each command', async () => {
    const sb = await sandbox();
    const top = await runCli(['--help'], sb.env);
    expect(top.code).toBe(0);
    for (const c of ['create', 'delete', 'list', 'test', 'download', 'providers', 'version', 'completion']) expect(top.stdout).toContain(`inletsctl ${c}`);
    for (const c of ['create', 'delete', 'list', 'test', 'download', 'providers', 'version']) {
      const r = await runCli([c, '--help'], sb.env);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toContain('Examples:');
    }
  });

  it('exits 2 with one clear line and a hint for bad flags, and no stack unless --debug', async () => {
    const sb = await sandbox();
    const bad = await runCli(['create', '--bogus'], sb.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(`inletsctl: Unknown argument: bogus\nRun: ${INLETSCTL} create --help\n`);
    expect(bad.stdout).toBe('');

    const none = await runCli([], sb.env);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('inletsctl: choose a command');

    const port = await runCli(['create', '--provider', 'fake', '--ports', '80,99999', '--dry-run'], sb.env);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--ports "99999" is not a port number');
    noStack(port.stderr);

    const duration = await runCli(['create', '--provider', 'fake', '--timeout', 'soon', '--dry-run', '--debug'], sb.env);
    expect(duration.code).toBe(2);
    expect(duration.stderr).toContain('--timeout "soon" is not a duration');
    expect(duration.stderr).toMatch(/^\s+at /m); // --debug shows the stack
  });

  it('HTTPS-mode mistakes are usage errors (exit 2) before any API call', async () => {
    const sb = await sandbox();
    const cases: [string[], string][] = [
      [['--letsencrypt-domain', 'example.com', '--tcp'], '--tcp and --letsencrypt-domain choose different modes'],
      [['--letsencrypt-email', 'me@example.com'], '--letsencrypt-email belongs to HTTPS mode: add --letsencrypt-domain D'],
      [['--no-tcp'], '--no-tcp leaves no mode'],
      [['--letsencrypt-domain', 'not a domain'], '--letsencrypt-domain "not a domain" is not a DNS name'],
      [['--letsencrypt-domain', '*.example.com'], 'wildcard certificates need DNS-01'],
      [['--letsencrypt-domain', 'example.com', '--letsencrypt-email', 'nobody'], '--letsencrypt-email "nobody" is not an e-mail address'],
      [['--letsencrypt-domain', 'example.com', '--letsencrypt-url', 'https://acme.test/dir', '--letsencrypt-issuer', 'staging'], 'give one'],
      [['--letsencrypt-domain', 'example.com', '--letsencrypt-ca', '/nonexistent.pem', '--letsencrypt-url', 'https://acme.test/dir'], 'cannot read /nonexistent.pem'],
      [['--letsencrypt-domain', 'example.com', '--letsencrypt-ca', '/etc/hostname'], 'it needs --letsencrypt-url'],
      [['--letsencrypt-domain', 'example.com', '--http-port', '8123'], '--http-port 8123 is also the control port'],
      [['--letsencrypt-domain', 'example.com', '--https-port', '70000'], '--https-port "70000" is not a port number'],
      [['--letsencrypt-domain', 'example.com', '--letsencrypt-url', 'https://acme.test/dir;rm -rf'], 'is not an http(s) URL'],
    ];
    for (const [flags, message] of cases) {
      const r = await runCli(['create', '--provider', 'fake', ...flags], sb.env);
      expect(r.code, flags.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      noStack(r.stderr);
    }
    expect(await fakeEvents(sb.cloudDir)).toEqual([]);
  });

  it('HTTPS mode in a dry run: the http server unit with the domains, and 80/443 among the ports', async () => {
    const sb = await sandbox();
    const r = await runCli(['create', '--provider', 'fake', '--letsencrypt-domain', 'Blog.Example.com', '--letsencrypt-domain', 'api.example.com', '--letsencrypt-issuer', 'staging', '--dry-run', '--json'], sb.env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ mode: 'https', domains: ['blog.example.com', 'api.example.com'], httpPort: 80, httpsPort: 443 });
    expect(out.userData).toContain('http server --token-env INLETS_TOKEN');
    expect(out.userData).toContain('--letsencrypt-domain blog.example.com --letsencrypt-domain api.example.com --letsencrypt-issuer staging');
    expect(out.staged).toBeUndefined();
    const text = await runCli(['create', '--provider', 'fake', '--letsencrypt-domain', 'blog.example.com', '--http-port', '8080', '--dry-run'], sb.env);
    expect(text.stdout).toContain('ports:     control 8123, HTTP 8080, HTTPS 443');
    expect(await fakeEvents(sb.cloudDir)).toEqual([]);
  });

  it('never prompts off a terminal: it lists what is missing, calls nothing and writes nothing', async () => {
    const sb = await sandbox({ FAKE_CLOUD_TOKEN: '' });
    const r = await runCli(['create', '--provider', 'fake'], sb.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('missing fake credentials: --access-token, --access-token-file or $FAKE_CLOUD_TOKEN (any non-empty string)');
    expect(r.stderr).toContain('stdin is not a terminal');
    expect(await fakeEvents(sb.cloudDir)).toEqual([]);
    await expect(stat(sb.configDir)).rejects.toMatchObject({ code: 'ENOENT' });

    const del = await runCli(['delete', 'whatever'], sb.env);
    expect(del.code).toBe(2);
    expect(del.stderr).toContain('refusing to delete whatever without confirmation: stdin is not a terminal; add --yes');
  });

  it('reads the credential from a file, and names an unreadable file without its contents', async () => {
    const sb = await sandbox({ FAKE_CLOUD_TOKEN: '' });
    const r = await runCli(['create', '--provider', 'fake', '--access-token-file', join(sb.dir, 'absent'), '--json'], sb.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot read --access-token-file ${join(sb.dir, 'absent')} (ENOENT)`);
    // With --json the same error is the one object on stdout (issue 14).
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'CREDENTIAL_FILE', exitCode: 2 });
  });
});

describe('--dry-run', () => {
  it('prints the plan and user-data, calls no API and writes no state', async () => {
    const sb = await sandbox({ FAKE_CLOUD_TOKEN: '' }); // no credentials needed to look
    const text = await runCli(['create', 'dry-one', '--provider', 'fake', '--ports', '443,80', '--dry-run'], sb.env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Dry run: nothing was created');
    expect(text.stdout).toContain('name:      dry-one');
    expect(text.stdout).toContain('ports:     control 8123, data 80, 443');
    expect(text.stdout).toContain('#cloud-config');

    const json = await runCli(['create', '--provider', 'fake', '--dry-run', '--json', '--region', 'fake-2'], sb.env);
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.stdout);
    expect(plan).toMatchObject({ dryRun: true, provider: 'fake', region: 'fake-2', plan: 'tiny', image: 'debian-13', controlPort: 8123, ports: [], userDataLimitBytes: 65536 });
    expect(plan.name).toMatch(/^inlets-[a-z]+-[a-z]+-[0-9a-f]{4}$/);
    expect(plan.pin).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(plan.userData.startsWith('#cloud-config')).toBe(true);
    expect(plan.userDataBytes).toBe(Buffer.byteLength(plan.userData));

    expect(await fakeEvents(sb.cloudDir)).toEqual([]);
    await expect(stat(sb.configDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('providers, version, completion', () => {
  it('describes providers as a table and as JSON', async () => {
    const sb = await sandbox();
    const table = await runCli(['providers'], sb.env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^NAME\s+REGION\s+PLAN\s+IMAGE\s+\$\/MONTH\s+FIREWALL\s+CREDENTIALS/);
    expect(table.stdout).toMatch(/^local\s+loopback/m);
    expect(table.stdout).toMatch(/^digitalocean \(default\)\s+lon1/m);
    expect(table.stdout).toMatch(/^fake\s+fake-1\s+tiny\s+debian-13\s+0\s+optional \(--firewall\)\s+--access-token, --access-token-file, FAKE_CLOUD_TOKEN/m);
    const json = JSON.parse((await runCli(['providers', '--json'], sb.env)).stdout);
    expect(json.default).toBe('digitalocean');
    expect(json.providers[0].name).toBe('local');
    expect(json.providers.find((p: { name: string }) => p.name === 'fake')).toMatchObject({ defaults: { region: 'fake-1', monthlyUsd: 0 }, credentials: { env: ['FAKE_CLOUD_TOKEN'] } });
  });

  it('prints the version and a completion script', async () => {
    const sb = await sandbox();
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    const v = await runCli(['version', '--json'], sb.env);
    expect(JSON.parse(v.stdout)).toMatchObject({ version: pkg.version, node: process.versions.node });
    const c = await runCli(['completion'], sb.env);
    expect(c.code).toBe(0);
    expect(c.stdout).toContain('__complete --'); // details in completion.test.ts
    const words = await runCli(['__complete', '--', 'cr'], sb.env);
    expect(words.stdout).toContain('create');
  });
});

describe('create, list and delete with the fake provider', () => {
  it('creates a working tunnel and prints one JSON object; the state file is 0600 in a 0700 dir', async () => {
    const sb = await sandbox();
    const r = await runCli(['create', 'json-one', '--provider', 'fake', '--poll', '200ms', '--ports', '8080', '--json'], sb.env);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout); // exactly one JSON document, nothing else on stdout
    expect(out).toMatchObject({ name: 'json-one', provider: 'fake', region: 'fake-1', id: '1', controlPort: 8123, ports: [8080], deleteCommand: `${INLETSCTL} delete json-one --yes` });
    expect(out.ip).toMatch(/^127\.77\.\d+\.\d+$/);
    expect(out.token).toMatch(/^[0-9a-f]{64}$/);
    expect(out.pin).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(out.url).toBe(`wss://${out.ip}:8123`);
    expect(out.clientCommand).toBe(`${INLETS} tcp client --url wss://${out.ip}:8123 --token-env INLETS_TOKEN --tls-pin ${out.pin} --upstream 127.0.0.1 --port 8080`);
    for (const k of ['apiMs', 'activeMs', 'readyMs', 'totalMs']) expect(typeof out.timings[k]).toBe('number');
    // Progress went to stderr as plain timestamped lines (not a terminal), never the token.
    expect(r.stderr).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z Creating json-one at fake/m);
    expect(r.stderr).not.toContain(out.token);
    expect(r.stderr).not.toContain('fake-cloud-secret');

    expect((await stat(join(sb.configDir, 'tunnels.json'))).mode & 0o777).toBe(0o600);
    expect((await stat(sb.configDir)).mode & 0o777).toBe(0o700);
    const [rec] = await stateRecords(sb.configDir);
    expect(rec).toMatchObject({ name: 'json-one', provider: 'fake', status: 'ready', id: '1', ip: out.ip, token: out.token, pin: out.pin, options: { 'fake-flavour': 'plain' } });

    const list = JSON.parse((await runCli(['list', '--json'], sb.env)).stdout);
    expect(list.tunnels).toEqual([expect.objectContaining({ name: 'json-one', provider: 'fake', ip: out.ip, state: 'ready', cloud: 'active', drift: 'ok' })]);

    const taken = await runCli(['create', 'json-one', '--provider', 'fake'], sb.env);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain('a tunnel named "json-one" already exists');

    const del = await runCli(['delete', 'json-one', '--yes', '--json', '--poll', '200ms'], sb.env);
    expect(del.code, del.stderr).toBe(0);
    expect(JSON.parse(del.stdout)).toMatchObject({ deleted: true, name: 'json-one', provider: 'fake', id: '1', ip: out.ip });
    expect(await stateRecords(sb.configDir)).toEqual([]);
    expect((await fakeCloud(sb.cloudDir)).hosts).toEqual([]);
  });

  it('prints text for people: IP, token, pin, the client command with the token in the environment, the delete command', async () => {
    const sb = await sandbox();
    const r = await runCli(['create', 'text-one', '--provider', 'fake', '--poll', '200ms', '--firewall', '--fake-flavour', 'spicy'], sb.env);
    expect(r.code, r.stderr).toBe(0);
    const ip = /IP:\s+(\S+)/.exec(r.stdout)![1];
    const token = /Token:\s+([0-9a-f]{64})/.exec(r.stdout)![1];
    expect(r.stdout).toContain(`export INLETS_TOKEN=${token}\n`);
    expect(r.stdout).toContain(`${INLETS} tcp client --url wss://${ip}:8123 `);
    expect(r.stdout).toMatch(new RegExp(`tcp client --url wss://${ip.replace(/\./g, '\\.')}:8123 --token-env INLETS_TOKEN --tls-pin sha256:[0-9a-f]{64} --upstream 127\\.0\\.0\\.1 --port 8080`));
    expect(r.stdout).toContain(`${INLETSCTL} delete text-one\n`);
    expect(r.stdout).toMatch(/in [\d.]+ m?s: API .*, VM active .*, tunnel ready /);
    expect((await fakeCloud(sb.cloudDir)).firewalls).toEqual([expect.stringMatching(/^fw-text-one-[0-9a-f]{12}$/)]);
    expect((await stateRecords(sb.configDir))[0].options).toEqual({ 'fake-flavour': 'spicy' });

    const del = await runCli(['delete', 'text-one', '--yes', '--poll', '200ms'], sb.env);
    expect(del.code, del.stderr).toBe(0);
    expect(await fakeCloud(sb.cloudDir)).toMatchObject({ hosts: [], firewalls: [] });
  });

  it('marks drift both ways in list, and deletes by IP and by id through the provider', async () => {
    const sb = await sandbox();
    const r = await runCli(['create', 'drift-one', '--provider', 'fake', '--poll', '200ms', '--json'], sb.env);
    expect(r.code, r.stderr).toBe(0);
    const { ip } = JSON.parse(r.stdout);
    // Forget it in state, and record one the cloud never had.
    const statePath = join(sb.configDir, 'tunnels.json');
    const state = JSON.parse(await readFile(statePath, 'utf8'));
    state.tunnels = [{ ...state.tunnels[0], name: 'ghost', tunnelId: 'aaaaaaaaaaaa', id: '99', ip: '127.77.0.1' }];
    await writeFile(statePath, JSON.stringify(state));

    const list = JSON.parse((await runCli(['list', '--json', '--provider', 'fake'], sb.env)).stdout);
    expect(list.tunnels.map((t: { name: string; drift: string }) => `${t.name}:${t.drift}`)).toEqual(['ghost:missing', 'drift-one:untracked']);
    const text = await runCli(['list', '--provider', 'fake'], sb.env);
    expect(text.stdout).toMatch(/^ghost\s.*gone from provider\s+-$/m);
    expect(text.stdout).toMatch(/^drift-one\s.*not in state\s+-$/m);

    const notFound = await runCli(['delete', '--provider', 'fake', '--ip', '127.77.250.250', '--yes'], sb.env);
    expect(notFound.code).toBe(1);
    expect(notFound.stderr).toContain('no tunnel with IP 127.77.250.250 in state or at fake');

    const byIp = await runCli(['delete', '--provider', 'fake', '--ip', ip, '--yes', '--poll', '200ms'], sb.env);
    expect(byIp.code, byIp.stderr).toBe(0);
    expect((await fakeCloud(sb.cloudDir)).hosts).toEqual([]);

    // The ghost is only in state: deleting it by id asks the provider (nothing there) and forgets it.
    const byId = await runCli(['delete', '--id', '99', '--yes', '--poll', '200ms'], sb.env);
    expect(byId.code, byId.stderr).toBe(0);
    expect(await stateRecords(sb.configDir)).toEqual([]);
  });

  it('--test sends traffic through the new tunnel as the last step of create', async () => {
    const sb = await sandbox();
    const r = await runCli(['create', 'tested', '--provider', 'fake', '--poll', '200ms', '--test', '--json'], sb.env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.test).toMatchObject({ name: 'tested', checksumOk: true });
    expect(out.test.address).toMatch(new RegExp(`^${out.ip.replace(/\./g, '\\.')}:\\d+$`));
    expect(typeof out.timings.testMs).toBe('number');
    expect((await runCli(['delete', 'tested', '--yes', '--poll', '200ms'], sb.env)).code).toBe(0);
  });

  it('keeps a usable state when two creates run at once', async () => {
    const sb = await sandbox();
    const [a, b] = await Promise.all([
      runCli(['create', 'twin-a', '--provider', 'fake', '--poll', '200ms', '--json'], sb.env),
      runCli(['create', 'twin-b', '--provider', 'fake', '--poll', '200ms', '--json'], sb.env),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect((await stateRecords(sb.configDir)).map((t) => t.name).sort()).toEqual(['twin-a', 'twin-b']);
    for (const n of ['twin-a', 'twin-b']) expect((await runCli(['delete', n, '--yes', '--poll', '200ms'], sb.env)).code).toBe(0);
    expect(await stateRecords(sb.configDir)).toEqual([]);
  });
});
