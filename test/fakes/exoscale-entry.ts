/**
 * The Exoscale fake's entry in the registry of fakes (test/fakes/index.ts), kept here so the
 * registry takes one row. Operations are the description's operationIds for the calls a create
 * (instance type and template look-ups, security group, its rules, instance), its status polls
 * (the instance, and its create operation while it is not running), a list and a delete by tunnel
 * id make, so the fault matrix hits each.
 */
import type { FakeEntry } from './index.js';

/** The fake's API secret; the CLI reads the key from $EXOSCALE_API_KEY (the suite's dummy token). */
export const EXOSCALE_CLI_ENV: Record<string, string> = { EXOSCALE_API_SECRET: 'fake-secret-for-the-exoscale-fake' };

export const exoscaleFakeEntry: FakeEntry = {
  provider: 'exoscale',
  operations: [
    'list-instance-types', 'list-templates', 'create-security-group', 'add-rule-to-security-group', 'create-instance', 'get-instance', 'get-operation',
    'list-instances', 'delete-instance', 'list-security-groups', 'delete-security-group',
  ],
  creatingOps: ['create-security-group', 'add-rule-to-security-group', 'create-instance'],
  createOp: 'create-instance',
  statusOp: 'get-instance',
  cliEnv: EXOSCALE_CLI_ENV,
  seedHost: (fake, host) => (fake as import('./exoscale-fake.js').ExoscaleFake).seedInstance(host),
  async start(o = {}) {
    const { ExoscaleFake } = await import('./exoscale-fake.js');
    const fake = new ExoscaleFake({ activeAfterPolls: o.activeAfterPolls, foreignInstances: o.foreign, boot: o.boot, acceptToken: o.acceptToken });
    await fake.start();
    return fake;
  },
};
