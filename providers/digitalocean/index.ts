/**
 * DigitalOcean: Droplets over the public REST API v2 with `fetch` (the official JS SDK is heavy and
 * its types do not compile). This file is the cheap description; the implementation loads lazily.
 */
import type { ProviderModule } from '../../src/core/provider.js';

/** Environment variable overriding the API base URL (fakes, proxies, compatible endpoints). */
export const DIGITALOCEAN_API_URL_ENV = 'DIGITALOCEAN_API_URL';

export const digitaloceanProvider: ProviderModule = {
  description: {
    name: 'digitalocean',
    title: 'DigitalOcean',
    defaults: {
      region: 'lon1',
      // The cheapest Basic (shared CPU) Droplet, $4/month: 1 vCPU, 512 MiB, 10 GiB SSD, 500 GiB
      // transfer; plenty for Node and the tunnel server. Debian 12: a supported Debian image
      // (security support through its LTS, to June 2028) whose Node 18 package runs our engine.
      // Prices: https://docs.digitalocean.com/products/droplets/details/pricing/ ;
      // image slugs: https://docs.digitalocean.com/products/droplets/details/image-deprecation/
      plan: 's-1vcpu-512mb-10gb',
      image: 'debian-12-x64',
      reason:
        'cheapest Basic Droplet (1 vCPU, 512 MiB, $4/month) and a Debian image whose nodejs runs the engine; see https://docs.digitalocean.com/products/droplets/details/pricing/',
      monthlyUsd: 4,
    },
    regions: ['lon1', 'ams3', 'fra1', 'nyc1', 'nyc3', 'sfo3', 'tor1', 'sgp1', 'blr1', 'syd1'],
    credentials: {
      flags: ['access-token', 'access-token-file'],
      env: ['INLETS_ACCESS_TOKEN', 'DIGITALOCEAN_TOKEN'],
      howTo: 'control panel → API → Tokens → Generate New Token, with write scope',
      required: true,
    },
    extraFlags: {},
    apiUrlEnv: DIGITALOCEAN_API_URL_ENV,
    userData: {
      // "It must be plain text and may not exceed 64 KiB in size" (droplet create, user_data).
      limitBytes: 64 * 1024,
      format: 'cloud-config',
      binary: false,
    },
    firewall: 'optional',
  },
  async load() {
    const { createDigitalOceanProvider } = await import('./digitalocean-provider.js');
    return createDigitalOceanProvider;
  },
};
