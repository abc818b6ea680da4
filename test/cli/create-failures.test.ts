/**
 * `create` when things go wrong: API errors, a VM that never becomes active or fails, a tunnel that
 * never answers, and SIGINT / SIGTERM in each phase. Every case must end with nothing left at the
 * (fake) provider and nothing in state, a non-zero exit and a clear message; or, with
 * --keep-on-failure, with the tunnel kept and the delete command printed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { INLETSCTL, bundleFakeProvider, fakeCloud, fakeEvents, makeSandbox, requireBuild, runCli, startCli, stateRecords, waitForEvent, type Sandbox } from './cli-harness.js';

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
    // A failed assertion may leave hosts behind: remove them without faults before the next test.
    const env = { ...sb.env, FAKE_CLOUD_FAULTS: '' };
    for (const h of (await fakeCloud(sb.cloudDir)).hosts) await runCli(['delete', '--provider', 'fake', '--id', h.id, '--yes', '--poll', '200ms'], env);
    await sb.cleanup();
  }
});

async function sandbox(faults: string, env: NodeJS.ProcessEnv = {}): Promise<Sandbox> {
  const sb = await makeSandbox({ FAKE_CLOUD_TOKEN: 'fake-cloud-secret', FAKE_CLOUD_FAULTS: faults, ...env }, fakeModule);
  sandboxes.push(sb);
  return sb;
}

const TOKEN = 'f'.repeat(64);
const base = (name: string, poll = '200ms') => ['create', name, '--provider', 'fake', '--poll', poll, '--inlets-token', TOKEN];

async function expectNothingLeft(sb: Sandbox): Promise<void> {
  expect(await fakeCloud(sb.cloudDir)).toMatchObject({ hosts: [], firewalls: [] });
  expect(await stateRecords(sb.configDir)).toEqual([]);
}

function expectNoSecrets(text: string): void {
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain('fake-cloud-secret');
}

describe('create cleans up after failures', () => {
  it('an API error before anything exists: exit 1, nothing left', async () => {
    const sb = await sandbox('create-refused');
    const r = await runCli([...base('refused'), '--firewall'], sb.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('inletsctl: create failed while creating the VM: fake: 400 the plan is unknown. Everything it created has been deleted.');
    expect(r.stdout).toBe('');
    expectNoSecrets(r.stderr);
    await expectNothingLeft(sb);
    // It asked the provider to delete by name even though no id came back.
    expect(await fakeEvents(sb.cloudDir)).toContain('delete');
  });

  it('a 500 after the VM was made (no id returned): the VM is found by name and deleted', async () => {
    const sb = await sandbox('create-fails-after');
    const r = await runCli([...base('half-made'), '--firewall'], sb.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('create failed while creating the VM: fake: 500 internal error. Everything it created has been deleted.');
    expectNoSecrets(r.stderr);
    await expectNothingLeft(sb);
  });

  it('a 429 on create is retried after Retry-After and the tunnel works', async () => {
    const sb = await sandbox('rate-limit-once');
    const r = await runCli([...base('patient'), '--json'], sb.env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'patient', id: '1' });
    expect((await fakeEvents(sb.cloudDir)).filter((e) => e === 'create-start')).toHaveLength(2);
    expect((await runCli(['delete', 'patient', '--yes', '--poll', '200ms'], sb.env)).code).toBe(0);
    await expectNothingLeft(sb);
  });

  it('a 404 from the status API right after create is waited out', async () => {
    const sb = await sandbox('status-404-once');
    const r = await runCli([...base('eventual'), '--json'], sb.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('not visible in the API yet');
    expect(await fakeEvents(sb.cloudDir)).toContain('status:404');
    expect((await runCli(['delete', 'eventual', '--yes', '--poll', '200ms'], sb.env)).code).toBe(0);
    await expectNothingLeft(sb);
  });

  it('a VM that never becomes active: the wait times out (never reports success) and the VM is deleted', async () => {
    const sb = await sandbox('never-active');
    const r = await runCli([...base('sleepy'), '--timeout', '2s'], sb.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/create failed while waiting for the VM to become active: gave up waiting for the VM to become active after 2\.0 s \(last: status fake-provisioning, no IP yet\)\. Everything it created has been deleted\./);
    await expectNothingLeft(sb);
  });

  it('a VM the cloud reports as failed: no waiting for the timeout, and it is deleted', async () => {
    const sb = await sandbox('vm-error');
    const r = await runCli([...base('broken'), '--timeout', '5m'], sb.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the VM failed to start (fake-error)');
    await expectNothingLeft(sb);
  });

  it('a tunnel server that never answers: readiness times out, cleanup waits through pending deletes', async () => {
    const sb = await sandbox('no-boot,delete-pending');
    const r = await runCli([...base('silent'), '--timeout', '3s'], sb.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/create failed while waiting for the tunnel server to answer: gave up waiting for the tunnel server at https:\/\/127\.77\.\d+\.\d+:8123 to answer after [\d.]+ s \(last: CONNECT_FAILED/);
    expect(r.stderr).toContain('Everything it created has been deleted.');
    expect((await fakeEvents(sb.cloudDir)).filter((e) => e === 'delete').length).toBeGreaterThanOrEqual(3);
    expectNoSecrets(r.stderr);
    await expectNothingLeft(sb);
  });

  it('--keep-on-failure keeps the VM and the record, and says how to delete it', async () => {
    const sb = await sandbox('never-active');
    const r = await runCli([...base('kept'), '--timeout', '1s', '--keep-on-failure'], sb.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Kept because of --keep-on-failure; delete it with: ${INLETSCTL} delete kept`);
    expect((await fakeCloud(sb.cloudDir)).hosts.map((h) => h.name)).toEqual(['kept']);
    expect(await stateRecords(sb.configDir)).toEqual([expect.objectContaining({ name: 'kept', status: 'failed', id: '1' })]);
    const del = await runCli(['delete', 'kept', '--yes', '--poll', '200ms'], { ...sb.env, FAKE_CLOUD_FAULTS: '' });
    expect(del.code, del.stderr).toBe(0);
    await expectNothingLeft(sb);
  });
});

describe('create cleans up when interrupted', () => {
  const cases: { phase: string; faults: string; waitFor: string; signal: NodeJS.Signals; message: RegExp }[] = [
    { phase: 'the API call', faults: 'slow-create', waitFor: 'create-slow', signal: 'SIGINT', message: /create failed while creating the VM: interrupted by SIGINT/ },
    { phase: 'waiting for active', faults: 'never-active', waitFor: 'status:provisioning', signal: 'SIGINT', message: /create failed while waiting for the VM to become active: interrupted by SIGINT/ },
    { phase: 'waiting for readiness', faults: 'no-boot', waitFor: 'status:active', signal: 'SIGINT', message: /create failed while waiting for the tunnel server to answer: interrupted by SIGINT/ },
    { phase: 'waiting for readiness (SIGTERM)', faults: 'no-boot', waitFor: 'status:active', signal: 'SIGTERM', message: /interrupted by SIGTERM/ },
  ];
  for (const c of cases) {
    it(`${c.signal} during ${c.phase}: exit 130, nothing left`, async () => {
      // A slow create gives the test time to send the signal while the call is in flight, even on a loaded machine.
      const sb = await sandbox(c.faults, { FAKE_CLOUD_SLOW_MS: '4000' });
      const child = startCli([...base('interrupted'), '--timeout', '5m', '--firewall'], sb.env);
      await waitForEvent(sb.cloudDir, c.waitFor);
      child.kill(c.signal);
      const r = await child.done;
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(c.message);
      expect(r.stderr).toContain('Everything it created has been deleted.');
      // The user pressed Ctrl-C: --debug would teach nothing (issue 14, item 10).
      expect(r.stderr).not.toContain('--debug');
      expectNoSecrets(r.stderr);
      await expectNothingLeft(sb);
    });
  }
});

describe('an interrupt during cleanup', () => {
  it('a second signal stops cleaning up, keeps the record as failed and prints the delete command', async () => {
    const sb = await sandbox('never-active,delete-pending');
    // --poll 2s keeps the clean-up (two 'pending' answers) open for seconds: time for the second signal.
    const child = startCli([...base('twice', '2s'), '--timeout', '5m'], sb.env);
    await waitForEvent(sb.cloudDir, 'status:provisioning');
    child.kill('SIGINT');
    await waitForEvent(sb.cloudDir, 'delete');
    child.kill('SIGINT');
    const r = await child.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain(`Cleaning up failed too (clean-up interrupted by SIGINT); the tunnel is kept in state: delete it with: ${INLETSCTL} delete twice`);
    expect(await stateRecords(sb.configDir)).toEqual([expect.objectContaining({ name: 'twice', status: 'failed' })]);
    // The printed command finishes the job.
    const del = await runCli(['delete', 'twice', '--yes', '--poll', '200ms'], sb.env);
    expect(del.code, del.stderr).toBe(0);
    await expectNothingLeft(sb);
  });
});

describe('clean-up is bounded and interruptible', () => {
  it('a first SIGTERM during clean-up (after a failure that was no signal) stops it, keeping the record failed', async () => {
    const sb = await sandbox('never-active,delete-pending');
    const child = startCli([...base('stopped', '2s'), '--timeout', '1s'], sb.env);
    await waitForEvent(sb.cloudDir, 'delete');
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const r = await child.done;
    clearTimeout(killer);
    expect(r.signal, 'still running 10 s after SIGTERM').toBeNull();
    expect(r.stderr).toContain('clean-up interrupted by SIGTERM');
    expect(r.stderr).toContain(`delete it with: ${INLETSCTL} delete stopped`);
    expect(await stateRecords(sb.configDir)).toEqual([expect.objectContaining({ name: 'stopped', status: 'failed' })]);
    const del = await runCli(['delete', 'stopped', '--yes', '--poll', '200ms'], { ...sb.env, FAKE_CLOUD_FAULTS: '' });
    expect(del.code, del.stderr).toBe(0);
    await expectNothingLeft(sb);
  });

  it('--cleanup-timeout ends a clean-up that does not finish, keeping the record failed', async () => {
    const sb = await sandbox('never-active,delete-pending');
    const r = await runCli([...base('slow-clean', '2s'), '--timeout', '1s', '--cleanup-timeout', '1s'], sb.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Deleting everything created for slow-clean \(tunnel id [0-9a-f]{12}; at most 1\.0 s/);
    expect(r.stderr).toMatch(/Cleaning up failed too \(gave up waiting for "slow-clean" to be deleted after 1\.0 s/);
    expect(await stateRecords(sb.configDir)).toEqual([expect.objectContaining({ name: 'slow-clean', status: 'failed' })]);
    const del = await runCli(['delete', 'slow-clean', '--yes', '--poll', '200ms'], { ...sb.env, FAKE_CLOUD_FAULTS: '' });
    expect(del.code, del.stderr).toBe(0);
    await expectNothingLeft(sb);
  });

  it('create refuses a name the provider has (from another state file): exit 2, state unchanged, the host survives', async () => {
    const first = await sandbox('');
    const made = await runCli([...base('taken'), '--json'], first.env);
    expect(made.code, made.stderr).toBe(0);
    const other = await sandbox('', { FAKE_CLOUD_DIR: first.cloudDir });
    const r = await runCli(base('taken'), other.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/fake already has a host named "taken" made by inletsctl \(id 1, /);
    expect(await stateRecords(other.configDir)).toEqual([]);
    expect((await fakeCloud(first.cloudDir)).hosts.map((h) => h.name)).toEqual(['taken']);
    expect((await runCli(['delete', 'taken', '--yes', '--poll', '200ms'], first.env)).code).toBe(0);
    await expectNothingLeft(first);
  });
});
