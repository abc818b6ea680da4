/** `inlets tcp server`: flags → TunnelServer, run until SIGINT/SIGTERM. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import type { Logger } from '../log.js';
import { parsePortRanges } from '../port-ranges.js';
import { TunnelServer, type TunnelServerOptions } from '../server/tunnel-server.js';
import { loadOrCreateIdentity } from '../tls/identity-store.js';
import { subjectAltNames } from '../tls/self-signed.js';
import { pinOf } from '../tls/pin.js';
import { FLAG_HELP } from './flag-help.js';
import type { Command } from './program.js';
import { LOG_FLAG, TOKEN_FLAGS, helpText, loggerFrom, parseFlags, readFlagFile, tokenFrom, type FlagSpec } from './shared-flags.js';
import { systemdUnit } from './systemd-unit.js';

const FLAGS = {
  'control-addr': ['ADDR'],
  'control-port': ['PORT'],
  'data-addr': ['ADDR'],
  ...TOKEN_FLAGS,
  'tls-cert': ['FILE'],
  'tls-key': ['FILE'],
  'disable-tls': [''],
  'allow-ports': ['LIST'],
  keepalive: ['SECONDS'],
  'tls-timeout': ['SECONDS'],
  'head-timeout': ['SECONDS'],
  'upgrade-timeout': ['SECONDS'],
  'open-timeout': ['SECONDS'],
  'auth-delay-max': ['SECONDS'],
  'max-unauth': ['N'],
  'max-unauth-per-ip': ['N'],
  ...LOG_FLAG,
} as const;

/** The flags of the extras (see ServerExtras). */
const EXTRA_FLAGS = { 'state-dir': ['DIR'], 'tls-san': ['NAME', '*'], generate: ['systemd'] } as const;

const SUMMARY = 'Accepts tunnel clients on the control port and opens the public ports they advertise.';

/**
 * What only the full program carries. The exit node's build (dist/inlets-server-tcp.mjs) leaves all
 * of it out: inletsctl gives it its key and certificate (so the client can pin them) and its unit.
 */
export interface ServerExtras {
  /** Their flags: `--state-dir`, `--tls-san` and `--generate`. */
  flags: typeof EXTRA_FLAGS;
  /** Usage checks of their flags against the others (UsageError). */
  check(values: { 'tls-san'?: string[]; 'tls-cert'?: string; 'disable-tls'?: boolean }): void;
  /** What the flags do, for --help (FLAG_HELP). */
  help: Record<string, string>;
  /**
   * The TLS identity when neither --tls-cert nor --disable-tls is given: made once, kept in
   * `stateDir`; its certificate names `sans` (--tls-san: DNS names and IPs).
   */
  identity(stateDir: string | undefined, sans: string[], log: Logger): Promise<{ certPem: string; keyPem: string }>;
  /** `--generate systemd`. */
  systemdUnit: typeof systemdUnit;
}

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

/** Limit flags in seconds, as TunnelServerOptions in ms. */
const SECONDS = { 'tls-timeout': 'tlsTimeoutMs', 'head-timeout': 'headTimeoutMs', 'upgrade-timeout': 'upgradeTimeoutMs', 'open-timeout': 'openTimeoutMs', 'auth-delay-max': 'authDelayMaxMs' } as const;
/** Count flags, as TunnelServerOptions. */
const COUNTS = { 'max-unauth': 'maxUnauthenticated', 'max-unauth-per-ip': 'maxUnauthenticatedPerSource' } as const;

/** The pre-authentication and balancing limits given on the command line (PROTOCOL.md §13). */
function limits(v: Partial<Record<keyof typeof FLAGS, unknown>>): Partial<TunnelServerOptions> {
  const o: Record<string, number | undefined> = {};
  for (const [flag, key] of Object.entries(SECONDS)) o[key] = secondsFlag(v[flag as keyof typeof SECONDS] as string | undefined, flag);
  for (const [flag, key] of Object.entries(COUNTS)) {
    const text = v[flag as keyof typeof COUNTS] as string | undefined;
    if (text !== undefined && !/^[1-9]\d{0,6}$/.test(text)) throw new UsageError(`--${flag}: "${text}" is not a count (1-9999999)`);
    o[key] = text ? +text : undefined;
  }
  return o;
}

/**
 * `inlets tcp server` (or `inlets http server` with `http`), with `extras` (`serverCommand`) or
 * without (the exit node's build). `http` turns the HTTP flags into TunnelServerOptions.http.
 */
export function serverCommandWith(extras?: ServerExtras, http?: HttpCommandMode): Command {
  const flags = { ...FLAGS, ...http?.flags, ...extras?.flags } as typeof FLAGS & typeof EXTRA_FLAGS;
  const usage = `${http ? 'http' : 'tcp'} server [flags]`;
  return async (args, stopRequested) => {
    const v = parseFlags(args, flags);
    if (v.help) return void process.stdout.write(extras ? helpText(usage, http?.summary ?? SUMMARY, flags, extras.help) : helpText(usage, `T${LEAN.slice(1)}.`, flags));
    const port = Number(v['control-port'] ?? 8123);
    if (!/^\d+$/.test(v['control-port'] ?? '1') || port > 65535) throw new UsageError(`--control-port: "${v['control-port']}" is not a port`);
    const keepalive = secondsFlag(v.keepalive, 'keepalive');
    const allowPorts = v['allow-ports'] === undefined ? undefined : parsePortRanges(v['allow-ports']);
    const cert = v['tls-cert'];
    const key = v['tls-key'];
    if (v['disable-tls'] && (cert || key)) throw new UsageError('--disable-tls and --tls-cert/--tls-key exclude each other');
    if (!cert !== !key) throw new UsageError('--tls-cert and --tls-key go together');
    extras?.check(v);
    const log = loggerFrom(v);
    if (v.generate !== undefined) return void process.stdout.write(extras!.systemdUnit(v.generate, { role: 'server', mode: http ? 'http' : 'tcp', values: v }));
    const httpOptions = http && (await http.options(v, v['state-dir'] ?? defaultStateDir(), log));
    const token = await tokenFrom(v, log);
    let tls: { certPem: string; keyPem: string } | null = null;
    if (cert && key) {
      tls = { certPem: await readFlagFile('tls-cert', cert), keyPem: await readFlagFile('tls-key', key) };
    } else if (!v['disable-tls']) {
      if (!extras) throw new UsageError(LEAN);
      tls = await extras.identity(v['state-dir'], v['tls-san'] ?? [], log);
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
      ...limits(v),
      http: httpOptions?.options,
      logger: log,
    });
    await server.start();
    httpOptions?.start();
    if (tls) process.stdout.write(`TLS public key pin: ${pinOf(tls.certPem)}\n`);
    else log.warn('--disable-tls: plain HTTP on the control port; put a TLS proxy in front');
    await stopRequested;
    log.info('stopping');
    httpOptions?.stop();
    await server.stop();
  };
}

/**
 * `inlets http server` (http-mode.ts): its own flags, and their values → the server's `http`
 * option plus what starts and stops with the server (the certificate manager). UsageError for
 * bad values, before anything starts.
 */
export interface HttpCommandMode {
  flags: Record<string, FlagSpec>;
  summary: string;
  options(v: Record<string, unknown>, stateDir: string, log: Logger): Promise<{ options: NonNullable<TunnelServerOptions['http']>; start(): void; stop(): void }>;
}

/** Why the exit node's build asks for more. */
const LEAN = "the exit node's inlets needs --tls-cert and --tls-key, or --disable-tls";

/** What the full program adds to the server commands. */
export const FULL_EXTRAS: ServerExtras = {
  flags: EXTRA_FLAGS,
  help: FLAG_HELP,
  check(v) {
    if (v['tls-san'] && (v['tls-cert'] || v['disable-tls'])) throw new UsageError('--tls-san names go into the generated certificate: not with --tls-cert or --disable-tls');
  },
  async identity(stateDir = defaultStateDir(), sans, log) {
    const id = await loadOrCreateIdentity(stateDir, subjectAltNames(sans));
    if (id.created) log.info(`wrote a self-signed TLS certificate${sans.length ? ` for ${sans.join(', ')}` : ''} in ${stateDir}`);
    return id;
  },
  systemdUnit,
};

/** The full `inlets tcp server`. */
export const serverCommand: Command = /* @__PURE__ */ serverCommandWith(FULL_EXTRAS);

/** Its help text. */
export const SERVER_HELP = /* @__PURE__ */ helpText('tcp server [flags]', SUMMARY, /* @__PURE__ */ Object.assign({}, FLAGS, EXTRA_FLAGS), FLAG_HELP);
