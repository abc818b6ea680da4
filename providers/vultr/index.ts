/**
 * Vultr: cloud compute instances over the public API v2 with `fetch` (no SDK). This file is the
 * cheap description; the implementation loads lazily.
 * API reference: https://www.vultr.com/api/
 */
import type { ProviderModule } from '../../src/core/provider.js';

/** Environment variable overriding the API base URL (fakes, proxies, compatible endpoints). */
export const VULTR_API_URL_ENV = 'VULTR_API_URL';

/**
 * Debian 12 x64 (bookworm) in Vultr's operating-system list, `GET /v2/os`
 * (https://www.vultr.com/api/#tag/os/operation/list-os): `{ id: 2136, name: "Debian 12 x64
 * (bookworm)", family: "debian" }`. Debian 13 x64 (trixie) is 2625. `--image` takes any os_id.
 * Debian 12's nodejs package runs our engine.
 */
export const VULTR_DEBIAN_12_OS_ID = 2136;

/**
 * Vultr's cloud-compute locations (`GET /v2/regions`, https://www.vultr.com/api/#tag/region),
 * London first (the default). Instances are listed account-wide, so no look-up walks them.
 */
export const VULTR_REGIONS = [
  'lhr', 'man', 'ams', 'fra', 'cdg', 'mad', 'sto', 'waw',
  'ewr', 'ord', 'atl', 'mia', 'dfw', 'lax', 'sjc', 'sea', 'yto', 'mex', 'hnl',
  'sao', 'scl', 'jnb', 'tlv', 'bom', 'del', 'blr', 'sgp', 'nrt', 'itm', 'icn', 'syd', 'mel',
] as const;

export const vultrProvider: ProviderModule = {
  description: {
    name: 'vultr',
    title: 'Vultr',
    defaults: {
      region: 'lhr',
      // vc2-1c-1gb: Regular Cloud Compute, 1 vCPU, 1 GB, 25 GB SSD, 1 TB transfer, one IPv4
      // address, $5/month on https://www.vultr.com/pricing/#cloud-compute (list price as known on
      // 2026-12-07, not re-read from the live page). The cheaper 0.5 GB plans are IPv6-only
      // (vc2-1c-0.5gb-v6, $2.50) or not offered in most locations: a tunnel needs an IPv4
      // address, so they are not eligible. `GET /v2/plans` (https://www.vultr.com/api/#tag/plans)
      // lists plans and the locations that offer them.
      plan: 'vc2-1c-1gb',
      image: String(VULTR_DEBIAN_12_OS_ID),
      reason:
        'the cheapest Cloud Compute plan with an IPv4 address (vc2-1c-1gb: 1 vCPU, 1 GB, 25 GB, $5/month; list price as known on 2026-12-07) in London, and Debian 12 (os_id 2136); see https://www.vultr.com/pricing/ and https://www.vultr.com/api/#tag/os',
      monthlyUsd: 5,
    },
    regions: [...VULTR_REGIONS],
    credentials: {
      flags: ['access-token', 'access-token-file'],
      env: ['INLETS_ACCESS_TOKEN', 'VULTR_API_KEY'],
      howTo: 'customer portal → Account → API → Enable API, then copy the Personal Access Token (allow your IP under Access Control)',
      required: true,
    },
    extraFlags: {},
    apiUrlEnv: VULTR_API_URL_ENV,
    userData: {
      // `user_data` on POST /v2/instances: "The user-supplied, base64 encoded user data"
      // (https://www.vultr.com/api/#tag/instances/operation/create-instance). Neither the API
      // reference nor the metadata documentation (https://www.vultr.com/metadata/) names a size
      // limit: 32 KiB of raw user-data is our own conservative bound (the rendered cloud-config
      // is about 22 KB) until Vultr documents a figure.
      limitBytes: 32 * 1024,
      format: 'cloud-config',
      // cloud-init's Vultr datasource reads user-data from the metadata service as text
      // (cloudinit/sources/helpers/vultr.py decodes it), so gzip is not safe: plain text.
      binary: false,
    },
    // A Vultr instance without a firewall group has no cloud firewall at all; with --firewall
    // the tunnel gets a firewall group of its own that accepts only its ports.
    firewall: 'optional',
  },
  async load() {
    const { createVultrProvider } = await import('./vultr-provider.js');
    return createVultrProvider;
  },
};
