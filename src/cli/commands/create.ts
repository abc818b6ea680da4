/** `inletsctl create [name]`: make an exit server, wait until the tunnel answers, print how to connect. */
import type { Argv, CommandModule } from 'yargs';
import { registry } from '../../core/registry.js';
import { withJsonOption } from '../options/output-options.js';
import { withProviderOptions } from '../options/provider-options.js';

const TUNNEL_GROUP = 'Tunnel:';

export function createBuilder(y: Argv): Argv {
  const withName = y.positional('name', { type: 'string', describe: 'Tunnel name (default: generated, like inlets-brave-otter-1a2b)' });
  return withJsonOption(withProviderOptions(withName, registry(), { defaultProvider: true, placement: true }))
    .options({
      tcp: { type: 'boolean', default: true, describe: 'TCP mode: forward whole TCP ports (the only mode so far)', group: TUNNEL_GROUP },
      http: { type: 'boolean', describe: 'HTTPS mode with Let\'s Encrypt (not implemented yet)', group: TUNNEL_GROUP },
      'letsencrypt-domain': { type: 'string', array: true, describe: 'HTTPS mode: domain (not implemented yet)', group: TUNNEL_GROUP },
      'letsencrypt-email': { type: 'string', describe: 'HTTPS mode: ACME email (not implemented yet)', group: TUNNEL_GROUP },
      'letsencrypt-issuer': { type: 'string', describe: 'HTTPS mode: prod or staging (not implemented yet)', group: TUNNEL_GROUP },
      ports: { type: 'string', array: true, describe: 'Data ports to open in the firewall, like 80,443 (repeatable)', group: TUNNEL_GROUP },
      'control-port': { type: 'number', default: 8123, describe: 'Port of the tunnel\'s TLS control plane', group: TUNNEL_GROUP },
      'inlets-token': { type: 'string', alias: 't', describe: 'Tunnel token (default: 256 random bits as hex)', group: TUNNEL_GROUP },
      firewall: { type: 'boolean', default: false, describe: 'Also create a cloud firewall opening only the control and data ports', group: TUNNEL_GROUP },
      poll: { type: 'string', alias: 'n', default: '2s', describe: 'First polling interval; grows with backoff', group: 'Waiting:' },
      timeout: { type: 'string', default: '10m', describe: 'How long to wait for the VM to be active and the tunnel to answer', group: 'Waiting:' },
      'cleanup-timeout': { type: 'string', default: '2m', describe: 'How long clean-up after a failed create may take (Ctrl-C or SIGTERM stops it at once)', group: 'Waiting:' },
      ttl: { type: 'string', describe: 'Expire after this long (2h, 1d): `inletsctl prune` deletes it, and the node powers itself off then', group: 'Tunnel:' },
      'keep-on-failure': { type: 'boolean', default: false, describe: 'Keep what was created when create fails (default: delete it)', group: 'Waiting:' },
      'dry-run': { type: 'boolean', default: false, describe: 'Print the plan and rendered user-data; call no API, write no state', group: 'Output:' },
      test: { type: 'boolean', default: false, describe: 'Finish by sending traffic through the tunnel (see: inletsctl test)', group: 'Output:' },
      // The Go inletsctl's pin of the inlets-pro release: accepted so its users' scripts run (see handler).
      'inlets-version': { type: 'string', alias: 'inlets-pro-version', hidden: true },
    })
    .example('$0 create', 'Create an exit server with the default provider (a prompt asks on a terminal)')
    .example('$0 create --provider local --tcp', 'Run an exit server on this machine: no cloud account needed')
    .example('$0 create my-tunnel --provider local --ports 8080 --json', 'One JSON object for scripts and CI')
    .example('$0 create ci-1 --ttl 2h --json', 'A tunnel for a CI job: prune deletes it after two hours, and the node powers off then')
    .example('$0 create --provider local --dry-run', 'Show the user-data and plan without creating anything');
}

export const createCommand: CommandModule = {
  command: 'create [name]',
  describe: 'Create an exit server, wait until its tunnel answers, and print how to connect',
  builder: createBuilder,
  handler: async (args) => {
    if (args['inlets-version'] !== undefined) {
      const { warn } = await import('../../core/output.js');
      warn('--inlets-version has no effect: exit servers run the engine bundled with this inletsctl (see: inletsctl version)');
    }
    const { runCreate } = await import('../run/create-run.js');
    await runCreate(args);
  },
};
