/**
 * The Civo fake's entry in the registry of fakes (test/fakes/index.ts), kept here so the registry
 * takes one row. Operations are the fake's names for the calls a create (network and disk image
 * look-ups, firewall, its rules, instance), its status polls, a list (every region) and a delete
 * by tunnel id make, so the fault matrix hits each.
 */
import type { FakeEntry } from './index.js';

export const civoFakeEntry: FakeEntry = {
  provider: 'civo',
  operations: [
    'networks.list', 'disk_images.list', 'firewalls.create', 'firewall_rules.create', 'instances.create', 'instances.get',
    'instances.list', 'instances.delete', 'firewalls.list', 'firewalls.delete',
  ],
  creatingOps: ['firewalls.create', 'firewall_rules.create', 'instances.create'],
  createOp: 'instances.create',
  statusOp: 'instances.get',
  seedHost: (fake, host) => (fake as import('./civo-fake.js').CivoFake).seedInstance(host),
  async start(o = {}) {
    const { CivoFake } = await import('./civo-fake.js');
    const fake = new CivoFake({ activeAfterPolls: o.activeAfterPolls, maxPerPage: o.maxPerPage, foreignInstances: o.foreign, boot: o.boot, acceptToken: o.acceptToken });
    await fake.start();
    return fake;
  },
};
