/**
 * The OpenStack fake's registry entries: `openstack` and `ovh` (the same implementation with
 * OVHcloud's defaults) each run the contract suite against it, with the catalog in their region.
 */
import type { FakeEntry } from './index.js';

/** Every call the providers make in create, delete and list, as the fake names them. */
const OPERATIONS = [
  'auth/tokens:post', 'flavors:get', 'images:get', 'networks:get', 'security-groups:post', 'security-group-rules:post', 'servers:post',
  'servers/id:get', 'servers/detail:get', 'servers/id:delete', 'floatingips:get', 'ports:get', 'security-groups:get', 'security-groups/id:delete',
];

export function openStackFakeEntry(provider: 'openstack' | 'ovh', region: string): FakeEntry {
  return {
    provider,
    operations: OPERATIONS,
    creatingOps: ['security-groups:post', 'security-group-rules:post', 'servers:post'],
    createOp: 'servers:post',
    statusOp: 'servers/id:get',
    seedHost: (fake, host) => (fake as import('./openstack-fake.js').OpenStackFake).seedServer(host),
    // The password comes as the first credential variable ($OS_PASSWORD); user and project here.
    cliEnv: { OS_USERNAME: 'demo', OS_PROJECT_NAME: 'demo' },
    async start(o = {}) {
      const { OpenStackFake } = await import('./openstack-fake.js');
      const fake = new OpenStackFake({ activeAfterPolls: o.activeAfterPolls, maxPerPage: o.maxPerPage, foreignServers: o.foreign, boot: o.boot, acceptToken: o.acceptToken, region });
      await fake.start();
      return fake;
    },
  };
}
