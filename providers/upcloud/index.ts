/**
 * UpCloud: servers over API 1.3 with `fetch`. This file is the cheap description; the
 * implementation loads lazily.
 */
import type { ProviderModule } from '../../src/core/provider.js';

/** Environment variable overriding the API base URL (fakes, proxies, compatible endpoints). */
export const UPCLOUD_API_URL_ENV = 'UPCLOUD_API_URL';
/** Debian's public storage template, by title; `--image` also takes a template title or uuid. */
export const UPCLOUD_DEBIAN_TEMPLATE = 'Debian GNU/Linux 12 (Bookworm)';

export const upcloudProvider: ProviderModule = {
  description: {
    name: 'upcloud',
    title: 'UpCloud',
    defaults: {
      region: 'de-fra1',
      // 1xCPU-1GB: the smallest General Purpose plan (1 core, 1 GB, 25 GB MaxIOPS, one IPv4), the
      // cheapest plan offered in every zone. Plans and prices: https://upcloud.com/pricing/ and
      // GET /1.3/plan (https://developers.upcloud.com/1.3/7-plans/). Debian 12's nodejs runs the engine.
      plan: '1xCPU-1GB',
      image: UPCLOUD_DEBIAN_TEMPLATE,
      reason:
        'the smallest General Purpose plan (1xCPU-1GB: 1 core, 1 GB, 25 GB, listed at EUR 7/month; list price as known on 2026-12-06, not re-read from upcloud.com/pricing) in Frankfurt, and the Debian 12 template',
      monthlyUsd: 8,
    },
    regions: ['de-fra1', 'fi-hel1', 'fi-hel2', 'nl-ams1', 'uk-lon1', 'se-sto1', 'es-mad1', 'pl-waw1', 'us-nyc1', 'us-chi1', 'us-sjo1', 'sg-sin1', 'au-syd1'],
    credentials: {
      flags: ['access-token', 'access-token-file', 'upcloud-password', 'upcloud-password-file'],
      env: ['INLETS_ACCESS_TOKEN', 'UPCLOUD_TOKEN'],
      envOf: { 'upcloud-password': ['UPCLOUD_PASSWORD'] },
      howTo:
        'Control Panel → Account → API tokens → Create token (or an API sub-account: People → Create sub-account with API access, then --upcloud-username/$UPCLOUD_USERNAME and --upcloud-password(-file)/$UPCLOUD_PASSWORD)',
      // A token, or a user name and password: neither is a usage error before any work; a
      // password without a user name is the provider's AUTH error, which says so.
      required: true,
      sufficient: ['access-token', 'upcloud-password'],
    },
    extraFlags: {
      'upcloud-username': { describe: 'UpCloud API user (with --upcloud-password; instead of a token)', type: 'string', env: 'UPCLOUD_USERNAME' },
    },
    apiUrlEnv: UPCLOUD_API_URL_ENV,
    userData: {
      // The API reference names no size limit for user_data (plain text, or a URL cloud-init
      // fetches). 32 KiB is a conservative bound: the rendered cloud-config is about 22 KB.
      limitBytes: 32 * 1024,
      format: 'cloud-config',
      binary: false,
    },
    firewall: 'always',
  },
  async load() {
    const { createUpcloudProvider } = await import('./upcloud-provider.js');
    return createUpcloudProvider;
  },
};
