/** `inlets tcp client`: flags → TunnelClient, run until a signal or a fatal error. */
import { UsageError } from '../../errors.js';
import { TunnelClient } from '../client/tunnel-client.js';
import { describeUpstreams, parseUpstreams } from '../client/upstream-map.js';
import { parseHttpUpstreams } from '../client/http-upstreams.js';
import { parseHostHeader } from '../client/host-header.js';
import { GENERATE_FLAG, LOG_FLAG, TOKEN_FLAGS, TRUST_FLAGS, helpText, loggerFrom, parseFlags, readFlagFile, tokenFrom, trustFrom } from './shared-flags.js';
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
  const id = clientIdFrom(v);
  const log = loggerFrom(v);
  if (v.generate !== undefined) return void process.stdout.write(systemdUnit(v.generate, { role: 'client', values: v }));
  const token = await tokenFrom(v, log);
  const client = new TunnelClient({ url: v.url, token, clientId: id, trust, upstreams, logger: log });
  log.info(`client ${client.clientId}: ${describeUpstreams(upstreams)}`);
  await runClient(client, stopRequested);
}

/** `--client-id`, checked (PROTOCOL.md §2: 1-64 characters of `[A-Za-z0-9._-]`). */
function clientIdFrom(v: { 'client-id'?: string }): string | undefined {
  const id = v['client-id'];
  if (id !== undefined && !/^[\w.-]{1,64}$/.test(id)) throw new UsageError(`--client-id: "${id}" must be 1-64 characters of A-Z a-z 0-9 . _ -`);
  return id;
}

/** Runs `client` until a signal or a fatal error; rethrows the fatal error after stopping. */
async function runClient(client: TunnelClient, stopRequested: Promise<unknown>): Promise<void> {
  const fatal = new Promise<Error>((resolve) => client.once('fatal', resolve));
  client.start();
  const outcome = await Promise.race([fatal, stopRequested.then(() => undefined)]);
  await client.stop();
  if (outcome instanceof Error) throw outcome;
}

const HTTP_FLAGS = {
  url: ['URL'],
  ...TOKEN_FLAGS,
  ...TRUST_FLAGS,
  upstream: ['[HOST=]URL', '*'],
  'upstream-ca': ['FILE'],
  'upstream-insecure': [''],
  'host-header': ['HOST'],
  'client-id': ['ID'],
  ...LOG_FLAG,
  ...GENERATE_FLAG,
} as const;

export const HTTP_CLIENT_HELP = helpText(
  'http client --url wss://HOST:8123 [flags]',
  'Connects to an inlets http server and serves the host names it advertises from local HTTP(S) upstreams.',
  HTTP_FLAGS,
  { ...FLAG_HELP, upstream: FLAG_HELP['http-upstream'] },
  `
Example: inlets http client --url wss://203.0.113.10:8123 --token-file ./token \\
  --tls-pin sha256:... --upstream blog.example.com=http://127.0.0.1:3000 --upstream 2222=127.0.0.1:22
`,
);

/** `inlets http client`: hosts (and TCP ports) → TunnelClient in HTTP mode. */
export async function httpClientCommand(args: string[], stopRequested: Promise<unknown>): Promise<void> {
  const v = parseFlags(args, HTTP_FLAGS);
  if (v.help) return void process.stdout.write(HTTP_CLIENT_HELP);
  const { hosts, ports } = parseHttpUpstreams(v.upstream ?? []);
  const hostHeader = parseHostHeader(v['host-header']);
  if (!v.url) throw new UsageError('--url is required, e.g. --url wss://203.0.113.10:8123');
  if (v['upstream-ca'] && v['upstream-insecure']) throw new UsageError('--upstream-ca and --upstream-insecure exclude each other');
  const trust = await trustFrom(v, v.url);
  const id = clientIdFrom(v);
  const log = loggerFrom(v);
  if (v.generate !== undefined) return void process.stdout.write(systemdUnit(v.generate, { role: 'client', mode: 'http', values: v }));
  const upstreamCa = v['upstream-ca'] ? await readFlagFile('upstream-ca', v['upstream-ca']) : undefined;
  if (v['upstream-insecure']) log.warn('--upstream-insecure: https upstreams are not verified');
  const token = await tokenFrom(v, log);
  const client = new TunnelClient({ url: v.url, token, clientId: id, trust, upstreams: ports, hosts, upstreamCa, upstreamInsecure: v['upstream-insecure'], hostHeader, logger: log });
  const described = [...hosts].map(([h, u]) => `${h} → ${u.tls ? 'https' : 'http'}://${u.host.includes(':') ? `[${u.host}]` : u.host}:${u.port}`);
  log.info(`client ${client.clientId}: ${[...described, ...(ports.size ? [describeUpstreams(ports)] : [])].join(', ')}`);
  await runClient(client, stopRequested);
}
