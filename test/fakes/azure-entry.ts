/**
 * The Azure fake's entry in the registry of fakes (test/fakes/index.ts), kept here so the registry
 * takes one row. Operations carry the REST API's operationIds; these are exactly the ones a create
 * (group, then one template deployment), its status polls (the deployment, then the VM's power
 * state), list and a delete by tunnel id or by group id make (beginDelete reads the operation's
 * Location once), so the fault matrix hits each.
 *
 * Transport: plain http. The contract suite starts the CLI with a fixed environment (no
 * NODE_EXTRA_CA_CERTS for a test CA), and the provider allows http to loopback addresses only;
 * test/providers/azure.test.ts runs the CLI against the https fake with the SDKs' own pipeline.
 */
import type { FakeEntry } from './index.js';

export const azureFakeEntry: FakeEntry = {
  provider: 'azure',
  operations: [
    'Subscriptions_List', 'ResourceGroups_CreateOrUpdate', 'Deployments_CreateOrUpdate', 'Deployments_Get', 'VirtualMachines_Get',
    'ResourceGroups_List', 'ResourceGroups_Get', 'ResourceGroups_Delete', 'OperationResults_Get',
  ],
  creatingOps: ['ResourceGroups_CreateOrUpdate', 'Deployments_CreateOrUpdate'],
  createOp: 'Deployments_CreateOrUpdate',
  statusOp: 'Deployments_Get',
  seedHost: (fake, host) => (fake as import('./azure-fake.js').AzureFake).seedGroup(host),
  async start(o = {}) {
    const { AzureFake } = await import('./azure-fake.js');
    const fake = new AzureFake({ activeAfterPolls: o.activeAfterPolls, maxPerPage: o.maxPerPage, foreignGroups: o.foreign, boot: o.boot, acceptToken: o.acceptToken });
    await fake.start();
    return fake;
  },
};
