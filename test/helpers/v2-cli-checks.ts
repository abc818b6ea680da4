/**
 * Provider contract v2 through the built CLI: a create killed (SIGKILL, no clean-up of its own)
 * right after the cloud accepted its create call leaves a state record; a NEW inletsctl process
 * deletes everything from that record and the cloud's marks alone.
 */
import { expect } from 'vitest';
import type { FakeCloudServer } from '../fakes/fake-cloud-server.js';
import { leftovers } from '../fakes/index.js';
import { createArgs, until, type CliUser } from '../providers/contract-helpers.js';

const DELETE_FLAGS = ['--yes', '--poll', '100ms', '--timeout', '60s'];

export async function killedCreateDeletedByNewProcess(user: CliUser, fake: FakeCloudServer, createOp: string, name: string): Promise<void> {
  const child = user.start(createArgs(name, { port: 9100 }));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    await until(`${createOp} to be answered`, () => fake.log.some((e) => e.op === createOp && Number(e.status) >= 200 && Number(e.status) < 300) || child.exitCode !== null);
    expect(child.exitCode, child.output.stderr).toBeNull();
    child.kill('SIGKILL');
    expect((await child.done).signal).toBe('SIGKILL');
  } finally {
    clearTimeout(killer);
  }
  expect((await user.records()).map((r) => r.name)).toEqual([name]);
  expect(Object.keys(leftovers(fake)).length, 'the killed create made something').toBeGreaterThan(0);
  const deleted = await user.run(['delete', name, ...DELETE_FLAGS]);
  expect(deleted.code, deleted.stderr).toBe(0);
  expect(leftovers(fake)).toEqual({});
  expect(await user.records()).toEqual([]);
}
