/**
 * The `local` provider's description: the exit node runs on this machine, from the same rendered
 * user-data a cloud VM would get, bound to a loopback address. No account, no cost.
 */
import type { ProviderDescription } from '../../src/core/provider.js';

export const localDescription: ProviderDescription = {
  name: 'local',
  title: 'This machine (loopback, no cloud account)',
  defaults: {
    // There is no region, plan or image to choose: the node is a process on 127.0.0.x.
    region: 'loopback',
    plan: 'process',
    image: 'this-node',
    reason: 'runs the exit node as a background process on a 127.0.0.x address of this machine, from the rendered user-data',
    monthlyUsd: 0,
  },
  regions: ['loopback'],
  credentials: { flags: [], env: [], howTo: 'none needed', required: false },
  extraFlags: {},
  userData: {
    // No cloud limits it: 64 KiB only keeps a runaway template in sight. EC2's 16 KiB, the
    // strictest, is checked for every mode by test/templates/size.test.ts and printed by the build.
    limitBytes: 64 * 1024,
    format: 'cloud-config',
    binary: true,
  },
  firewall: 'never',
};
