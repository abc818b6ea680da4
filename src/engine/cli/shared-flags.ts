/** Flags and helpers shared by the `inlets` commands: one table per command, parsing, token, TLS trust, logging. */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../../errors.js';
import { createLogger, type Logger, type LogLevel } from '../log.js';
import { parsePin } from '../tls/pin.js';
import { resolveToken } from '../token.js';
import { parseEndpoint } from '../transport/http-head.js';
import type { TlsTrust } from '../tls/tls-connect.js';

/** One flag: the name of its value in the help ('' for a switch), and '*' when it may be repeated. */
export type FlagSpec = readonly [value: string, repeat?: '*'];

export const TOKEN_FLAGS = { token: ['TOKEN'], 'token-file': ['FILE'], 'token-env': ['NAME'] } as const satisfies Record<string, FlagSpec>;
export const TRUST_FLAGS = { 'tls-pin': ['sha256:HEX'], 'tls-ca': ['FILE'], 'tls-insecure': [''] } as const satisfies Record<string, FlagSpec>;
export const LOG_FLAG = { 'log-level': ['LEVEL'] } as const satisfies Record<string, FlagSpec>;
export const GENERATE_FLAG = { generate: ['systemd'] } as const satisfies Record<string, FlagSpec>;

type Values<T extends Record<string, FlagSpec>> = {
  [K in keyof T]?: T[K][0] extends '' ? boolean : T[K][1] extends '*' ? string[] : string;
} & { help?: boolean };

/**
 * `Usage: …`, the summary, and one aligned line per flag (`--help` itself is implied) with what
 * `help` (FLAG_HELP, or nothing in the exit node's build) says it does.
 */
export function helpText(usage: string, summary: string, flags: Record<string, FlagSpec>, help: Record<string, string> = {}, footer = ''): string {
  const lines = Object.entries(flags).map(([name, [value]]) => {
    const head = `  --${name}${value && ` ${value}`}`;
    return `${head.padEnd(23)} ${(help[name] ?? '').replace(/\n/g, `\n${' '.repeat(24)}`)}`.trimEnd();
  });
  return `Usage: inlets ${usage}\n\n${summary}\n\n${lines.join('\n')}\n${footer}`;
}

/** `parseArgs` in strict mode over a flag table (plus `--help`/`-h`), its errors turned into UsageErrors. */
export function parseFlags<T extends Record<string, FlagSpec>>(args: string[], flags: T): Values<T> {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, [value, repeat]] of Object.entries(flags)) options[name] = { type: value ? 'string' : 'boolean', multiple: !!repeat };
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Values<T>;
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
}

type TokenValues = { token?: string; 'token-file'?: string; 'token-env'?: string };

/** The token from `--token`, `--token-file` or `--token-env` (warning about `--token`). */
export async function tokenFrom(values: TokenValues, log: Logger): Promise<string> {
  if (values.token !== undefined) log.warn('--token is visible to every user in the process list; prefer --token-file or --token-env');
  return resolveToken({ token: values.token, tokenFile: values['token-file'], tokenEnv: values['token-env'] }, process.env);
}

/** Reads the file a flag names; UsageError naming the flag when it cannot. */
export function readFlagFile(flag: string, path: string): Promise<string> {
  return readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`--${flag} ${path}: ${err.code ?? err.message}`);
  });
}

/** The TLS trust for `url` from `--tls-pin`, `--tls-ca`, `--tls-insecure`. */
export async function trustFrom(values: { 'tls-pin'?: string; 'tls-ca'?: string; 'tls-insecure'?: boolean }, url: string): Promise<TlsTrust> {
  const given = Object.keys(TRUST_FLAGS).filter((k) => values[k as keyof typeof values] !== undefined);
  if (given.length > 1) throw new UsageError(`--${given.join(' and --')} exclude each other`);
  const plain = !parseEndpoint(url).tls;
  if (plain && given.length) throw new UsageError(`--${given[0]} has no effect on a URL without TLS (${url})`);
  return {
    disableTls: plain || undefined,
    pin: values['tls-pin'] === undefined ? undefined : parsePin(values['tls-pin']),
    caPem: values['tls-ca'] ? await readFlagFile('tls-ca', values['tls-ca']) : undefined,
    insecure: values['tls-insecure'] || undefined,
  };
}

/** A stderr logger at `--log-level` (default info). */
export function loggerFrom(values: { 'log-level'?: string }): Logger {
  const level = values['log-level'] ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level: "${level}" is not one of debug, info, warn, error`);
  return createLogger(level as LogLevel);
}
