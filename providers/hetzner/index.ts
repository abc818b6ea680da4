/**
 * Hetzner Cloud: servers over the Cloud API v1 with `fetch`. This file is the cheap description;
 * the implementation loads lazily.
 */
import type { ProviderModule } from '../../src/core/provider.js';

/** Environment variable overriding the API base URL (fakes, proxies, compatible endpoints). */
export const HETZNER_API_URL_ENV = 'HCLOUD_API_URL';

export const hetznerProvider: ProviderModule = {
  description: {
    name: 'hetzner',
    title: 'Hetzner Cloud',
    defaults: {
      region: 'fsn1',
      // CX23 is the cheapest current shared-vCPU x86 type (2 vCPU, 4 GB, 40 GB, "cost-optimized"),
      // offered in the German and Finnish locations, so the default location is Falkenstein.
      // Debian 12: a supported Debian image whose Node 18 package runs our engine.
      // Types and prices: https://www.hetzner.com/cloud/ ; images: https://docs.hetzner.cloud/#images
      plan: 'cx23',
      image: 'debian-12',
      reason:
        'cheapest current shared-vCPU type (cx23: 2 vCPU, 4 GB, about EUR 4/month plus EUR 0.50 for the IPv4) in Falkenstein, and Debian; see https://www.hetzner.com/cloud/',
      monthlyUsd: 5,
    },
    regions: ['fsn1', 'nbg1', 'hel1', 'ash', 'hil', 'sin'],
    credentials: {
      flags: ['access-token', 'access-token-file'],
      env: ['INLETS_ACCESS_TOKEN', 'HCLOUD_TOKEN'],
      howTo: 'Cloud Console → your project → Security → API tokens → Generate API token, Read & Write',
      required: true,
    },
    extraFlags: {},
    apiUrlEnv: HETZNER_API_URL_ENV,
    userData: {
      // "Cloud-Init user data to use during Server creation. This field is limited to 32KiB."
      limitBytes: 32 * 1024,
      format: 'cloud-config',
      binary: false,
    },
    firewall: 'optional',
  },
  async load() {
    const { createHetznerProvider } = await import('./hetzner-provider.js');
    return createHetznerProvider;
  },
};
