/**
 * The shared secret (PROTOCOL.md §3): where it comes from, how it is compared, how it is read
 * from a request. The token's value never appears in a message.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { UsageError } from '../errors.js';

export interface TokenSources {
  /** `--token VALUE` (visible in the process list; prefer the others). */
  token?: string;
  /** `--token-file PATH`: the file's content without its trailing newline. */
  tokenFile?: string;
  /** `--token-env NAME`: the value of that environment variable. */
  tokenEnv?: string;
}

/**
 * Resolves the token: --token, then --token-file, then --token-env NAME, then INLETS_TOKEN.
 * Throws UsageError TOKEN_EMPTY (found but empty), TOKEN_MISSING (none given) or
 * TOKEN_FILE_UNREADABLE.
 */
export function resolveToken(sources: TokenSources, env: NodeJS.ProcessEnv = process.env): string {
  let value: string | undefined;
  let from: string;
  if (sources.token !== undefined) {
    value = sources.token;
    from = '--token';
  } else if (sources.tokenFile !== undefined) {
    from = `--token-file ${sources.tokenFile}`;
    try {
      value = readFileSync(sources.tokenFile, 'utf8').replace(/(\r?\n)+$/, '');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new UsageError(`cannot read the token file ${sources.tokenFile}: ${reason}`, 'TOKEN_FILE_UNREADABLE');
    }
  } else if (sources.tokenEnv !== undefined) {
    from = `--token-env ${sources.tokenEnv}`;
    value = env[sources.tokenEnv];
    if (value === undefined) {
      throw new UsageError(`--token-env: $${sources.tokenEnv} is not set`, 'TOKEN_MISSING');
    }
  } else {
    from = 'INLETS_TOKEN';
    value = env.INLETS_TOKEN;
    if (value === undefined) {
      throw new UsageError('no token given: use --token-file, --token-env NAME, --token, or set INLETS_TOKEN', 'TOKEN_MISSING');
    }
  }
  if (value === '') throw new UsageError(`the token is empty (from ${from}); an empty token is never accepted`, 'TOKEN_EMPTY');
  return value;
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Compares an offered token with the expected one in constant time: SHA-256 digests of both are
 * compared, so neither content nor length leaks through timing. False when either is empty.
 */
export function tokenMatches(offered: string | undefined, expected: string): boolean {
  if (!offered || !expected) return false;
  return timingSafeEqual(digest(offered), digest(expected));
}

/** The token of an `Authorization: Bearer <token>` header; undefined when there is none. */
export function bearerToken(req: { headers: IncomingHttpHeaders }): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer(?:\s+(.*))?$/i.exec(header.trim());
  return match ? (match[1] ?? '').trim() : undefined;
}
