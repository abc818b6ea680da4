/**
 * Shared flags for commands that talk to a provider: which one, where, credentials, API URL, and
 * every provider's own extra flags (declared from the registry's descriptions, so `--strict`
 * parsing knows them without loading any provider implementation).
 */
import type { Argv, Options } from 'yargs';
import { STANDARD_CREDENTIAL_FLAGS } from '../../core/credentials.js';
import type { ProviderRegistry } from '../../core/registry.js';

const PROVIDER_GROUP = 'Provider:';
const CREDENTIAL_GROUP = 'Credentials:';

/** Flags every provider command declares itself; a provider's extra flag of the same name is not redeclared. */
const GENERIC_FLAGS = new Set<string>(['provider', 'region', 'plan', 'zone', 'api-url', ...STANDARD_CREDENTIAL_FLAGS]);

export interface ProviderOptionsConfig {
  /** `create` defaults --provider to the registry's default; delete and list read it from state. */
  defaultProvider: boolean;
  /** Add --region, --plan, --zone (create only). */
  placement: boolean;
}

/** Adds the provider, credential and extra flags to `y`. */
export function withProviderOptions(y: Argv, registry: ProviderRegistry, config: ProviderOptionsConfig): Argv {
  const names = registry.names();
  // Short flags as the Go inletsctl has them (-p -r -z -s -a -f), so its users' commands work.
  const options: Record<string, Options> = {
    provider: {
      type: 'string',
      alias: 'p',
      choices: names,
      // No yargs default: on a terminal an absent --provider is asked for.
      describe: config.defaultProvider
        ? `Where to create the exit server (default: ${registry.defaultName}; asked on a terminal)`
        : 'Provider to ask (default: the one recorded in state)',
      group: PROVIDER_GROUP,
    },
    'api-url': {
      type: 'string',
      describe: "Base URL of the provider's API (fakes, proxies, compatible endpoints)",
      group: PROVIDER_GROUP,
    },
  };
  if (config.placement) {
    options.region = { type: 'string', alias: 'r', describe: "Region (default: the provider's default; see: inletsctl providers)", group: PROVIDER_GROUP };
    options.plan = { type: 'string', alias: 's', describe: 'Plan, size or instance type (default: the cheapest suitable one)', group: PROVIDER_GROUP };
    options.zone = { type: 'string', alias: 'z', describe: 'Zone, for providers that use one', group: PROVIDER_GROUP };
  }
  options['access-token'] = { type: 'string', alias: 'a', describe: 'API token, or key id (also from each provider\'s env vars)', group: CREDENTIAL_GROUP };
  options['access-token-file'] = { type: 'string', alias: 'f', describe: 'Read the access token from this file', group: CREDENTIAL_GROUP };
  options['secret-key'] = { type: 'string', describe: 'Secret key, for providers that use key pairs', group: CREDENTIAL_GROUP };
  options['secret-key-file'] = { type: 'string', describe: 'Read the secret key from this file', group: CREDENTIAL_GROUP };

  // Credential flags beyond the standard four, then extra flags, from every provider.
  const owners = new Map<string, string[]>();
  for (const d of registry.descriptions()) {
    for (const flag of d.credentials.flags) {
      if (options[flag]) continue;
      options[flag] = { type: 'string', describe: `Credential for ${d.name}`, group: CREDENTIAL_GROUP };
    }
    for (const [flag, spec] of Object.entries(d.extraFlags)) {
      owners.set(flag, [...(owners.get(flag) ?? []), d.name]);
      if (GENERIC_FLAGS.has(flag) || options[flag]) continue;
      const extras = [spec.env ? `env ${spec.env}` : '', spec.default !== undefined ? `default ${String(spec.default)}` : ''].filter(Boolean);
      options[flag] = {
        type: spec.type,
        // No yargs default: the environment variable must be able to fill an absent flag first.
        describe: `${spec.describe}${extras.length ? ` (${extras.join('; ')})` : ''}`,
        group: PROVIDER_GROUP,
      };
    }
  }
  for (const [flag, providerNames] of owners) {
    const o = options[flag];
    if (o && !GENERIC_FLAGS.has(flag)) o.describe = `${String(o.describe)} [${providerNames.join(', ')}]`;
  }
  return y.options(options) as unknown as Argv;
}
