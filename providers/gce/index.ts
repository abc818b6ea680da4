/**
 * Google Compute Engine with the official SDK, `@google-cloud/compute` (REST transport). This file
 * is the cheap description; the implementation, and with it the SDK, loads lazily.
 */
import type { ProviderModule } from '../../src/core/provider.js';

/** Environment variable overriding the API base URL (fakes, proxies, Private Service Connect). */
export const GCE_API_URL_ENV = 'GCE_API_URL';

export const gceProvider: ProviderModule = {
  description: {
    name: 'gce',
    title: 'Google Compute Engine',
    defaults: {
      // Iowa: a cheapest-tier region, and one of the three where the account's free-tier e2-micro
      // applies (https://cloud.google.com/free/docs/free-cloud-features#compute). The zone is
      // <region>-b unless --zone says otherwise: us-east1 and europe-west1 have no zone "a", and
      // zone "b" exists in every region (https://cloud.google.com/compute/docs/regions-zones).
      region: 'us-central1',
      // e2-micro: the smallest general-purpose type (2 shared vCPUs, 1 GiB), about $6.11/month
      // on demand in us-central1, free for one instance a month under the free tier; enough for
      // Node and the tunnel server. https://cloud.google.com/compute/vm-instance-pricing#e2_machine_types
      plan: 'e2-micro',
      // Debian 12 from Debian's own image project, by family so it is always the current build;
      // its Node 18 package runs our engine. https://cloud.google.com/compute/docs/images/os-details#debian
      image: 'debian-cloud/debian-12',
      reason:
        'e2-micro (2 shared vCPUs, 1 GiB; free-tier eligible in us-central1), Debian 12 from the debian-cloud project, a static IPv4 (~$3.65/month) and a 10 GB standard disk; see https://cloud.google.com/compute/vm-instance-pricing',
      // e2-micro $6.11 + in-use static IPv4 $3.65 + 10 GB pd-standard $0.40, before free tier.
      monthlyUsd: 10.16,
    },
    regions: [
      'us-central1', 'us-east1', 'us-west1', 'us-east4', 'northamerica-northeast1', 'southamerica-east1',
      'europe-west1', 'europe-west2', 'europe-west3', 'europe-west4', 'europe-north1',
      'asia-east1', 'asia-northeast1', 'asia-south1', 'asia-southeast1', 'australia-southeast1',
    ],
    credentials: {
      // The secret is a service-account key (JSON) or an OAuth 2 access token; without one,
      // Application Default Credentials are used ($GOOGLE_APPLICATION_CREDENTIALS, the file of
      // `gcloud auth application-default login`, or the metadata server on Google Cloud).
      flags: ['access-token', 'access-token-file'],
      env: ['GOOGLE_OAUTH_ACCESS_TOKEN'],
      howTo:
        'a service-account key (IAM → Service accounts → Keys → Add key → JSON) given with --access-token-file, or Application Default Credentials: gcloud auth application-default login',
      required: false,
    },
    extraFlags: {
      'project-id': { describe: 'Google Cloud project id (default: from the key file or Application Default Credentials)', type: 'string', env: 'GOOGLE_CLOUD_PROJECT' },
    },
    apiUrlEnv: GCE_API_URL_ENV,
    userData: {
      // Delivered as the `startup-script` metadata value: "their size must be less than or equal
      // to 262144 bytes (256 KiB)" (Metadata.items[].value in the Compute API reference).
      limitBytes: 256 * 1024,
      // Debian's GCE images run google-guest-agent, which runs `startup-script`; they have no
      // cloud-init (see gce-resources.ts).
      format: 'script',
      binary: false,
    },
    // The default network lets in nothing but SSH, RDP and ICMP: the tunnel needs its own rule.
    firewall: 'always',
  },
  async load() {
    const { createGceProvider } = await import('./gce-provider.js');
    return createGceProvider;
  },
};
