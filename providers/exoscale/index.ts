/**
 * Exoscale: Compute instances over the public API v2 (`https://api-{zone}.exoscale.com/v2`) with
 * `fetch`, every request signed with the API key and secret (EXO2-HMAC-SHA256). This file is the
 * cheap description; the implementation loads lazily.
 */
import type { ProviderModule } from '../../src/core/provider.js';

/** Environment variable overriding the API base URL (fakes, proxies, compatible endpoints). */
export const EXOSCALE_API_URL_ENV = 'EXOSCALE_API_URL';

/**
 * Exoscale's zones, the default first: the `zone` enum of the API's server URL in the OpenAPI
 * description (https://openapi-v2.exoscale.com/, egoscale v3/generator/source.yaml) and
 * https://www.exoscale.com/datacenters/. Each zone has its own endpoint; lists walk them all.
 */
export const EXOSCALE_ZONES = ['ch-gva-2', 'ch-dk-2', 'de-fra-1', 'de-muc-1', 'at-vie-1', 'at-vie-2', 'bg-sof-1', 'hr-zag-1'] as const;

/** The public template `--image` names by default (GET /template?visibility=public lists them). */
export const EXOSCALE_DEBIAN_TEMPLATE = 'Linux Debian 12 (Bookworm) 64-bit';

export const exoscaleProvider: ProviderModule = {
  description: {
    name: 'exoscale',
    title: 'Exoscale',
    defaults: {
      region: 'ch-gva-2',
      // standard.micro: the smallest Standard instance type (1 vCPU, 512 MB), resolved to its id
      // with GET /instance-type (family "standard", size "micro"; https://openapi-v2.exoscale.com/operation/operation-list-instance-types)
      // and offered in every zone; sizes and prices: https://www.exoscale.com/pricing/#compute .
      // The Debian 12 public template (GET /template) runs the engine with its Node package.
      plan: 'standard.micro',
      image: EXOSCALE_DEBIAN_TEMPLATE,
      reason:
        'the smallest Standard instance type (standard.micro: 1 vCPU, 512 MB, with a 10 GB disk, about EUR 6/month; list price as known on 2026-12-07, not re-read from exoscale.com/pricing) in Geneva, and the Debian 12 public template; see https://www.exoscale.com/pricing/#compute',
      monthlyUsd: 7,
    },
    regions: [...EXOSCALE_ZONES],
    credentials: {
      // The key names the credential (EXO…); the secret signs every request and never leaves
      // this process. https://community.exoscale.com/product/iam/ (API keys)
      flags: ['api-key', 'api-secret', 'api-secret-file'],
      env: ['EXOSCALE_API_KEY'],
      envOf: { 'api-secret': ['EXOSCALE_API_SECRET'] },
      howTo: 'Exoscale portal → IAM → API Keys → Add (a role allowing compute); copy the key (EXO…) and its secret, shown once',
      // Without a key, a usage error before any work; a key without its secret is the provider's
      // AUTH error, which names the secret's flags and variable.
      required: true,
    },
    extraFlags: {},
    apiUrlEnv: EXOSCALE_API_URL_ENV,
    userData: {
      // create-instance `user-data`: "Instance Cloud-init user-data (base64 encoded)", maxLength
      // 32768 (the OpenAPI description; https://openapi-v2.exoscale.com/operation/operation-create-instance),
      // Exoscale's 32 KiB: of base64, so 24,576 raw bytes. cloud-init reads it gzip-compressed.
      limitBytes: 24_576,
      format: 'cloud-config',
      binary: true,
    },
    // Without a security group of its own an instance joins the default group: every tunnel gets
    // one opening only its ports.
    firewall: 'always',
  },
  async load() {
    const { createExoscaleProvider } = await import('./exoscale-provider.js');
    return createExoscaleProvider;
  },
};
