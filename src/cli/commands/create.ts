/** `inletsctl create [name]`: make an exit server, wait until the tunnel answers, print how to connect. */
import type { Argv, CommandModule } from 'yargs';
import { registry } from '../../core/registry.js';
import { withJsonOption } from '../options/output-options.js';
import { withProviderOptions } from '../options/provider-options.js';

const TUNNEL_GROUP = 'Tunnel:';
const HTTPS_GROUP = 'HTTPS mode:';

export function createBuilder(y: Argv): Argv {
  const withName = y.positional('name', { type: 'string', describe: 'Tunnel name (default: generated, like inlets-brave-otter-1a2b)' });
  return withJsonOption(withProviderOptions(withName, registry(), { defaultProvider: true, placement: true }))
    .options({
      tcp: { type: 'boolean', describe: 'TCP mode: forward whole TCP ports (the default when no --letsencrypt-domain is given)', group: TUNNEL_GROUP },
      'letsencrypt-domain': { type: 'string', array: true, describe: 'HTTPS mode: a domain to get a Let\'s Encrypt certificate for and route by (repeatable)', group: HTTPS_GROUP },
      'letsencrypt-email': { type: 'string', describe: 'HTTPS mode: e-mail address for the ACME account (optional)', group: HTTPS_GROUP },
      'letsencrypt-issuer': { type: 'string', choices: ['prod', 'staging'], describe: 'HTTPS mode: Let\'s Encrypt\'s production or staging CA', group: HTTPS_GROUP },
      'letsencrypt-url': { type: 'string', describe: 'HTTPS mode: another ACME directory URL instead of Let\'s Encrypt', group: HTTPS_GROUP },
      'letsencrypt-ca': { type: 'string', describe: 'HTTPS mode: PEM file of the CA that signs that ACME server\'s own TLS certificate', group: HTTPS_GROUP },
      'http-port': { type: 'number', describe: 'HTTPS mode: public HTTP port (default 80; HTTP-01 needs 80 unless your ACME server checks another)', group: HTTPS_GROUP },
      'https-port': { type: 'number', describe: 'HTTPS mode: public HTTPS port (default 443)', group: HTTPS_GROUP },
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
    .example('$0 create --provider hetzner --letsencrypt-domain blog.example.com', 'HTTPS mode: prints the DNS record to create and the `inlets http client` command')
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
