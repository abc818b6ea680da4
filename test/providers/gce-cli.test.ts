/**
 * GCE through the real, built CLI (a copy of `npm run build`, see build-snapshot.ts), for what the
 * contract suite does not cover: a create killed right after its API calls is deleted by a new
 * process. The CLI gets the fake's project and the guards that keep google-auth-library off the
 * metadata server (GCE_CLI_ENV); its only endpoint is the fake's.
 */
import { describe, expect, it } from 'vitest';
import { gceProvider } from '../../providers/gce/index.js';
import { GceFake } from '../fakes/gce-fake.js';
import { GCE_CLI_ENV, GCE_FAKE_PROJECT } from '../fakes/gce-entry.js';
import { killedCreateDeletedByNewProcess } from '../helpers/v2-cli-checks.js';
import { builtCliCases } from '../helpers/built-cli-cases.js';

const cli = builtCliCases();

describe('gce through the CLI', () => {
  it('a create killed right after instances.insert is deleted by a new process, from its state record and the labels', { timeout: 120_000 }, async () => {
    const fake = new GceFake({ boot: false, project: GCE_FAKE_PROJECT });
    const user = await cli.start(fake, gceProvider.description, GCE_CLI_ENV);
    await killedCreateDeletedByNewProcess(user, fake, 'instances.insert', 'gce-killed');
    // Made in the order that needs no status to finish it: the address first.
    expect(fake.log.filter((e) => e.op.endsWith('.insert')).map((e) => e.op)).toEqual(['addresses.insert', 'firewalls.insert', 'instances.insert']);
  });
});
