/** Flags and helpers shared by the `inlets` commands: parsing, token, TLS trust, logging. */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../../errors.js';
import { createLogger, type Logger, type LogLevel } from '../log.js';
import { parsePin } from '../tls/pin.js';
import { resolveToken } from '../token.js';
import { parseEndpoint } from '../transport/http-head.js';
import type { TlsTrust } from '../tls/tls-connect.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export const TOKEN_FLAGS = {
  token: { type: 'string' },
  'token-file': { type: 'string' },
  'token-env': { type: 'string' },
} satisfies Options;

export const TRUST_FLAGS = {
  'tls-pin': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-insecure': { type: 'boolean' },
} satisfies Options;

export const COMMON_FLAGS = {
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} satisfies Options;

export const TOKEN_HELP = `  --token TOKEN         the shared secret (visible in the process list: prefer the next two)
  --token-file FILE     read the token from FILE
  --token-env NAME      read the token from environment variable NAME`;

export const TRUST_HELP = `  --tls-pin sha256:HEX  trust exactly the server key with this pin
  --tls-ca FILE         verify the server certificate against this CA
  --tls-insecure        do not verify the server at all`;

/** `parseArgs` in strict mode, its errors turned into UsageErrors. */
export function parseFlags<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
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

/** The TLS trust for `url` from `--tls-pin`, `--tls-ca`, `--tls-insecure`. */
export async function trustFrom(values: { 'tls-pin'?: string; 'tls-ca'?: string; 'tls-insecure'?: boolean }, url: string): Promise<TlsTrust> {
  const given = ['tls-pin', 'tls-ca', 'tls-insecure'].filter((k) => values[k as keyof typeof values] !== undefined);
  if (given.length > 1) throw new UsageError(`--${given.join(' and --')} exclude each other`);
  const plain = !parseEndpoint(url).tls;
  if (plain && given.length) throw new UsageError(`--${given[0]} has no effect on a URL without TLS (${url})`);
  let caPem: string | undefined;
  if (values['tls-ca']) {
    try {
      caPem = await readFile(values['tls-ca'], 'utf8');
    } catch (err) {
      throw new UsageError(`--tls-ca ${values['tls-ca']}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return {
    disableTls: plain || undefined,
    pin: values['tls-pin'] === undefined ? undefined : parsePin(values['tls-pin']),
    caPem,
    insecure: values['tls-insecure'] || undefined,
  };
}

/** A stderr logger at `--log-level` (default info). */
export function loggerFrom(values: { 'log-level'?: string }): Logger {
  const level = values['log-level'] ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level: "${level}" is not one of debug, info, warn, error`);
  return createLogger(level as LogLevel);
}
