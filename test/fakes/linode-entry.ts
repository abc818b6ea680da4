/**
 * The Linode fake's entry in the registry of fakes (test/fakes/index.ts), kept here so the registry
 * takes one row. Operations are the spec's operationIds (and get-region, get-image, which the
 * subset lacks) for the calls a create (region and image checks, firewall, instance), its status
 * polls, a list and a delete by tunnel id make, so the fault matrix hits each.
 */
import type { FakeEntry } from './index.js';

export const linodeFakeEntry: FakeEntry = {
  provider: 'linode',
  operations: [
    'get-region', 'get-image', 'post-firewalls', 'post-linode-instance', 'get-linode-instance', 'get-linode-instances',
    'delete-linode-instance', 'get-firewalls', 'delete-firewall',
  ],
  creatingOps: ['post-firewalls', 'post-linode-instance'],
  createOp: 'post-linode-instance',
  statusOp: 'get-linode-instance',
  seedHost: (fake, host) => (fake as import('./linode-fake.js').LinodeFake).seedInstance(host),
  async start(o = {}) {
    const { LinodeFake } = await import('./linode-fake.js');
    const fake = new LinodeFake({ activeAfterPolls: o.activeAfterPolls, maxPerPage: o.maxPerPage, foreignInstances: o.foreign, boot: o.boot, acceptToken: o.acceptToken });
    await fake.start();
    return fake;
  },
};
