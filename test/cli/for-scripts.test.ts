/**
 * inletsctl as a CI script meets it (issue 14): with --json every failure is one JSON object on
 * stdout with the documented exit code, and the commands create prints run as printed.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { INLETSCTL, bundleFakeProvider, fakeCloud, makeSandbox, requireBuild, runCli, stateRecords, type Sandbox } from './cli-harness.js';

const sh = promisify(execFile);
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
  for (const sb of sandboxes.splice(0)) {
    const env = { ...sb.env, FAKE_CLOUD_FAULTS: '' };
    for (const h of (await fakeCloud(sb.cloudDir)).hosts) await runCli(['delete', '--provider', 'fake', '--id', h.id, '--yes', '--poll', '200ms'], env);
    await sb.cleanup();
  }
});

async function sandbox(faults = ''): Promise<Sandbox> {
  const sb = await makeSandbox({ FAKE_CLOUD_TOKEN: 'fake-cloud-secret', FAKE_CLOUD_FAULTS: faults }, fakeModule);
  sandboxes.push(sb);
  return sb;
}

/** stdout parsed as `jq` would: exactly one JSON value. */
function jq(stdout: string): Record<string, any> {
  expect(stdout.trim()).not.toBe('');
  return JSON.parse(stdout);
}

describe('--json failures are one JSON object on stdout', () => {
  it('a usage error: code, message, exit code 2 (same as the process), nothing else on stdout', async () => {
    const sb = await sandbox();
    for (const args of [['create', '--provider', 'fake', '--bogus', '--json'], ['list', '--json', '--nope'], ['delete', '--json'], ['test', '--json', '--timeout', '30'], ['providers', '--json', '--x']]) {
      const r = await runCli(args, sb.env);
      expect(r.code, args.join(' ')).toBe(2);
      const { error } = jq(r.stdout);
      expect(error).toMatchObject({ code: expect.any(String), message: expect.any(String), exitCode: 2 });
      expect(r.stderr).toContain(`inletsctl: ${error.message}`);
    }
  });

  it('a run-time failure (exit 1) says the tunnel is gone, or kept with the delete command that runs as printed', async () => {
    const sb = await sandbox('never-active');
    const gone = await runCli(['create', 'ci-gone', '--provider', 'fake', '--poll', '200ms', '--timeout', '1s', '--json'], sb.env);
    expect(gone.code).toBe(1);
    expect(jq(gone.stdout)).toMatchObject({ error: { code: 'TIMEOUT', exitCode: 1 }, tunnel: { name: 'ci-gone', kept: false } });

    const kept = await runCli(['create', 'ci-kept', '--provider', 'fake', '--poll', '200ms', '--timeout', '1s', '--keep-on-failure', '--json'], sb.env);
    expect(kept.code).toBe(1);
    const out = jq(kept.stdout);
    expect(out).toMatchObject({ error: { code: 'TIMEOUT', exitCode: 1 }, tunnel: { name: 'ci-kept', kept: true, status: 'failed', deleteCommand: `${INLETSCTL} delete ci-kept --yes` } });
    expect(kept.stdout).not.toContain('f'.repeat(8)); // no token in the error object
    await sh('sh', ['-c', `${out.tunnel.deleteCommand} --poll 200ms`], { env: { ...sb.env, FAKE_CLOUD_FAULTS: '' } });
    expect(await stateRecords(sb.configDir)).toEqual([]);
    expect((await fakeCloud(sb.cloudDir)).hosts).toEqual([]);
  });

  it('an unknown tunnel and an unknown command too', async () => {
    const sb = await sandbox();
    const r = await runCli(['delete', 'nothing-here', '--yes', '--json'], sb.env);
    expect(jq(r.stdout).error).toMatchObject({ code: 'NOT_IN_STATE', exitCode: 2 });
    const unknown = await runCli(['frobnicate', '--json'], sb.env);
    expect(unknown.code).toBe(2);
    expect(jq(unknown.stdout).error).toMatchObject({ code: 'USAGE', message: expect.stringContaining('unknown command "frobnicate"') });
  });
});

describe('durations and ports name the flag and the value (exit 2)', () => {
  it('test --timeout 30s is a duration; -5s, 10 and a port range are refused by name', async () => {
    const sb = await sandbox();
    const ok = await runCli(['test', '--timeout', '30s', '--json'], sb.env);
    expect(jq(ok.stdout).error.code).toBe('NO_TUNNELS'); // parsed fine; there is just nothing to test
    const cases: [string[], string][] = [
      [['test', '--timeout', '-5s'], '--timeout "-5s" is not a duration'],
      [['create', '--provider', 'fake', '--timeout', '10', '--dry-run'], '--timeout "10" needs a unit: for example 10s or 10m'],
      [['create', '--provider', 'fake', '--ports', '80-90', '--dry-run'], '--ports "80-90" is not a port number from 1 to 65535 (ranges are not taken'],
    ];
    for (const [args, message] of cases) {
      const r = await runCli([...args, '--json'], sb.env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(jq(r.stdout).error.message).toContain(message);
    }
  });
});

describe('delete by --id with no state record', () => {
  // An API that answers 503 may answer later (retried with progress); one that refuses connections
  // will not (v2: fails at once, see usage-errors.test.ts).
  it('shows progress while the provider answers 503, then times out naming why', async () => {
    const sb = await sandbox();
    const busy = await busyApi();
    try {
      const r = await runCli(['delete', '--id', '999', '--provider', 'digitalocean', '--api-url', busy.url, '--yes', '--timeout', '2s', '--poll', '200ms'], { ...sb.env, DIGITALOCEAN_TOKEN: 'do-secret' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Looking for id 999 at digitalocean.*: .*next check in/);
      expect(r.stderr).toContain('gave up waiting for digitalocean to look up id 999');
      expect(r.stderr).not.toContain('do-secret');
      expect(busy.requests()).toBeGreaterThan(1);
    } finally {
      await busy.close();
    }
  });
});

/** An http:// URL on loopback whose every answer is 503 (a cloud API that is down for now). */
async function busyApi(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  const { createServer } = await import('node:http');
  let count = 0;
  const server = createServer((req, res) => {
    count++;
    req.resume();
    res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'service_unavailable', message: 'try again' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => count,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe('printed commands run as printed', () => {
  it('the JSON deleteCommand has --yes and deletes off a terminal', async () => {
    const sb = await sandbox();
    const r = await runCli(['create', 'ci-ok', '--provider', 'fake', '--poll', '200ms', '--json'], sb.env);
    expect(r.code, r.stderr).toBe(0);
    const out = jq(r.stdout);
    expect(out.deleteCommand).toBe(`${INLETSCTL} delete ci-ok --yes`);
    // `inletsctl` is not on this PATH: the printed command is how this process was started.
    expect(out.deleteCommand).toMatch(/bin\/inletsctl\.mjs delete/);
    expect(out.clientCommand).toMatch(/dist\/inlets\.mjs tcp client /);
    await sh('sh', ['-c', `${out.deleteCommand} --poll 200ms`], { env: sb.env });
    expect(await stateRecords(sb.configDir)).toEqual([]);
  });
});
