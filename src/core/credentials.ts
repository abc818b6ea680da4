/**
 * Resolves a provider's {@link CredentialSpec} from flags, files and the environment.
 *
 * For each secret flag F the provider names (for example `access-token`): the value of `--F`, else
 * the contents of the file given by `--F-file` (trailing whitespace trimmed), else the first
 * non-empty environment variable of `spec.env` (first secret flag) or `spec.envOf[F]` (the others), in order. Values are
 * never logged and never put in messages; messages name flags, files and variables only.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { CredentialSpec } from './provider.js';

/** The credential flags every provider may use, declared once on the command line. */
export const STANDARD_CREDENTIAL_FLAGS = ['access-token', 'access-token-file', 'secret-key', 'secret-key-file'] as const;

export interface ResolvedCredentials {
  /**
   * By secret flag name: the secret, or undefined. When a `-file` flag was used, its path is also
   * given under that flag's own name (for SDKs that want a key file path).
   */
  values: Record<string, string | undefined>;
  /** Flags the user gave that this provider does not read (worth a warning). */
  unused: string[];
}

/** The flags holding secrets directly (not the `-file` forms), in the provider's order. */
export function secretFlags(spec: CredentialSpec): string[] {
  return spec.flags.filter((f) => !f.endsWith('-file'));
}

/**
 * Reads the credentials of `spec` from parsed arguments and the environment.
 * @throws UsageError `CREDENTIAL_FILE` when a `-file` flag names a file that cannot be read.
 */
export async function resolveCredentials(
  spec: CredentialSpec,
  args: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedCredentials> {
  const values: Record<string, string | undefined> = {};
  const secrets = secretFlags(spec);
  for (const [index, flag] of secrets.entries()) {
    const fileFlag = `${flag}-file`;
    let value = nonEmpty(args[flag]);
    const file = nonEmpty(args[fileFlag]);
    if (value === undefined && file !== undefined && spec.flags.includes(fileFlag)) {
      value = await readSecretFile(file, fileFlag);
      values[fileFlag] = file;
    }
    if (value === undefined) {
      const names = index === 0 ? spec.env : (spec.envOf?.[flag] ?? []);
      value = names.map((name) => nonEmpty(env[name])).find((v) => v !== undefined);
    }
    values[flag] = value;
  }
  const known = new Set(spec.flags);
  const unused = [...STANDARD_CREDENTIAL_FLAGS, ...spec.flags].filter((f, i, all) => all.indexOf(f) === i && !known.has(f) && nonEmpty(args[f]) !== undefined);
  return { values, unused };
}

/**
 * One line saying how to supply the main credential, for "missing" messages:
 * `--access-token, --access-token-file or $DIGITALOCEAN_TOKEN (create a token under API → Tokens)`.
 */
export function describeCredential(spec: CredentialSpec): string {
  const alt = spec.alternatives;
  const ways = [...spec.flags.map((f) => `--${f}`), ...spec.env.map((e) => `$${e}`), ...(alt?.env ?? []).map((e) => `$${e}`), ...(alt?.files ?? [])];
  const list = ways.length > 1 ? `${ways.slice(0, -1).join(', ')} or ${ways[ways.length - 1]}` : ways.join('');
  return spec.howTo ? `${list} (${spec.howTo})` : list;
}

/**
 * True when the provider needs a credential and none was found: not by its flags and variables
 * (the first secret flag, or any of `spec.sufficient`), nor in the SDK's own places
 * (`spec.alternatives`, checked for presence only).
 */
export function credentialMissing(spec: CredentialSpec, resolved: ResolvedCredentials, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!spec.required) return false;
  const primary = secretFlags(spec)[0];
  const enough = spec.sufficient ?? (primary === undefined ? [] : [primary]);
  if (enough.some((flag) => resolved.values[flag] !== undefined)) return false;
  if (primary === undefined && !spec.alternatives) return false;
  const alt = spec.alternatives;
  if (alt?.env?.some((name) => nonEmpty(env[name]) !== undefined)) return false;
  const home = env.HOME ?? env.USERPROFILE ?? homedir();
  if (alt?.files?.some((f) => existsSync(f.startsWith('~/') ? join(home, f.slice(2)) : f))) return false;
  return true;
}

/**
 * Refuses two sources for one secret (`--access-token` with `--access-token-file`): which one
 * wins would be a guess.
 * @throws UsageError `CONFLICTING_CREDENTIALS`
 */
export function refuseConflictingCredentials(spec: CredentialSpec, args: Record<string, unknown>): void {
  for (const flag of secretFlags(spec)) {
    const file = `${flag}-file`;
    if (spec.flags.includes(file) && nonEmpty(args[flag]) !== undefined && nonEmpty(args[file]) !== undefined) {
      throw new UsageError(`give --${flag} or --${file}, not both`, 'CONFLICTING_CREDENTIALS');
    }
  }
}

async function readSecretFile(path: string, flag: string): Promise<string> {
  try {
    const text = (await readFile(path, 'utf8')).trimEnd();
    if (!text) throw new UsageError(`--${flag} ${path} is empty`, 'CREDENTIAL_FILE');
    return text;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`cannot read --${flag} ${path} (${code})`, 'CREDENTIAL_FILE');
  }
}

function nonEmpty(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  return v.length > 0 ? v : undefined;
}
