/** `inletsctl providers`: what each provider creates by default, what it costs, what it needs. */
import type { Argv, CommandModule } from 'yargs';
import { withJsonOption } from '../options/output-options.js';

export function providersBuilder(y: Argv): Argv {
  return withJsonOption(y)
    .example('$0 providers', 'A table of providers with defaults, cost and credentials')
    .example('$0 providers --json', 'The same as JSON');
}

export const providersCommand: CommandModule = {
  command: 'providers',
  describe: 'Show each provider\'s default region, plan, image, monthly cost and credentials',
  builder: providersBuilder,
  handler: async (args) => {
    const { runProviders } = await import('../run/providers-run.js');
    await runProviders(args);
  },
};
