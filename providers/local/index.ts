/** The `local` provider: its description now, its implementation when used. */
import type { ProviderModule } from '../../src/core/provider.js';
import { localDescription } from './description.js';

export const localProvider: ProviderModule = {
  description: localDescription,
  async load() {
    const { createLocalProvider } = await import('./local-provider.js');
    return createLocalProvider;
  },
};
