/**
 * The EC2 fake's entry in the registry of fakes (test/fakes/index.ts), kept here so the registry
 * takes one row. Operations are EC2's action names: exactly the ones a create (instance type,
 * image, security group and its rules, the instance) and a delete by name make, so the fault
 * matrix hits each.
 */
import type { FakeEntry } from './index.js';

/**
 * Environment the CLI needs to talk to the fake: a complete key pair (the AWS SDK signs every
 * request; a key id alone is refused as partial credentials) and a guard that keeps the SDK's
 * credential chain off the instance metadata service (169.254.169.254) whatever happens. The
 * contract suite passes it to the CLI when it supports `cliEnv`.
 */
export const EC2_CLI_ENV: Record<string, string> = {
  AWS_ACCESS_KEY_ID: 'AKIAFAKEINLETSCTL0001',
  AWS_SECRET_ACCESS_KEY: 'fake-secret-for-the-ec2-fake',
  AWS_EC2_METADATA_DISABLED: 'true',
};

export const ec2FakeEntry: FakeEntry & { cliEnv: Record<string, string> } = {
  provider: 'ec2',
  operations: [
    'DescribeInstanceTypes', 'DescribeImages', 'CreateSecurityGroup', 'AuthorizeSecurityGroupIngress', 'RunInstances',
    'DescribeInstances', 'TerminateInstances', 'DescribeSecurityGroups', 'DeleteSecurityGroup',
  ],
  creatingOps: ['CreateSecurityGroup', 'RunInstances'],
  createOp: 'RunInstances',
  statusOp: 'DescribeInstances',
  cliEnv: EC2_CLI_ENV,
  seedHost: (fake, host) => (fake as import('./ec2-fake.js').Ec2Fake).seedInstance(host),
  async start(o = {}) {
    const { Ec2Fake } = await import('./ec2-fake.js');
    const fake = new Ec2Fake({ activeAfterPolls: o.activeAfterPolls, maxPerPage: o.maxPerPage, foreign: o.foreign, boot: o.boot });
    await fake.start();
    return fake;
  },
};
