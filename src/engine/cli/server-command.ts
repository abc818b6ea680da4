/** `inlets tcp server`: flags → TunnelServer, run until SIGINT/SIGTERM. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { parsePortRanges } from '../port-ranges.js';
import { TunnelServer } from '../server/tunnel-server.js';
import { loadOrCreateIdentity } from '../tls/identity-store.js';
import { pinOf } from '../tls/pin.js';
import { GENERATE_FLAG, LOG_FLAG, TOKEN_FLAGS, helpText, loggerFrom, parseFlags, readFlagFile, tokenFrom } from './shared-flags.js';
import { systemdUnit } from './systemd-unit.js';

const FLAGS = {
  'control-addr': ['ADDR', 'control plane address (default 0.0.0.0)'],
  'control-port': ['PORT', 'control plane port (default 8123)'],
  'data-addr': ['ADDR', 'address the public ports bind to (default 0.0.0.0)'],
  ...TOKEN_FLAGS,
  'tls-cert': ['FILE', 'serve this certificate (with --tls-key) instead of the generated one'],
  'tls-key': ['FILE', "the certificate's private key"],
  'disable-tls': ['', 'plain HTTP on the control port, behind a TLS-terminating proxy'],
  'state-dir': ['DIR', 'keeps the generated key and certificate (default $INLETS_STATE_DIR,\n/var/lib/inlets as root, else ~/.local/state/inlets)'],
  'allow-ports': ['LIST', 'ports clients may open, e.g. 1024-65535,80,443 (default all)'],
  keepalive: ['SECONDS', 'ping interval (default 10; a peer silent 3 intervals is dropped)'],
  ...LOG_FLAG,
  ...GENERATE_FLAG,
} as const;

export const SERVER_HELP = helpText('tcp server [flags]', 'Accepts tunnel clients on the control port and opens the public ports they advertise.', FLAGS);

/** Where the generated key and certificate live. */
export function defaultStateDir(env = process.env): string {
  if (env.INLETS_STATE_DIR) return env.INLETS_STATE_DIR;
  if (process.getuid?.() === 0) return '/var/lib/inlets';
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'inlets');
}

/** Parses a number of seconds into ms; UsageError names the flag. */
export function secondsFlag(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!(n > 0 && n <= 3600)) throw new UsageError(`--${flag}: "${text}" is not a number of seconds (0-3600)`);
  return n * 1000;
}

export async function serverCommand(args: string[], stopRequested: Promise<unknown>): Promise<void> {
  const v = parseFlags(args, FLAGS);
  if (v.help) return void process.stdout.write(SERVER_HELP);
  const port = Number(v['control-port'] ?? 8123);
  if (!/^\d+$/.test(v['control-port'] ?? '1') || port > 65535) throw new UsageError(`--control-port: "${v['control-port']}" is not a port`);
  const keepalive = secondsFlag(v.keepalive, 'keepalive');
  const allowPorts = v['allow-ports'] === undefined ? undefined : parsePortRanges(v['allow-ports']);
  const cert = v['tls-cert'];
  const key = v['tls-key'];
  if (v['disable-tls'] && (cert || key)) throw new UsageError('--disable-tls and --tls-cert/--tls-key exclude each other');
  if (!cert !== !key) throw new UsageError('--tls-cert and --tls-key go together');
  const log = loggerFrom(v);
  if (v.generate !== undefined) return void process.stdout.write(systemdUnit(v.generate, { role: 'server', values: v }));
  const token = await tokenFrom(v, log);
  let tls: { certPem: string; keyPem: string } | null = null;
  if (cert && key) {
    tls = { certPem: await readFlagFile('tls-cert', cert), keyPem: await readFlagFile('tls-key', key) };
  } else if (!v['disable-tls']) {
    const stateDir = v['state-dir'] ?? defaultStateDir();
    const id = await loadOrCreateIdentity(stateDir);
    if (id.created) log.info(`generated a TLS key and self-signed certificate in ${stateDir}`);
    tls = id;
  }
  const server = new TunnelServer({
    token,
    controlAddr: v['control-addr'],
    controlPort: port,
    dataAddr: v['data-addr'],
    tls,
    allowPorts,
    keepaliveIntervalMs: keepalive,
    keepaliveTimeoutMs: keepalive && keepalive * 3,
    logger: log,
  });
  await server.start();
  if (tls) process.stdout.write(`TLS public key pin: ${pinOf(tls.certPem)}\n`);
  else log.warn('--disable-tls: the control port speaks plain HTTP; put a TLS-terminating proxy in front of it');
  await stopRequested;
  log.info('stopping');
  await server.stop();
}
