/**
 * Civo: compute instances over the public API v2 with `fetch`. This file is the cheap
 * description; the implementation loads lazily.
 */
import type { ProviderModule } from '../../src/core/provider.js';

/** Environment variable overriding the API base URL (fakes, proxies, compatible endpoints). */
export const CIVO_API_URL_ENV = 'CIVO_API_URL';

/**
 * Civo's public regions for compute instances, the default first (`GET /v2/regions`; see
 * https://www.civo.com/api/regions). Lists and look-ups without a known region walk them all.
 */
export const CIVO_REGIONS = ['LON1', 'FRA1', 'NYC1', 'PHX1'] as const;

export const civoProvider: ProviderModule = {
  description: {
    name: 'civo',
    title: 'Civo',
    defaults: {
      region: 'LON1',
      // g3.xsmall is the smallest instance size (1 vCPU, 1 GB RAM, 25 GB disk; `GET /v2/sizes`,
      // https://www.civo.com/api/sizes), about $5 a month on https://www.civo.com/pricing.
      // debian-12: a Debian disk image (`GET /v2/disk_images` lists them per region, with ids
      // that differ between regions; https://www.civo.com/api/disk-images) whose Node 18
      // package runs our engine.
      plan: 'g3.xsmall',
      image: 'debian-12',
      reason:
        'smallest instance size (g3.xsmall: 1 vCPU, 1 GB, about $5/month) in London, and a Debian disk image; see https://www.civo.com/pricing and https://www.civo.com/api/sizes',
      monthlyUsd: 5,
    },
    regions: [...CIVO_REGIONS],
    credentials: {
      flags: ['access-token', 'access-token-file'],
      env: ['INLETS_ACCESS_TOKEN', 'CIVO_TOKEN'],
      howTo: 'Civo dashboard → Settings → Profile → Security → API key (copy it)',
      required: true,
    },
    extraFlags: {},
    apiUrlEnv: CIVO_API_URL_ENV,
    userData: {
      // The instance's `script` (https://www.civo.com/api/instances): Civo documents no size
      // limit. It reaches the VM through Civo's own cloud-init, over OpenStack user data, which
      // allows 65,535 bytes of base64 (about 48 KiB raw) for everything; 32 KiB leaves room for
      // Civo's part until Civo documents a figure.
      limitBytes: 32 * 1024,
      // Civo runs it as a program at the end of its cloud-init: a script, not a cloud-config.
      format: 'script',
      // A JSON string: no gzip.
      binary: false,
    },
    // A firewall belongs to a network, and without one the instance gets the network's default
    // firewall, open to all: every tunnel gets its own, opening only its ports.
    firewall: 'always',
  },
  async load() {
    const { createCivoProvider } = await import('./civo-provider.js');
    return createCivoProvider;
  },
};
