/**
 * `create --ttl` and `inletsctl prune` (issue 14): expired tunnels are deleted from state and from
 * the providers state names (hosts with an expired mark that state lost too), unexpired ones stay;
 * `--dry-run` deletes nothing; off a terminal `--yes` is required. On the local provider and on the
 * DigitalOcean fake (real exit nodes on loopback).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DigitalOceanFake } from '../fakes/digitalocean-fake.js';
import { makeSandbox, requireBuild, runCli, stateRecords, type Sandbox } from './cli-harness.js';

const sandboxes: Sandbox[] = [];
beforeAll(() => requireBuild());
afterEach(async () => {
  for (const sb of sandboxes.splice(0)) {
    for (const r of await stateRecords(sb.configDir)) await runCli(['delete', r.name, '--yes', '--poll', '200ms'], sb.env, 120_000);
    await sb.cleanup();
  }
});

async function sandbox(env: NodeJS.ProcessEnv = {}): Promise<Sandbox> {
  const sb = await makeSandbox(env);
  sandboxes.push(sb);
  return sb;
}

const json = (stdout: string) => JSON.parse(stdout);

/** Forgets a tunnel in the state file only (a CI job whose state went with its runner). */
async function forget(sb: Sandbox, name: string): Promise<void> {
  const path = join(sb.configDir, 'tunnels.json');
  const state = JSON.parse(await readFile(path, 'utf8'));
  state.tunnels = state.tunnels.filter((t: { name: string }) => t.name !== name);
  await writeFile(path, JSON.stringify(state));
}

async function pruneFlow(sb: Sandbox, provider: string[], hostNames: () => Promise<string[]>): Promise<void> {
  const create = (name: string, ...extra: string[]) => runCli(['create', name, ...provider, '--poll', '200ms', '--json', ...extra], sb.env, 120_000);
  const kept = await create('keep', '--ttl', '1h');
  expect(kept.code, kept.stderr).toBe(0);
  expect(Date.parse(json(kept.stdout).expiresAt) - Date.now()).toBeGreaterThan(50 * 60_000);
  for (const name of ['old', 'lost']) {
    const r = await create(name, '--ttl', '1ms'); // expired by the time create returns
    expect(r.code, r.stderr).toBe(0);
  }
  await forget(sb, 'lost');
  const list = json((await runCli(['list', '--json'], sb.env)).stdout);
  expect(list.tunnels.find((t: { name: string }) => t.name === 'lost')).toMatchObject({ drift: 'untracked', expiresAt: expect.any(String) });

  const refused = await runCli(['prune', '--json'], sb.env);
  expect(refused.code).toBe(2);
  expect(json(refused.stdout).error.code).toBe('CONFIRMATION_REQUIRED');

  const dry = await runCli(['prune', '--dry-run', '--json'], sb.env);
  expect(dry.code, dry.stderr).toBe(0);
  expect(json(dry.stdout).wouldDelete.map((c: { name: string; from: string }) => `${c.name}:${c.from}`).sort()).toEqual(['lost:provider', 'old:state']);
  expect((await hostNames()).sort()).toEqual(['keep', 'lost', 'old']);

  const pruned = await runCli(['prune', '--yes', '--json', '--poll', '200ms'], sb.env, 120_000);
  expect(pruned.code, pruned.stderr).toBe(0);
  expect(json(pruned.stdout).deleted.map((c: { name: string }) => c.name).sort()).toEqual(['lost', 'old']);
  expect((await stateRecords(sb.configDir)).map((r) => r.name)).toEqual(['keep']);
  expect(await hostNames()).toEqual(['keep']);

  const again = await runCli(['prune', '--yes'], sb.env);
  expect(again.stdout).toBe('No expired tunnels.\n');
}

describe('prune', () => {
  it('on the local provider', async () => {
    const sb = await sandbox();
    const hosts = async () => json((await runCli(['list', '--provider', 'local', '--json'], sb.env)).stdout).tunnels.map((t: { name: string }) => t.name);
    await pruneFlow(sb, ['--provider', 'local'], hosts);
  });

  describe('on the DigitalOcean fake', () => {
    let fake: DigitalOceanFake;
    beforeAll(async () => {
      fake = new DigitalOceanFake({});
      await fake.start();
    });
    afterAll(async () => {
      expect(fake.mismatches).toEqual([]);
      await fake.close();
    });

    it('deletes the expired droplets, tracked or not, and keeps the other', async () => {
      const sb = await sandbox({ DIGITALOCEAN_TOKEN: 'dop_v1_fake', DIGITALOCEAN_API_URL: fake.url });
      const hosts = async () => json((await runCli(['list', '--provider', 'digitalocean', '--json'], sb.env)).stdout).tunnels.map((t: { name: string }) => t.name);
      await pruneFlow(sb, ['--provider', 'digitalocean'], hosts);
      expect(fake.holdings()).toMatchObject({ droplets: 1, running: 1 });
    });
  });
});
