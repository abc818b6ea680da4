/**
 * GCE through the real, built CLI (a copy of `npm run build`, see build-snapshot.ts), for what the
 * contract suite does not cover: a create killed right after its API calls is deleted by a new
 * process. The CLI gets the fake's project and the guards that keep google-auth-library off the
 * metadata server (GCE_CLI_ENV); its only endpoint is the fake's.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gceProvider } from '../../providers/gce/index.js';
import { GceFake } from '../fakes/gce-fake.js';
import { GCE_CLI_ENV, GCE_FAKE_PROJECT } from '../fakes/gce-entry.js';
import { killedCreateDeletedByNewProcess } from '../helpers/v2-cli-checks.js';
import { snapshotBuild, type BuildSnapshot } from './build-snapshot.js';
import { cliUser, type CliUser } from './contract-helpers.js';

let build: BuildSnapshot;
let fake: GceFake;
let user: CliUser;

beforeAll(async () => {
  build = await snapshotBuild();
});
afterAll(async () => {
  await build?.cleanup();
});
afterEach(async () => {
  expect(fake.mismatches).toEqual([]);
  expect(fake.problems).toEqual([]);
  await user.cleanup();
  await fake.close();
});

describe('gce through the CLI', () => {
  it('a create killed right after instances.insert is deleted by a new process, from its state record and the labels', { timeout: 120_000 }, async () => {
    fake = new GceFake({ boot: false, project: GCE_FAKE_PROJECT });
    await fake.start();
    user = await cliUser(build, gceProvider.description, fake, GCE_CLI_ENV);
    await killedCreateDeletedByNewProcess(user, fake, 'instances.insert', 'gce-killed');
    // Made in the order that needs no status to finish it: the address first.
    expect(fake.log.filter((e) => e.op.endsWith('.insert')).map((e) => e.op)).toEqual(['addresses.insert', 'firewalls.insert', 'instances.insert']);
  });
});
