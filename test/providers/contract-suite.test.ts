/**
 * Coverage of the provider contract suite (test/providers/contract-suite.ts): every provider in
 * providers/index.ts that has an HTTP API (`apiUrlEnv`) has a fake in test/fakes/index.ts, and
 * every fake has its suite file, test/providers/contract-NAME.test.ts (one file per provider, so
 * vitest's workers run providers in parallel). Providers without an HTTP API (local; ssh) are
 * tested by the boot tests instead.
 */
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { providers } from '../../providers/index.js';
import { fakes } from '../fakes/index.js';

it('every provider with an HTTP API has a fake, and every fake has a contract suite file', () => {
  const withApi = providers.filter((m) => m.description.name !== 'local' && m.description.apiUrlEnv !== undefined).map((m) => m.description.name);
  expect(withApi.length).toBeGreaterThan(0);
  const faked = new Set(fakes.map((f) => f.provider));
  expect(withApi.filter((name) => !faked.has(name)), 'providers without a fake').toEqual([]);
  const missingFiles = fakes.map((f) => f.provider).filter((name) => !existsSync(new URL(`./contract-${name}.test.ts`, import.meta.url)));
  expect(missingFiles, 'fakes without test/providers/contract-NAME.test.ts').toEqual([]);
});
