/**
 * The Vultr fake's entry in the registry of fakes (test/fakes/index.ts), kept here so the registry
 * takes one row. Operations are the operationIds of Vultr's OpenAPI description for the calls a
 * create (firewall group, its rules, the instance), its status polls, a list and a delete by
 * tunnel id make, so the fault matrix hits each.
 */
import type { FakeEntry } from './index.js';

export const vultrFakeEntry: FakeEntry = {
  provider: 'vultr',
  operations: [
    'create-firewall-group', 'post-firewalls-firewall-group-id-rules', 'create-instance', 'get-instance',
    'list-instances', 'delete-instance', 'list-firewall-groups', 'delete-firewall-group',
  ],
  creatingOps: ['create-firewall-group', 'post-firewalls-firewall-group-id-rules', 'create-instance'],
  createOp: 'create-instance',
  statusOp: 'get-instance',
  seedHost: (fake, host) => (fake as import('./vultr-fake.js').VultrFake).seedInstance(host),
  async start(o = {}) {
    const { VultrFake } = await import('./vultr-fake.js');
    const fake = new VultrFake({ activeAfterPolls: o.activeAfterPolls, maxPerPage: o.maxPerPage, foreignInstances: o.foreign, boot: o.boot, acceptToken: o.acceptToken });
    await fake.start();
    return fake;
  },
};
