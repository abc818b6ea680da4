/**
 * The Azure fake's entry in the registry of fakes (test/fakes/index.ts), kept here so the registry
 * takes one row. Operations carry the REST API's operationIds; these are exactly the ones a create
 * and a delete by name make (the SDKs' begin* calls read an operation's status once, and then GET
 * the resource when it is done), so the fault matrix hits each.
 *
 * Transport: plain http. The contract suite starts the CLI with a fixed environment (no
 * NODE_EXTRA_CA_CERTS for a test CA), and the provider allows http to loopback addresses only;
 * test/providers/azure.test.ts runs the CLI against the https fake with the SDKs' own pipeline.
 */
import type { FakeEntry } from './index.js';

export const azureFakeEntry: FakeEntry = {
  provider: 'azure',
  operations: [
    'Subscriptions_List', 'ResourceGroups_CreateOrUpdate', 'VirtualNetworks_CreateOrUpdate', 'PublicIPAddresses_CreateOrUpdate', 'NetworkSecurityGroups_CreateOrUpdate',
    'AsyncOperations_Get', 'VirtualNetworks_Get', 'PublicIPAddresses_Get', 'NetworkSecurityGroups_Get', 'NetworkInterfaces_CreateOrUpdate', 'NetworkInterfaces_Get',
    'VirtualMachines_CreateOrUpdate', 'VirtualMachines_Get', 'ResourceGroups_List', 'ResourceGroups_Delete', 'OperationResults_Get',
  ],
  creatingOps: ['ResourceGroups_CreateOrUpdate', 'VirtualNetworks_CreateOrUpdate', 'PublicIPAddresses_CreateOrUpdate', 'NetworkSecurityGroups_CreateOrUpdate', 'NetworkInterfaces_CreateOrUpdate', 'VirtualMachines_CreateOrUpdate'],
  createOp: 'ResourceGroups_CreateOrUpdate',
  statusOp: 'VirtualMachines_Get',
  async start(o = {}) {
    const { AzureFake } = await import('./azure-fake.js');
    const fake = new AzureFake({ activeAfterPolls: o.activeAfterPolls, maxPerPage: o.maxPerPage, foreignGroups: o.foreign, boot: o.boot, acceptToken: o.acceptToken });
    await fake.start();
    return fake;
  },
};
