/**
 * The contract suite's v2 cases: a name is not an identity. Every case goes through the real CLI
 * (two CliUsers are two state files against one fake), so a fake supports them with nothing of
 * its own but FakeEntry.seedHost, for hosts that another inletsctl (or an older version) made.
 *
 * - two state files, one name: the second create refuses; the first host survives and works;
 * - a failed create next to a same-named host that appeared after the name check (an older
 *   version's, added through a fault hook): only this run's resources go;
 * - `delete --id` removes exactly that instance and what carries its tunnel id;
 * - several hosts of one name: `delete NAME` refuses (exit 2) and lists their ids;
 * - a create killed (SIGKILL) after the API call: a new process lists it and deletes it;
 * - clean-up is bounded (`--cleanup-timeout`) and a SIGTERM stops it within 2 s, keeping the
 *   record failed with the delete command;
 * - an API that cannot be reached leaves no record.
 */
import { createServer } from 'node:net';
import { expect, it } from 'vitest';
import type { ProviderDescription } from '../../src/core/provider.js';
import type { FakeCloudServer } from '../fakes/fake-cloud-server.js';
import type { FakeEntry, FakeStartOptions } from '../fakes/index.js';
import type { BuildSnapshot } from './build-snapshot.js';
import { checkTraffic, cliUser, createArgs, parseCreated, until, type CliUser } from './contract-helpers.js';

export interface IdentityCaseContext {
  description: ProviderDescription;
  entry: FakeEntry;
  build: () => BuildSnapshot;
  withFake(entry: FakeEntry, description: ProviderDescription, options: FakeStartOptions, body: (fake: FakeCloudServer, user: CliUser) => Promise<void>): Promise<void>;
  expectCleanFailure(stderr: string): void;
  caseTimeoutMs: number;
  deleteFlags: string[];
}

/** How long a SIGTERM may take to end a clean-up: the product's 2 s, plus 1 s for a loaded machine. */
const SIGTERM_LIMIT_MS = 3000;

interface ListedRow {
  name: string;
  id?: string;
  tunnelId?: string;
  drift: string;
  cloud?: string;
}

export function defineIdentityCases(c: IdentityCaseContext): void {
  const { description, entry } = c;
  const seed = async (fake: FakeCloudServer, host: { name: string; tunnelId?: string }): Promise<string> => {
    if (!entry.seedHost) throw new Error(`the ${entry.provider} fake has no seedHost (FakeEntry.seedHost in test/fakes/index.ts): it cannot put another inletsctl's host in place`);
    return entry.seedHost(fake, host);
  };
  /** A second user of the same fake, with a state file of its own; cleaned up after `body`. */
  const withOther = async <T>(fake: FakeCloudServer, body: (other: CliUser) => Promise<T>): Promise<T> => {
    const other = await cliUser(c.build(), description, fake, entry.cliEnv);
    try {
      return await body(other);
    } finally {
      await other.cleanup();
    }
  };
  const rowsOf = async (user: CliUser): Promise<ListedRow[]> => {
    const r = await user.run(['list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { tunnels: ListedRow[] }).tunnels;
  };
  const deleteById = async (user: CliUser, id: string) => {
    const r = await user.run(['delete', '--id', id, ...c.deleteFlags]);
    expect(r.code, r.stderr).toBe(0);
  };

  it('two state files, one name: the second create refuses (exit 2); the first host survives and still works', { timeout: c.caseTimeoutMs }, async () => {
    await c.withFake(entry, description, {}, async (fake, user) => {
      const first = await user.run(createArgs('v2-same', { port: 9200 }));
      expect(first.code, first.stderr).toBe(0);
      const created = parseCreated(first);
      expect(created.tunnelId).toMatch(/^[0-9a-f]{12}$/);
      await withOther(fake, async (other) => {
        const second = await other.run(createArgs('v2-same', { port: 9201 }));
        expect(second.code, second.stderr).toBe(2);
        expect(second.stderr).toContain(`already has a host named "v2-same" made by inletsctl (id ${created.id}`);
        expect(await other.records()).toEqual([]);
      });
      await checkTraffic(c.build(), created, 9200);
      const d = await user.run(['delete', 'v2-same', ...c.deleteFlags]);
      expect(d.code, d.stderr).toBe(0);
    });
  });

  it('a failed create next to a same-named host that appeared after the name check: only this run\'s resources go', { timeout: c.caseTimeoutMs }, async () => {
    await c.withFake(entry, description, {}, async (fake, user) => {
      let seeded: string | undefined;
      // When this run's create call arrives (its name check passed), an older version's host of the
      // same name appears; this run's own instance then never becomes active (or the cloud refuses the name).
      fake.inject({ op: entry.createOp, kind: 'delay', delayMs: 1, onHit: async () => void (seeded = await seed(fake, { name: 'v2-twin' })) });
      fake.neverActive('v2-twin');
      const r = await user.run(createArgs('v2-twin', { port: 9210, firewall: true, timeout: '3s' }));
      expect(r.code).not.toBe(0);
      c.expectCleanFailure(r.stderr);
      expect(seeded, 'the hook ran').toBeDefined();
      const rows = await rowsOf(user);
      expect(rows).toEqual([expect.objectContaining({ id: seeded, name: 'v2-twin', drift: 'untracked' })]);
      await deleteById(user, seeded!);
    });
  });

  it('delete --id removes exactly that instance and what carries its tunnel id; same-named hosts stay', { timeout: c.caseTimeoutMs }, async () => {
    await c.withFake(entry, description, {}, async (fake, user) => {
      const made = await user.run(createArgs('v2-exact', { port: 9220, firewall: true }));
      expect(made.code, made.stderr).toBe(0);
      const target = parseCreated(made).id;
      const older = await seed(fake, { name: 'v2-exact' });
      const sibling = await seed(fake, { name: 'v2-exact', tunnelId: 'feedfeedfeed' });
      await withOther(fake, async (stranger) => {
        // Its firewall carries its tunnel id and goes with it (the fake must end up holding none).
        await deleteById(stranger, target);
        const ids = (await rowsOf(stranger)).map((row) => row.id);
        expect(ids.sort()).toEqual([older, sibling].sort());
        // A host of an older version (no tunnel id) is deletable by --id: exactly that instance.
        await deleteById(stranger, older);
        expect((await rowsOf(stranger)).map((row) => row.id)).toEqual([sibling]);
        await deleteById(stranger, sibling);
      });
      // The first user's record is now of a host that is gone: deleting it just forgets it.
      const forget = await user.run(['delete', 'v2-exact', ...c.deleteFlags]);
      expect(forget.code, forget.stderr).toBe(0);
    });
  });

  it('several hosts of one name: delete NAME refuses (exit 2) and lists their ids', { timeout: c.caseTimeoutMs }, async () => {
    await c.withFake(entry, description, { boot: false }, async (fake, user) => {
      const a = await seed(fake, { name: 'v2-dup', tunnelId: '111111111111' });
      const b = await seed(fake, { name: 'v2-dup', tunnelId: '222222222222' });
      const r = await user.run(['delete', 'v2-dup', ...c.deleteFlags]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/2 hosts at .+ are named "v2-dup".+nothing was deleted/s);
      expect(r.stderr).toContain(`--id ${a}`);
      expect(r.stderr).toContain(`--id ${b}`);
      expect((await rowsOf(user)).map((row) => row.id).sort()).toEqual([a, b].sort());
      await deleteById(user, a);
      await deleteById(user, b);
    });
  });

  it('a create killed after the API call: a new process lists it and deletes it', { timeout: c.caseTimeoutMs }, async () => {
    await c.withFake(entry, description, {}, async (fake, user) => {
      const child = user.start(createArgs('v2-killed', { port: 9230, firewall: true }));
      const answered = () => fake.log.some((e) => e.op === entry.createOp && typeof e.status === 'number' && e.status >= 200 && e.status < 300);
      await until('the create call to be answered', () => answered() || child.exitCode !== null);
      child.kill('SIGKILL');
      await child.done;
      // The state file holds the tunnel id from before the call: a new process finds the host by it.
      const records = await user.records();
      expect(records).toEqual([expect.objectContaining({ name: 'v2-killed' })]);
      let row: ListedRow | undefined;
      for (let i = 0; i < 20 && row?.drift !== 'ok'; i++) row = (await rowsOf(user)).find((x) => x.name === 'v2-killed');
      expect(row).toMatchObject({ drift: 'ok', id: expect.any(String) });
      const d = await user.run(['delete', 'v2-killed', ...c.deleteFlags]);
      expect(d.code, d.stderr).toBe(0);
    });
  });

  it('clean-up is bounded by --cleanup-timeout, keeping the record failed with the delete command', { timeout: c.caseTimeoutMs }, async () => {
    await c.withFake(entry, description, {}, async (fake, user) => {
      fake.neverActive('v2-bounded');
      const child = user.start(createArgs('v2-bounded', { port: 9240, timeout: '2s', cleanupTimeout: '2s' }));
      // Once create is waiting, every call hangs: clean-up cannot finish.
      await until('create to wait for the VM', () => fake.log.filter((e) => e.op === entry.statusOp).length >= 1 || child.exitCode !== null);
      fake.inject({ kind: 'hang', times: 10_000, hangMs: 1000 });
      const r = await child.done;
      fake.clearFaults();
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/Cleaning up failed too \(gave up waiting for "v2-bounded" to be deleted after 2\.0 s/);
      expect(r.stderr).toContain(`delete it with: ${user.inletsctl} delete v2-bounded`);
      expect(await user.records()).toEqual([expect.objectContaining({ name: 'v2-bounded', status: 'failed' })]);
      const d = await user.run(['delete', 'v2-bounded', ...c.deleteFlags]);
      expect(d.code, d.stderr).toBe(0);
    });
  });

  it('SIGTERM during clean-up stops it within 2 s, keeping the record failed with the delete command', { timeout: c.caseTimeoutMs }, async () => {
    await c.withFake(entry, description, {}, async (fake, user) => {
      fake.neverActive('v2-sigterm');
      const child = user.start(createArgs('v2-sigterm', { port: 9250, timeout: '2s' }));
      await until('create to wait for the VM', () => fake.log.filter((e) => e.op === entry.statusOp).length >= 1 || child.exitCode !== null);
      fake.inject({ kind: 'hang', times: 10_000, hangMs: 30_000 });
      await until('clean-up to start', () => child.output.stderr.includes('Deleting everything created for v2-sigterm') || child.exitCode !== null, 60_000);
      expect(child.exitCode, child.output.stderr).toBeNull();
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), SIGTERM_LIMIT_MS);
      const r = await child.done;
      clearTimeout(killer);
      fake.clearFaults();
      expect(r.signal, `still cleaning up ${SIGTERM_LIMIT_MS} ms after SIGTERM`).toBeNull();
      expect(r.stderr).toContain('clean-up interrupted by SIGTERM');
      expect(r.stderr).toContain(`delete it with: ${user.inletsctl} delete v2-sigterm`);
      expect(await user.records()).toEqual([expect.objectContaining({ name: 'v2-sigterm', status: 'failed' })]);
      const d = await user.run(['delete', 'v2-sigterm', ...c.deleteFlags]);
      expect(d.code, d.stderr).toBe(0);
    });
  });

  it('an API that cannot be reached: create ends in seconds and leaves no record', { timeout: c.caseTimeoutMs }, async () => {
    await c.withFake(entry, description, {}, async (fake, user) => {
      const url = new URL(fake.url);
      url.port = String(await closedPort());
      const r = await user.run(['create', 'v2-nowhere', '--api-url', url.toString().replace(/\/$/, ''), '--timeout', '5s', '--poll', '100ms'], 30_000);
      expect(r.code).not.toBe(0);
      expect(r.stderr).not.toMatch(/Deleting everything/);
      expect(await user.records()).toEqual([]);
      expect(fake.log, 'the fake was never called').toEqual([]);
    });
  });
}

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
