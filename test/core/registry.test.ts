import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProviderRegistry, loadExtraProviders, registry } from '../../src/core/registry.js';
import type { ProviderDescription, ProviderModule } from '../../src/core/provider.js';
import { UsageError } from '../../src/errors.js';

function module(name: string, onLoad: () => void = () => {}): ProviderModule {
  const description: ProviderDescription = {
    name,
    title: name,
    defaults: { region: 'r', plan: 'p', image: 'i', reason: 'test', monthlyUsd: 1 },
    regions: ['r'],
    credentials: { flags: [], env: [], howTo: '', required: false },
    extraFlags: {},
    userData: { limitBytes: 16384, format: 'cloud-config', binary: false },
    firewall: 'never',
  };
  return {
    description,
    async load() {
      onLoad();
      return () => ({ create: async () => ({ name, id: '1', status: 'active' }), status: async () => ({ name, id: '1', status: 'active' }), delete: async () => 'done', list: async () => [] });
    },
  };
}

describe('ProviderRegistry', () => {
  it('lists in order, describes without loading, and loads only when instantiated', async () => {
    let loads = 0;
    const reg = new ProviderRegistry([module('a', () => loads++), module('b')], 'b');
    expect(reg.names()).toEqual(['a', 'b']);
    expect(reg.defaultName).toBe('b');
    expect(reg.describe('a').title).toBe('a');
    expect(loads).toBe(0);
    const provider = await reg.instantiate('a', { credentials: {}, options: {}, stateDir: '/nonexistent' });
    expect(await provider.delete({ name: 'x' })).toBe('done');
    expect(loads).toBe(1);
  });

  it('refuses unknown names with the known ones, and duplicates', () => {
    const reg = new ProviderRegistry([module('a')], 'a');
    expect(() => reg.describe('zz')).toThrow(UsageError);
    expect(() => reg.describe('zz')).toThrow('unknown provider "zz"; known providers: a');
    expect(() => reg.add(module('a'))).toThrow(/two providers are named "a"/);
  });

  it('lists the built-in providers with local first and digitalocean as the default (as in inletsctl)', () => {
    expect(registry().names()[0]).toBe('local');
    expect(registry().defaultName).toBe('digitalocean');
  });

  it('loads extra provider modules named by INLETSCTL_EXTRA_PROVIDERS, and refuses a module without a list', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'inletsctl-reg-'));
    try {
      const good = join(dir, 'good.mjs');
      await writeFile(good, `export const providers = [{ description: { name: 'extra-one', title: 'x' }, load: async () => () => ({}) }];\n`);
      const bad = join(dir, 'bad.mjs');
      await writeFile(bad, 'export const nothing = 1;\n');
      await loadExtraProviders({});
      expect(registry().names()).not.toContain('extra-one');
      await loadExtraProviders({ INLETSCTL_EXTRA_PROVIDERS: good });
      expect(registry().names()).toContain('extra-one');
      await expect(loadExtraProviders({ INLETSCTL_EXTRA_PROVIDERS: bad })).rejects.toMatchObject({ code: 'BAD_PROVIDER_MODULE' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
