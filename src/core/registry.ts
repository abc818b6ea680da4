/**
 * The provider registry: providers/index.ts, plus (for tests and development) provider modules
 * named by `INLETSCTL_EXTRA_PROVIDERS`, a list of module paths separated by the platform's path
 * delimiter, each exporting `providers: ProviderModule[]`.
 *
 * Nothing here branches on a provider's name: a provider is found by the `name` it describes.
 */
import { delimiter, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CodedError, UsageError } from '../errors.js';
import { defaultProvider, providers as builtIn } from '../../providers/index.js';
import type { Provider, ProviderContext, ProviderDescription, ProviderModule } from './provider.js';

/** Environment variable naming extra provider modules to load (tests use it to inject fakes). */
export const EXTRA_PROVIDERS_ENV = 'INLETSCTL_EXTRA_PROVIDERS';

export class ProviderRegistry {
  private readonly modules = new Map<string, ProviderModule>();

  constructor(modules: ProviderModule[], readonly defaultName: string) {
    for (const m of modules) this.add(m);
  }

  /** Adds a provider; fails with `DUPLICATE_PROVIDER` when its name is taken. */
  add(module: ProviderModule): void {
    const name = module.description.name;
    if (this.modules.has(name)) throw new CodedError('DUPLICATE_PROVIDER', `two providers are named "${name}"`);
    this.modules.set(name, module);
  }

  /** Provider names in registry order. */
  names(): string[] {
    return [...this.modules.keys()];
  }

  descriptions(): ProviderDescription[] {
    return [...this.modules.values()].map((m) => m.description);
  }

  /** @throws UsageError `UNKNOWN_PROVIDER` listing the known names. */
  describe(name: string): ProviderDescription {
    return this.module(name).description;
  }

  /** Loads the provider's implementation (its SDKs load here, never earlier) and makes one. */
  async instantiate(name: string, ctx: ProviderContext): Promise<Provider> {
    const factory = await this.module(name).load();
    return factory(ctx);
  }

  private module(name: string): ProviderModule {
    const m = this.modules.get(name);
    if (!m) throw new UsageError(`unknown provider "${name}"; known providers: ${this.names().join(', ')}`, 'UNKNOWN_PROVIDER');
    return m;
  }
}

let current: ProviderRegistry | undefined;

/** The registry of this process: built-in providers plus any loaded by {@link loadExtraProviders}. */
export function registry(): ProviderRegistry {
  current ??= new ProviderRegistry(builtIn, defaultProvider);
  return current;
}

/**
 * Imports the modules listed in `INLETSCTL_EXTRA_PROVIDERS` and adds their providers to
 * {@link registry}. Does nothing (and costs nothing) when the variable is unset.
 */
export async function loadExtraProviders(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const list = env[EXTRA_PROVIDERS_ENV];
  if (!list) return;
  for (const path of list.split(delimiter).filter(Boolean)) {
    const mod = (await import(pathToFileURL(resolve(path)).href)) as { providers?: ProviderModule[] };
    if (!Array.isArray(mod.providers)) {
      throw new CodedError('BAD_PROVIDER_MODULE', `${path} (from ${EXTRA_PROVIDERS_ENV}) exports no "providers" list`);
    }
    for (const m of mod.providers) registry().add(m);
  }
}
