/**
 * The GCE fake's entry in the registry of fakes (test/fakes/index.ts), kept here so the registry
 * takes one row. Operations are named as the discovery document names methods, without
 * `compute.`; these are exactly the ones a create (static address first, then firewall rule and
 * instance), its status polls and a delete by tunnel id make, so the fault matrix hits each.
 * (zoneOperations.get and globalOperations.get are read only when an insert failed.)
 */
import type { FakeEntry } from './index.js';

/** The project the fake serves, and the CLI must name (see `cliEnv`). */
export const GCE_FAKE_PROJECT = 'inletsctl-fake';

/**
 * Environment the CLI needs besides the token: the project (an access token names none), and
 * guards that keep google-auth-library off the metadata server (169.254.169.254) whatever
 * happens. The contract suite passes it to the CLI when it supports `cliEnv`.
 */
export const GCE_CLI_ENV: Record<string, string> = {
  GOOGLE_CLOUD_PROJECT: GCE_FAKE_PROJECT,
  METADATA_SERVER_DETECTION: 'none',
  GCE_METADATA_HOST: '127.0.0.1:9',
  GCE_METADATA_IP: '127.0.0.1:9',
};

export const gceFakeEntry: FakeEntry & { cliEnv: Record<string, string> } = {
  provider: 'gce',
  operations: [
    'addresses.insert', 'regionOperations.wait', 'addresses.get', 'firewalls.insert', 'instances.insert', 'instances.get', 'firewalls.get',
    'instances.aggregatedList', 'instances.delete', 'firewalls.delete', 'addresses.delete',
  ],
  creatingOps: ['firewalls.insert', 'instances.insert', 'addresses.insert'],
  createOp: 'instances.insert',
  statusOp: 'instances.get',
  cliEnv: GCE_CLI_ENV,
  seedHost: (fake, host) => (fake as import('./gce-fake.js').GceFake).seedInstance(host),
  async start(o = {}) {
    const { GceFake } = await import('./gce-fake.js');
    const fake = new GceFake({ project: GCE_FAKE_PROJECT, activeAfterPolls: o.activeAfterPolls, maxPerPage: o.maxPerPage, foreign: o.foreign, boot: o.boot, acceptToken: o.acceptToken });
    await fake.start();
    return fake;
  },
};
