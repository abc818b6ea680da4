/** `inlets tcp client`: flags → TunnelClient, run until a signal or a fatal error. */
import { UsageError } from '../../errors.js';
import { TunnelClient } from '../client/tunnel-client.js';
import { describeUpstreams, parseUpstreams } from '../client/upstream-map.js';
import { GENERATE_FLAG, LOG_FLAG, TOKEN_FLAGS, TRUST_FLAGS, helpText, loggerFrom, parseFlags, tokenFrom, trustFrom } from './shared-flags.js';
import { FLAG_HELP } from './flag-help.js';
import { systemdUnit } from './systemd-unit.js';

const FLAGS = {
  url: ['URL'],
  ...TOKEN_FLAGS,
  ...TRUST_FLAGS,
  upstream: ['HOST', '*'],
  ports: ['LIST', '*'],
  port: ['P', '*'],
  'client-id': ['ID'],
  ...LOG_FLAG,
  ...GENERATE_FLAG,
} as const;

export const CLIENT_HELP = helpText(
  'tcp client --url wss://HOST:8123 [flags]',
  'Connects to an inlets server and serves the public ports it advertises from local upstreams.',
  FLAGS,
  FLAG_HELP,
  `
Example: inlets tcp client --url wss://203.0.113.10:8123 --token-file ./token \\
  --tls-pin sha256:... --upstream 127.0.0.1 --ports 80,443 --upstream 2222=192.168.1.10:22
`,
);

export async function clientCommand(args: string[], stopRequested: Promise<unknown>): Promise<void> {
  const v = parseFlags(args, FLAGS);
  if (v.help) return void process.stdout.write(CLIENT_HELP);
  const upstreams = parseUpstreams(v.upstream ?? [], [...(v.ports ?? []), ...(v.port ?? [])]);
  if (!v.url) throw new UsageError('--url is required, e.g. --url wss://203.0.113.10:8123');
  const trust = await trustFrom(v, v.url);
  const id = v['client-id'];
  if (id !== undefined && !/^[\w.-]{1,64}$/.test(id)) throw new UsageError(`--client-id: "${id}" must be 1-64 characters of A-Z a-z 0-9 . _ -`);
  const log = loggerFrom(v);
  if (v.generate !== undefined) return void process.stdout.write(systemdUnit(v.generate, { role: 'client', values: v }));
  const token = await tokenFrom(v, log);
  const client = new TunnelClient({ url: v.url, token, clientId: v['client-id'], trust, upstreams, logger: log });
  log.info(`client ${client.clientId}: ${describeUpstreams(upstreams)}`);
  const fatal = new Promise<Error>((resolve) => client.once('fatal', resolve));
  client.start();
  const outcome = await Promise.race([fatal, stopRequested.then(() => undefined)]);
  await client.stop();
  if (outcome instanceof Error) throw outcome;
}
