/**
 * The provider contract suite, as a module: {@link defineContractSuite} defines it for one provider,
 * and each provider with a fake has a test file of its own (test/providers/contract-NAME.test.ts),
 * so vitest's workers run the providers in parallel. It drives the real, built CLI
 * (`node bin/inletsctl.mjs`, after `npm run build`) in subprocesses against the fake:
 *
 * 1. create three tunnels → active → ready → TCP traffic through them with the engine client →
 *    `list` shows them → delete one by name, one by id, one by IP (from a state file that does not
 *    know it) → the fake holds nothing, and every exchange matched the cloud's spec;
 * 2. the fault matrix: each API call the provider makes fails once (429, 500, a hang, a dropped
 *    connection), calls that make resources also lose their answers after taking effect, an
 *    instance never becomes active, and SIGINT arrives in each phase of create. Every case must end
 *    with a working tunnel (then deleted) or with nothing left behind, and a clear message;
 * 3. the v2 identity cases (contract-identity-cases.ts): names are not identities.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providers } from '../../providers/index.js';
import type { ProviderDescription } from '../../src/core/provider.js';
import { FAULT_KINDS, type Fault, type FakeCloudServer } from '../fakes/fake-cloud-server.js';
import { fakeFor, leftovers, type FakeEntry, type FakeStartOptions } from '../fakes/index.js';
import { snapshotBuild, type BuildSnapshot } from './build-snapshot.js';
import { checkTraffic, cliUser, createArgs, limiter, parseCreated, until, type CliUser } from './contract-helpers.js';
import { defineIdentityCases } from './contract-identity-cases.js';

const CASE_TIMEOUT_MS = 180_000;
/** Cases at once: each runs a CLI, an exit node and an engine client on a shared 2-core machine. */
const oneAtATime = limiter(Number(process.env.CONTRACT_CONCURRENCY ?? 3));
const DELETE_FLAGS = ['--yes', '--poll', '100ms', '--timeout', '60s'];

let build: BuildSnapshot;

/** Starts a fake and a CLI user, runs `body`, then checks the fake is clean and closes everything. */
async function withFake(entry: FakeEntry, description: ProviderDescription, options: FakeStartOptions, body: (fake: FakeCloudServer, user: CliUser) => Promise<void>): Promise<void> {
  await oneAtATime(async () => {
    const fake = await entry.start({ activeAfterPolls: 2, ...options });
    const user = await cliUser(build, description, fake, entry.cliEnv);
    try {
      await body(fake, user);
      expect(leftovers(fake), 'what the fake still holds').toEqual({});
      expect(await user.records(), 'state records').toEqual([]);
      expect(fake.mismatches, 'spec mismatches').toEqual([]);
      expect(fake.problems, 'fake problems').toEqual([]);
    } finally {
      await user.cleanup();
      await fake.close();
    }
  });
}

/** A failed create must say what failed and that everything was deleted, without a stack trace. */
function expectCleanFailure(stderr: string): void {
  expect(stderr).toMatch(/create failed while [^:]+: .+Everything it created has been deleted\./s);
  expect(stderr).not.toMatch(/^\s+at /m);
}


/** Defines the whole contract suite for `providerName`, which must have a fake in test/fakes/index.ts. */
export function defineContractSuite(providerName: string): void {
  const module = providers.find((m) => m.description.name === providerName);
  const entry = fakeFor(providerName);
  if (!module || !entry) throw new Error(`no provider "${providerName}" with a fake: see providers/index.ts and test/fakes/index.ts`);
  const description = module.description;
  beforeAll(async () => {
    build = await snapshotBuild();
  });
  afterAll(async () => {
    await build?.cleanup();
  });
  describe.concurrent(`contract: ${providerName}`, () => {
    defineBasicCases(description, entry);
    defineIdentityCases({ description, entry, build: () => build, withFake, expectCleanFailure, caseTimeoutMs: CASE_TIMEOUT_MS, deleteFlags: DELETE_FLAGS });
  });
}

function defineBasicCases(description: ProviderDescription, entry: FakeEntry): void {
  it('create → ready → traffic → list → delete by name, by id and by IP → nothing left', { timeout: CASE_TIMEOUT_MS }, async () => {
    await withFake(entry, description, { maxPerPage: 1, foreign: 2 }, async (fake, user) => {
      const names = ['ct-by-name', 'ct-by-id', 'ct-by-ip'];
      const created = [];
      for (const [i, name] of names.entries()) {
        const r = await user.run(createArgs(name, { port: 9000 + i, firewall: i === 0 }));
        expect(r.code, r.stderr).toBe(0);
        created.push(parseCreated(r));
      }
      expect(new Set(created.map((c) => c.ip)).size).toBe(3);
      await Promise.all([checkTraffic(build, created[0], 9000), checkTraffic(build, created[2], 9002)]);

      const listed = await user.run(['list', '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      const rows = (JSON.parse(listed.stdout) as { tunnels: Array<{ name: string; ip?: string; drift: string }> }).tunnels;
      for (const c of created) expect(rows).toContainEqual(expect.objectContaining({ name: c.name, ip: c.ip, drift: 'ok' }));

      const byName = await user.run(['delete', 'ct-by-name', ...DELETE_FLAGS]);
      expect(byName.code, byName.stderr).toBe(0);
      const byId = await user.run(['delete', '--id', created[1].id, ...DELETE_FLAGS]);
      expect(byId.code, byId.stderr).toBe(0);
      // A user whose state knows nothing finds the tunnel through the provider's list.
      const stranger = await cliUser(build, description, fake, entry.cliEnv);
      try {
        const byIp = await stranger.run(['delete', '--ip', created[2].ip, ...DELETE_FLAGS]);
        expect(byIp.code, byIp.stderr).toBe(0);
      } finally {
        await stranger.cleanup();
      }
      const drift = JSON.parse((await user.run(['list', '--json'])).stdout) as { tunnels: Array<{ name: string; drift: string }> };
      expect(drift.tunnels).toEqual([expect.objectContaining({ name: 'ct-by-ip', drift: 'missing' })]);
      const forget = await user.run(['delete', 'ct-by-ip', ...DELETE_FLAGS]);
      expect(forget.code, forget.stderr).toBe(0);

      // The fault matrix below fails each operation the provider uses: it must know them all.
      const used = [...new Set(fake.log.map((e) => e.op))];
      expect(entry.operations).toEqual(expect.arrayContaining(used));
    });
  });

  const faults: Array<{ title: string; fault: Fault }> = [
    ...entry.operations.flatMap((op) => FAULT_KINDS.map((kind) => ({ title: `${op} fails once: ${kind}`, fault: { op, kind } as Fault }))),
    ...entry.creatingOps.flatMap((op) =>
      (['drop', 'hang'] as const).map((kind) => ({ title: `${op} takes effect but its answer is lost: ${kind}`, fault: { op, kind, after: true } as Fault })),
    ),
  ];
  for (const [index, { title, fault }] of faults.entries()) {
    it(title, { timeout: CASE_TIMEOUT_MS }, async () => {
      await withFake(entry, description, {}, async (fake, user) => {
        fake.inject(fault);
        const name = `fm-${index}`;
        const r = await user.run(createArgs(name, { port: 9100, firewall: true }));
        if (r.code === 0) {
          await checkTraffic(build, parseCreated(r), 9100);
          const d = await user.run(['delete', name, ...DELETE_FLAGS]);
          expect(d.code, d.stderr).toBe(0);
        } else {
          expectCleanFailure(r.stderr);
        }
        expect(fake.pendingFaults(), 'the fault was never hit').toEqual([]);
      });
    });
  }

  it('an instance that never becomes active: create times out and deletes it', { timeout: CASE_TIMEOUT_MS }, async () => {
    await withFake(entry, description, {}, async (fake, user) => {
      fake.neverActive();
      const r = await user.run(createArgs('fm-never', { port: 9100, timeout: '3s' }));
      expect(r.code).not.toBe(0);
      expectCleanFailure(r.stderr);
      expect(r.stderr).toMatch(/gave up waiting for the VM to become active/);
    });
  });

  const interrupts: Array<{ phase: string; options?: FakeStartOptions; arm: (fake: FakeCloudServer, name: string) => void; reached: (fake: FakeCloudServer, stderr: string) => boolean }> = [
    {
      phase: 'the create API call',
      // Held for less than the CLI's 2 s API timeout: the call succeeds after the SIGINT.
      arm: (fake) => fake.inject({ op: entry.createOp, kind: 'delay', delayMs: 1200 }),
      reached: (fake) => fake.log.some((e) => e.op === entry.createOp && e.status === 0),
    },
    {
      phase: 'waiting for the VM to become active',
      arm: (fake, name) => fake.neverActive(name),
      reached: (fake) => fake.log.filter((e) => e.op === entry.statusOp).length >= 2,
    },
    {
      phase: 'waiting for the tunnel server to answer',
      options: { boot: false }, // the VM turns active, but nothing ever listens on it
      arm: () => undefined,
      reached: (_fake, stderr) => stderr.includes('Waiting for the tunnel server'),
    },
  ];
  for (const { phase, options, arm, reached } of interrupts) {
    it(`SIGINT while ${phase}: cleans up and says so`, { timeout: CASE_TIMEOUT_MS }, async () => {
      await withFake(entry, description, options ?? {}, async (fake, user) => {
        const name = 'fm-sigint';
        arm(fake, name);
        const child = user.start(createArgs(name, { port: 9100, firewall: true }));
        const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
        try {
          await until(`create to reach "${phase}"`, () => reached(fake, child.output.stderr) || child.exitCode !== null);
          expect(child.exitCode, child.output.stderr).toBeNull();
          child.kill('SIGINT');
          const r = await child.done;
          expect(r.signal, 'killed after 90 s').toBeNull();
          expect(r.code).not.toBe(0);
          expect(r.stderr).toMatch(/interrupted by SIGINT/);
          expectCleanFailure(r.stderr);
        } finally {
          clearTimeout(killer);
        }
      });
    });
  }
}
