/**
 * `inletsctl create --provider azure` end to end, the way a user with a service principal runs it:
 * the built CLI in a subprocess, `--access-token-file` holding `az ad sp create-for-rbac` output,
 * the ARM fake over https with a throw-away CA (NODE_EXTRA_CA_CERTS), and the token from a fake
 * Entra ID endpoint ($AZURE_AUTHORITY_HOST; instance discovery off for a non-Microsoft authority).
 * This is the SDKs' unmodified pipeline: bearer tokens over TLS only.
 *
 * Nothing leaves loopback: besides pointing every endpoint at a fake, HTTPS_PROXY names a dead
 * loopback port with NO_PROXY=127.0.0.1, so any other request the SDKs tried would fail on the spot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeSandbox, stateRecords, type CliResult, type Sandbox } from '../cli/cli-harness.js';
import { AzureFake, FAKE_SUBSCRIPTION } from '../fakes/azure-fake.js';
import { AzureLoginFake } from '../fakes/azure-login-fake.js';
import { makeTestCa, type TestCa } from '../fakes/azure-test-ca.js';
import { leftovers } from '../fakes/index.js';
import { snapshotBuild, type BuildSnapshot } from './build-snapshot.js';
import { checkTraffic, cliUser, parseCreated } from './contract-helpers.js';
import { azureProvider } from '../../providers/azure/index.js';
import { killedCreateDeletedByNewProcess } from '../helpers/v2-cli-checks.js';

const TENANT = '72f988bf-0000-4000-8000-00000000beef';
const APP_ID = '1f2e3d4c-0000-4000-8000-0000000000a1';
const SECRET = 'Sp~secret.that-must-never-be-printed';
const ISSUED = 'eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tIn0.fake';
const FLAGS = ['--poll', '100ms', '--timeout', '60s'];

let build: BuildSnapshot;
let ca: TestCa;
beforeAll(async () => {
  build = await snapshotBuild();
  ca = makeTestCa();
});
afterAll(async () => {
  await build?.cleanup();
  ca?.cleanup();
});

interface World {
  fake: AzureFake;
  login: AzureLoginFake;
  sandbox: Sandbox;
  spFile: string;
  run(args: string[]): Promise<CliResult>;
  close(): Promise<void>;
}

async function world(secret = SECRET): Promise<World> {
  const fake = new AzureFake({ tls: ca, acceptToken: ISSUED });
  const login = new AzureLoginFake(ca, { tenantId: TENANT, clientId: APP_ID, clientSecret: SECRET, accessToken: ISSUED });
  await Promise.all([fake.start(), login.start()]);
  const sandbox = await makeSandbox({
    NODE_EXTRA_CA_CERTS: ca.caFile,
    AZURE_AUTHORITY_HOST: login.url,
    AZURE_SUBSCRIPTION_ID: FAKE_SUBSCRIPTION,
    HTTPS_PROXY: 'http://127.0.0.1:9',
    NO_PROXY: '127.0.0.1',
    INLETSCTL_API_TIMEOUT_MS: '5000',
  });
  const spFile = join(sandbox.dir, 'sp.json');
  await writeFile(spFile, JSON.stringify({ appId: APP_ID, displayName: 'inletsctl-test', password: secret, tenant: TENANT }, null, 2));
  await chmod(spFile, 0o600);
  const run = (args: string[]) =>
    new Promise<CliResult>((resolve) => {
      const child = spawn(process.execPath, [build.bin, ...args, '--provider', 'azure', '--api-url', fake.url, '--access-token-file', spFile], { env: sandbox.env, stdio: ['ignore', 'pipe', 'pipe'], cwd: build.root });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
  return {
    fake,
    login,
    sandbox,
    spFile,
    run,
    close: async () => {
      await Promise.all([fake.close(), login.close()]);
      await sandbox.cleanup();
    },
  };
}

describe('inletsctl with --provider azure over https', () => {
  it('creates with a service principal, carries traffic, lists and deletes, leaving nothing', { timeout: 180_000 }, async () => {
    const w = await world();
    try {
      const created = await w.run(['create', 'az-cli-https', '--ports', '9300', '--json', ...FLAGS]);
      expect(created.code, created.stderr).toBe(0);
      const info = parseCreated(created);
      expect(info).toMatchObject({ name: 'az-cli-https', id: expect.stringMatching(/^inletsctl-az-cli-https-[0-9a-f]{12}$/), ip: expect.stringMatching(/^127\.0\.\d+\.\d+$/) });
      await checkTraffic(build, info, 9300);

      const listed = await w.run(['list', '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout).tunnels).toContainEqual(expect.objectContaining({ name: 'az-cli-https', ip: info.ip, drift: 'ok' }));

      const deleted = await w.run(['delete', 'az-cli-https', '--yes', ...FLAGS]);
      expect(deleted.code, deleted.stderr).toBe(0);
      expect(leftovers(w.fake)).toEqual({});
      expect(await stateRecords(w.sandbox.configDir)).toEqual([]);

      for (const r of [created, listed, deleted]) expect(r.stdout + r.stderr).not.toContain(SECRET);
      expect(w.login.issued).toBeGreaterThanOrEqual(3); // one token per CLI process
      expect(w.login.refused).toBe(0);
      expect(w.login.mismatches).toEqual([]);
      expect(w.fake.log.some((e) => e.op === 'Subscriptions_List')).toBe(false); // $AZURE_SUBSCRIPTION_ID
      expect(w.fake.mismatches).toEqual([]);
      expect(w.fake.problems).toEqual([]);
    } finally {
      await w.close();
    }
  });

  it('reports a refused client secret as an authentication failure, makes nothing, and never prints the secret', { timeout: 120_000 }, async () => {
    const wrong = 'Wrong~secret-also-never-printed';
    const w = await world(wrong);
    try {
      const r = await w.run(['create', 'az-cli-refused', '--json', ...FLAGS]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('AADSTS7000215');
      expect(r.stderr + r.stdout).not.toContain(wrong);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(w.login.refused).toBeGreaterThan(0);
      expect(w.fake.log.filter((e) => e.method === 'PUT')).toEqual([]);
      expect(leftovers(w.fake)).toEqual({});
    } finally {
      await w.close();
    }
  });

  it('a create killed right after the deployment PUT is deleted by a new process, from its state record and the tags', { timeout: 120_000 }, async () => {
    const fake = new AzureFake({ boot: false });
    await fake.start();
    const user = await cliUser(build, azureProvider.description, fake, { AZURE_SUBSCRIPTION_ID: FAKE_SUBSCRIPTION });
    try {
      await killedCreateDeletedByNewProcess(user, fake, 'Deployments_CreateOrUpdate', 'az-killed');
      expect(fake.mismatches).toEqual([]);
      expect(fake.problems).toEqual([]);
    } finally {
      await user.cleanup();
      await fake.close();
    }
  });
});
