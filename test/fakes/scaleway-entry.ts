/**
 * The Scaleway fake's entry in the registry of fakes (test/fakes/index.ts), kept here so the
 * registry takes one row. Operations are the fake's names for the calls a create (the Marketplace
 * image look-up, the security group and its rules, the Instance, its user data, the power-on), its
 * status polls, a list (every zone) and a delete by tunnel id (terminate, then the groups) make,
 * so the fault matrix hits each. `servers.delete` and `volumes.delete` are left out: only the
 * clean-up of an Instance that was never powered on makes them (the matrix's failed creates do),
 * and a matrix case needs its fault hit by a create and delete that succeed.
 */
import type { FakeEntry } from './index.js';

/** The Project id of the fake's account, given to the CLI as $SCW_DEFAULT_PROJECT_ID. */
export const SCALEWAY_FAKE_PROJECT = '6f4a2c1e-8b3d-4e5f-9a0b-1c2d3e4f5a6b';

export const scalewayFakeEntry: FakeEntry = {
  provider: 'scaleway',
  operations: [
    'marketplace.local_images', 'security_groups.create', 'security_group_rules.set', 'servers.create', 'user_data.set', 'servers.action', 'servers.get',
    'servers.list', 'security_groups.list', 'security_groups.delete',
  ],
  creatingOps: ['security_groups.create', 'security_group_rules.set', 'servers.create', 'user_data.set', 'servers.action'],
  // The call that starts the VM is the power-on action, the last of create's calls: before it the
  // Instance is stopped, without user data, and will not boot by itself. A create killed between
  // `servers.create` and the power-on leaves such an Instance: `status` calls it an error (it will
  // never serve), `list` shows it and delete removes it with its volume (test/providers/scaleway.test.ts).
  createOp: 'servers.action',
  statusOp: 'servers.get',
  cliEnv: { SCW_DEFAULT_PROJECT_ID: SCALEWAY_FAKE_PROJECT },
  seedHost: (fake, host) => (fake as import('./scaleway-fake.js').ScalewayFake).seedServer(host),
  async start(o = {}) {
    const { ScalewayFake } = await import('./scaleway-fake.js');
    const fake = new ScalewayFake({ activeAfterPolls: o.activeAfterPolls, maxPerPage: o.maxPerPage, foreignServers: o.foreign, boot: o.boot, acceptToken: o.acceptToken });
    await fake.start();
    return fake;
  },
};
