/** `inletsctl list`: tunnels in state, checked against what the providers report. */
import type { Argv, CommandModule } from 'yargs';
import { registry } from '../../core/registry.js';
import { withJsonOption } from '../options/output-options.js';
import { withProviderOptions } from '../options/provider-options.js';

export function listBuilder(y: Argv): Argv {
  return withJsonOption(withProviderOptions(y, registry(), { defaultProvider: false, placement: false }))
    .option('state-only', { type: 'boolean', default: false, describe: 'Show the state file only; call no provider API' })
    .option('timeout', { type: 'string', default: '20s', describe: 'How long to wait for each provider\'s list; an unreachable one is a warning', group: 'Waiting:' })
    .example('$0 list', 'Tunnels in state, checked against each provider they use')
    .example('$0 list --provider local', 'Also show tunnels the provider has that state does not')
    .example('$0 list --json', 'A JSON object for scripts');
}

export const listCommand: CommandModule = {
  command: 'list',
  aliases: ['ls'],
  describe: 'List tunnels, marking drift between the state file and the clouds',
  builder: listBuilder,
  handler: async (args) => {
    const { runList } = await import('../run/list-run.js');
    await runList(args);
  },
};
