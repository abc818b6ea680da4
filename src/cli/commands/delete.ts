/** `inletsctl delete [name]`: remove an exit server and everything create made for it. */
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { registry } from '../../core/registry.js';
import { withJsonOption } from '../options/output-options.js';
import { withProviderOptions } from '../options/provider-options.js';

export function deleteBuilder(y: Argv): Argv {
  const withName = y.positional('name', { type: 'string', describe: 'Tunnel name, as shown by: inletsctl list' });
  return withJsonOption(withProviderOptions(withName, registry(), { defaultProvider: false, placement: false }))
    .options({
      id: { type: 'string', alias: 'i', describe: 'Delete by the provider\'s instance id', group: 'Target:' },
      ip: { type: 'string', describe: 'Delete by public IP address', group: 'Target:' },
      // The Go inletsctl's delete takes these; here state or the provider's list knows the place.
      region: { type: 'string', alias: 'r', hidden: true },
      zone: { type: 'string', alias: 'z', hidden: true },
      yes: { type: 'boolean', alias: 'y', default: false, describe: 'Do not ask for confirmation (required when not on a terminal)' },
      poll: { type: 'string', default: '2s', describe: 'First polling interval; grows with backoff', group: 'Waiting:' },
      timeout: { type: 'string', default: '10m', describe: 'How long to wait for everything to be gone', group: 'Waiting:' },
    })
    .check((argv) => {
      const given = [argv.name, argv.id, argv.ip].filter((v) => v !== undefined && v !== '');
      if (given.length !== 1) throw new UsageError('give exactly one of: a name, --id or --ip');
      return true;
    })
    .example('$0 delete inlets-brave-otter-1a2b', 'Delete a tunnel recorded by create (asks first on a terminal)')
    .example('$0 delete --provider digitalocean --ip 203.0.113.10 --yes', 'Delete by IP, without asking')
    .example('$0 delete --id 1234567 --provider hetzner --yes --json', 'Delete by id; print a JSON result');
}

export const deleteCommand: CommandModule = {
  command: 'delete [name]',
  describe: 'Delete an exit server and everything created with it',
  builder: deleteBuilder,
  handler: async (args) => {
    const ignored = ['region', 'zone'].filter((f) => args[f] !== undefined);
    if (ignored.length) {
      const { warn } = await import('../../core/output.js');
      warn(`${ignored.map((f) => `--${f}`).join(' and ')} has no effect on delete: the place comes from the state file or the provider's list`);
    }
    const { runDelete } = await import('../run/delete-run.js');
    await runDelete(args);
  },
};
