/**
 * Scaleway: Instances over the Instance API v1 (and the Marketplace API v2 for image ids) with
 * `fetch`. This file is the cheap description; the implementation loads lazily.
 */
import type { ProviderModule } from '../../src/core/provider.js';

/** Environment variable overriding the API base URL (fakes, proxies, compatible endpoints). */
export const SCALEWAY_API_URL_ENV = 'SCW_API_URL';
/** Environment variable of the Project the Instances are billed to (the name Scaleway's own tools read). */
export const SCALEWAY_PROJECT_ENV = 'SCW_DEFAULT_PROJECT_ID';

/**
 * Scaleway's Availability Zones for Instances, the default first
 * (https://www.scaleway.com/en/docs/console/account/reference-content/products-availability/).
 * The Instance API is zonal (`/instance/v1/zones/{zone}/…`), so inletsctl's `--region` names a
 * zone, as the Go inletsctl's did; there is no separate `--zone`. Lists and look-ups without a
 * known zone walk them all.
 */
export const SCALEWAY_ZONES = ['fr-par-1', 'fr-par-2', 'fr-par-3', 'nl-ams-1', 'nl-ams-2', 'nl-ams-3', 'pl-waw-1', 'pl-waw-2', 'pl-waw-3'] as const;

export const scalewayProvider: ProviderModule = {
  description: {
    name: 'scaleway',
    title: 'Scaleway',
    defaults: {
      region: 'fr-par-1',
      // STARDUST1-S: the smallest and cheapest Instance type (1 vCPU, 1 GB RAM), sold in a few
      // zones only, fr-par-1 among them; the Marketplace lists it among the types its images
      // support (https://www.scaleway.com/en/developers/api/marketplace/). Where it is out of
      // stock or not sold, `--plan DEV1-S` (2 vCPU, 2 GB) is the next cheapest x86 type with
      // local storage. Types and prices: https://www.scaleway.com/en/pricing/virtual-instances/
      plan: 'STARDUST1-S',
      // A Marketplace image label: its id differs per zone and version, and is looked up at
      // create (GET /marketplace/v2/local-images?image_label=debian_bookworm&zone=…). Debian 12's
      // nodejs runs our engine. `--image` is not a flag; a label or a local image uuid here works.
      image: 'debian_bookworm',
      reason:
        'the cheapest Instance type (STARDUST1-S: 1 vCPU, 1 GB, about EUR 0.0025/hour, plus EUR 0.004/hour for its IPv4; list prices as known on 2026-12-07, not re-read from scaleway.com/en/pricing) in Paris 1, and Debian 12 from the Marketplace; see https://www.scaleway.com/en/pricing/virtual-instances/',
      // (0.0025 + 0.004) EUR/hour x 730 hours = EUR 4.75, about USD 5.
      monthlyUsd: 5,
    },
    regions: [...SCALEWAY_ZONES],
    credentials: {
      // An IAM API key's secret key, sent as `X-Auth-Token` (the access key is not needed).
      flags: ['secret-key', 'secret-key-file'],
      env: ['SCW_SECRET_KEY'],
      howTo:
        'Console → Organization → IAM → API keys → Generate an API key (copy its secret key; the Project id is under Project → Settings, for --project-id or $SCW_DEFAULT_PROJECT_ID)',
      required: true,
    },
    extraFlags: {
      'project-id': { describe: 'Scaleway Project id to create Instances in (needed by create)', type: 'string', env: SCALEWAY_PROJECT_ENV, requiredToCreate: true },
    },
    apiUrlEnv: SCALEWAY_API_URL_ENV,
    userData: {
      // Set with its own call, PATCH /servers/{id}/user_data/cloud-init (text/plain), before the
      // Instance is powered on. The Instance API reference names no size limit for a user data
      // value (https://www.scaleway.com/en/developers/api/instance/user-data); 32 KiB is a
      // conservative bound until Scaleway documents one (the TCP-mode cloud-config is ~22 KB).
      limitBytes: 32 * 1024,
      format: 'cloud-config',
      // Sent as text/plain: no gzip.
      binary: false,
    },
    // With --firewall, a security group of the tunnel's own (inbound: its ports only); without,
    // the Project's default security group of the zone applies (Scaleway's default lets in all).
    firewall: 'optional',
  },
  async load() {
    const { createScalewayProvider } = await import('./scaleway-provider.js');
    return createScalewayProvider;
  },
};
