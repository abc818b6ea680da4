/** `inletsctl version`: this program's version and the engine it embeds. */
import type { Argv, CommandModule } from 'yargs';
import { withJsonOption } from '../options/output-options.js';

export function versionBuilder(y: Argv): Argv {
  return withJsonOption(y).example('$0 version', 'Print the version').example('$0 version --json', 'As JSON');
}

export const versionCommand: CommandModule = {
  command: 'version',
  describe: 'Print the version of inletsctl and of the engine it installs on exit servers',
  builder: versionBuilder,
  handler: async (args) => {
    const { runVersion } = await import('../run/version-run.js');
    await runVersion(args);
  },
};
