// The user's path with the local provider, all through the built CLI:
// `create --provider local --tcp --test` → `test` → `delete --yes`, with a throw-away config dir.
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateStore } from '../../src/core/state-store.js';
import { cleanEnv, runCli } from '../download/stage-package.js';

let dir: string;
let env: NodeJS.ProcessEnv;
let created: { name: string; ip: string; controlPort: number; token: string } | undefined;

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.setTimeout(5_000, () => (s.destroy(), resolve(false)));
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inletsctl-local-e2e-'));
  env = cleanEnv({ XDG_CONFIG_HOME: join(dir, 'config'), HOME: dir });
});
afterAll(async () => {
  // Whatever happened above, leave no exit node running.
  if (created) await runCli(['delete', created.name, '--yes'], { env, cwd: dir, timeoutMs: 120_000 });
  await rm(dir, { recursive: true, force: true });
}, 180_000);

describe('inletsctl create --test, test, delete with the local provider', () => {
  it('creates a working exit node, proves traffic flows twice, then removes it', async () => {
    const c = await runCli(['create', 'e2e-test', '--provider', 'local', '--tcp', '--test', '--json'], { env, cwd: dir, timeoutMs: 180_000 });
    expect(c.stderr).not.toMatch(/^inletsctl: /m);
    expect(c.code).toBe(0);
    const out = JSON.parse(c.stdout);
    created = out;
    expect(out.name).toBe('e2e-test');
    expect(out.test).toMatchObject({ name: 'e2e-test', checksumOk: true });
    expect(out.test.roundTrip.p50Ms).toBeGreaterThan(0);
    expect(out.test.throughput.mbPerSec).toBeGreaterThan(0);

    const t = await runCli(['test', '--json', '--pings', '10', '--transfer-mb', '4'], { env, cwd: dir, timeoutMs: 180_000 });
    expect(t.stderr).not.toMatch(/^inletsctl: /m);
    expect(t.code).toBe(0);
    const report = JSON.parse(t.stdout);
    expect(report).toMatchObject({ name: 'e2e-test', checksumOk: true, roundTrip: { samples: 10 }, throughput: { bytes: 4 * 1024 * 1024 } });
    expect(report.address.startsWith(`${out.ip}:`)).toBe(true);
    expect(report.throughput.mbPerSec).toBeGreaterThan(0);
    expect(t.stdout + t.stderr).not.toContain(out.token);
    expect(await reachable(out.ip, out.controlPort)).toBe(true);

    const d = await runCli(['delete', 'e2e-test', '--yes'], { env, cwd: dir, timeoutMs: 120_000 });
    expect(d.stderr).not.toMatch(/^inletsctl: /m);
    expect(d.code).toBe(0);
    created = undefined;
    expect(await new StateStore(join(dir, 'config', 'inletsctl')).list()).toEqual([]);
    expect(await reachable(out.ip, out.controlPort)).toBe(false);

    // With the node gone, the test command fails clearly.
    const after = await runCli(['test', 'e2e-test'], { env, cwd: dir });
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('no tunnel named "e2e-test"');
  }, 400_000);
});
