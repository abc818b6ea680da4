/** `inletsctl prune`: delete every tunnel whose `--ttl` expiry has passed. */
import type { Argv, CommandModule } from 'yargs';
import { registry } from '../../core/registry.js';
import { withJsonOption } from '../options/output-options.js';
import { withProviderOptions } from '../options/provider-options.js';

export function pruneBuilder(y: Argv): Argv {
  return withJsonOption(withProviderOptions(y, registry(), { defaultProvider: false, placement: false }))
    .options({
      'dry-run': { type: 'boolean', default: false, describe: 'Show what would be deleted; delete nothing', group: 'Output:' },
      yes: { type: 'boolean', alias: 'y', default: false, describe: 'Do not ask for confirmation (required when not on a terminal)' },
      poll: { type: 'string', default: '2s', describe: 'First polling interval; grows with backoff', group: 'Waiting:' },
      timeout: { type: 'string', default: '10m', describe: 'How long to wait for each tunnel to be gone (and for each provider\'s list)', group: 'Waiting:' },
    })
    .example('$0 prune --dry-run', 'Expired tunnels in state and at the providers state names')
    .example('$0 prune --yes --json', 'Delete them all without asking (cron, CI)');
}

export const pruneCommand: CommandModule = {
  command: 'prune',
  describe: 'Delete every tunnel whose --ttl expiry has passed (in state, and at the providers state names)',
  builder: pruneBuilder,
  handler: async (args) => {
    const { runPrune } = await import('../run/prune-run.js');
    await runPrune(args);
  },
};
