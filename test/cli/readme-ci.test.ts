/**
 * README's "In CI scripts" block, run as printed by bash against the DigitalOcean fake (real exit
 * nodes on loopback): `inletsctl` and `inlets` on PATH as an npm install puts them, real `jq` and
 * `curl`. The success path sends a request through the tunnel and deletes it; the failure path
 * (a run id that cannot name a tunnel) reads the `--json` error object and fails the job.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DigitalOceanFake } from '../fakes/digitalocean-fake.js';
import { makeSandbox, requireBuild, root, runCli, stateRecords, type Sandbox } from './cli-harness.js';

const readme = readFileSync(join(root, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('### In CI scripts'));
const block = /```sh\n([\s\S]*?)```/.exec(section)![1];

let fake: DigitalOceanFake;
let sb: Sandbox;
let service: Server;
let port: number;

beforeAll(async () => {
  requireBuild();
  fake = new DigitalOceanFake({});
  await fake.start();
  service = createServer((_req, res) => res.end('hello from the CI service\n'));
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  port = (service.address() as { port: number }).port;
  sb = await makeSandbox({ DIGITALOCEAN_TOKEN: 'dop_v1_ci-fake', DIGITALOCEAN_API_URL: fake.url, PORT: String(port) });
  // As `npm install -g` would: the two programs on PATH under their short names.
  const binDir = join(sb.dir, 'bin');
  await mkdir(binDir);
  await symlink(join(root, 'bin', 'inletsctl.mjs'), join(binDir, 'inletsctl'));
  await symlink(join(root, 'dist', 'inlets.mjs'), join(binDir, 'inlets'));
  sb.env.PATH = `${binDir}:${sb.env.PATH}`;
});
afterAll(async () => {
  for (const r of await stateRecords(sb.configDir)) await runCli(['delete', r.name, '--yes', '--poll', '200ms'], sb.env, 120_000);
  expect(fake.mismatches).toEqual([]);
  await fake.close();
  await new Promise((r) => service.close(r));
  await sb.cleanup();
});

function bash(runId: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', block], { env: { ...sb.env, GITHUB_RUN_ID: runId }, timeout: 180_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

describe("README's CI example, as printed", () => {
  it('the block is the one documented (create --json, jq, the client, delete)', () => {
    expect(block).toContain('inletsctl create "ci-$GITHUB_RUN_ID" --provider digitalocean');
    expect(block).toContain('jq -r .deleteCommand');
  });

  it('succeeds: traffic through the tunnel, then everything deleted', async () => {
    const r = await bash('4242');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^hello from the CI service\nDeleted ci-4242 \(digitalocean, 127\.[\d.]+\) and everything created with it\.\n$/);
    expect(await stateRecords(sb.configDir)).toEqual([]);
    expect(fake.holdings()).toMatchObject({ droplets: 0, running: 0 });
  });

  it('fails the job with the error message from the --json error object', async () => {
    const r = await bash('BAD_ID');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('create failed: invalid tunnel name "ci-BAD_ID"');
    expect(fake.holdings()).toMatchObject({ droplets: 0 });
  });
});
