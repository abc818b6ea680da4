/**
 * Builds the {@link ProviderContext} for a command from flags, the environment and (for delete and
 * list) the state record: credentials, API URL, the provider's extra flags, its state directory.
 */
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { credentialMissing, describeCredential, refuseConflictingCredentials, resolveCredentials, secretFlags } from '../../core/credentials.js';
import { warn } from '../../core/output.js';
import type { ProviderContext, ProviderDescription } from '../../core/provider.js';
import { configDir, type TunnelRecord } from '../../core/state-store.js';
import { askSecret } from './interactive.js';

export interface ContextResult {
  ctx: ProviderContext;
  /** Non-secret option values to keep in state (the provider's extra flags). */
  options: Record<string, string | number | boolean>;
  /** What is missing, one line each, when nothing could be asked. */
  missing: string[];
}

/**
 * @param interactive ask for a missing required credential (on a terminal only)
 * @param needCredentials false for dry runs: a missing credential is then not "missing"
 */
export async function buildProviderContext(
  description: ProviderDescription,
  args: Record<string, unknown>,
  options: { env?: NodeJS.ProcessEnv; record?: TunnelRecord; interactive: boolean; needCredentials: boolean },
): Promise<ContextResult> {
  const env = options.env ?? process.env;
  refuseConflictingCredentials(description.credentials, args);
  const apiUrl = str(args['api-url']) ?? (description.apiUrlEnv ? str(env[description.apiUrlEnv]) : undefined) ?? options.record?.apiUrl;
  if (apiUrl !== undefined) checkApiUrl(apiUrl, str(args['api-url']) !== undefined ? '--api-url' : description.apiUrlEnv && env[description.apiUrlEnv] ? `$${description.apiUrlEnv}` : 'the API URL in state');
  const resolved = await resolveCredentials(description.credentials, args, env);
  for (const flag of resolved.unused) warn(`--${flag} is not used by provider ${description.name}`);
  const missing: string[] = [];
  if (options.needCredentials && credentialMissing(description.credentials, resolved, env)) {
    const primary = secretFlags(description.credentials)[0];
    if (options.interactive && primary !== undefined) {
      resolved.values[primary] = await askSecret(`${description.title} ${primary.replace(/-/g, ' ')} (${description.credentials.howTo})`);
    } else {
      missing.push(`${description.name} credentials: ${describeCredential(description.credentials)}`);
    }
  }

  const values: Record<string, string | number | boolean> = {};
  const stored = options.record?.options ?? {};
  for (const [flag, spec] of Object.entries(description.extraFlags)) {
    const fromArgs = args[flag];
    let value: string | number | boolean | undefined =
      fromArgs === undefined || fromArgs === '' ? undefined : (fromArgs as string | number | boolean);
    if (value === undefined && spec.env && env[spec.env]) value = coerce(env[spec.env]!, spec.type, `$${spec.env}`);
    if (value === undefined) value = stored[flag];
    if (value === undefined) value = spec.default;
    if (value !== undefined) values[flag] = value;
  }
  return {
    ctx: {
      credentials: resolved.values,
      apiUrl,
      options: values,
      stateDir: join(configDir(env), 'providers', description.name),
    },
    options: values,
    missing,
  };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function coerce(text: string, type: 'string' | 'number' | 'boolean', source: string): string | number | boolean {
  if (type === 'string') return text;
  if (type === 'number') {
    const n = Number(text);
    if (!Number.isFinite(n)) throw new UsageError(`${source} must be a number`, 'BAD_ENV');
    return n;
  }
  if (/^(1|true|yes|on)$/i.test(text)) return true;
  if (/^(0|false|no|off)$/i.test(text)) return false;
  throw new UsageError(`${source} must be true or false`, 'BAD_ENV');
}

/**
 * An API base URL must be an absolute http(s) URL: anything else fails here, before any work.
 * @throws UsageError `BAD_API_URL`
 */
export function checkApiUrl(url: string, source: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.hostname) {
    throw new UsageError(`${source} must be an http:// or https:// URL, like https://api.example.com (got something else)`, 'BAD_API_URL');
  }
}
