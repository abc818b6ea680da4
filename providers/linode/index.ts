/**
 * Linode (Akamai Cloud): Compute Instances over the API v4 with `fetch`. This file is the cheap
 * description; the implementation loads lazily.
 */
import type { ProviderModule } from '../../src/core/provider.js';

/** Environment variable overriding the API base URL (fakes, proxies, compatible endpoints). */
export const LINODE_API_URL_ENV = 'LINODE_API_URL';

/**
 * Linode's core compute regions, the default first (`GET /v4/regions`; the list of data centers:
 * https://www.linode.com/global-infrastructure/ and https://techdocs.akamai.com/linode-api/reference/get-regions).
 * Not every region offers the Metadata service that delivers cloud-init user data: create asks the
 * region (`capabilities` must hold "Metadata") and refuses one without it before making anything.
 * `list` and look-ups do not walk regions: Linode's lists are account-wide.
 */
export const LINODE_REGIONS = [
  'gb-lon', 'eu-central', 'de-fra-2', 'eu-west', 'fr-par', 'nl-ams', 'se-sto', 'es-mad', 'it-mil',
  'us-east', 'us-iad', 'us-ord', 'us-central', 'us-southeast', 'us-west', 'us-lax', 'us-sea', 'us-mia',
  'ca-central', 'br-gru', 'ap-south', 'sg-sin-2', 'ap-northeast', 'jp-osa', 'jp-tyo-3', 'ap-west', 'in-maa',
  'in-bom-2', 'ap-southeast', 'au-mel', 'id-cgk',
] as const;

/**
 * The Metadata service's user data is sent base64-encoded (`metadata.user_data`, format byte) and the
 * API reference says "Unencoded data can't exceed 65535 bytes when encoded" (POST /linode/instances,
 * https://techdocs.akamai.com/linode-api/reference/post-linode-instance; the same text is in
 * ../shared/cloud-specs/linode/openapi-subset.json). The limit is on the base64 form, so the raw
 * limit is the most bytes whose base64 fits: 4 characters per 3 bytes, floor(65535 / 4) * 3.
 */
export const LINODE_USER_DATA_BASE64_LIMIT = 65_535;
export const LINODE_USER_DATA_RAW_LIMIT = Math.floor(LINODE_USER_DATA_BASE64_LIMIT / 4) * 3; // 49,149

export const linodeProvider: ProviderModule = {
  description: {
    name: 'linode',
    title: 'Linode (Akamai)',
    defaults: {
      // gb-lon: London 2, one of the newer core regions with the Metadata service (cloud-init user
      // data; availability: https://techdocs.akamai.com/cloud-computing/docs/overview-of-the-metadata-service).
      // create checks the region's capabilities anyway and says so when Metadata is missing.
      region: 'gb-lon',
      // g6-nanode-1: the Nanode 1 GB shared-CPU plan (1 vCPU, 1 GB, 25 GB), the cheapest Linode type
      // (`GET /v4/linode/types`, https://techdocs.akamai.com/linode-api/reference/get-linode-types);
      // https://www.linode.com/pricing/ lists it at $5/month in core regions (a few regions cost more).
      plan: 'g6-nanode-1',
      // linode/debian12: Linode's Debian 12 image, which carries the "cloud-init" capability (checked
      // at create: `GET /v4/images/linode/debian12`); its nodejs package runs our engine.
      image: 'linode/debian12',
      reason:
        'the cheapest plan (Nanode 1 GB, g6-nanode-1: 1 vCPU, 1 GB, 25 GB; $5/month list price as known on 2026-12-07, not re-read from https://www.linode.com/pricing/) in London (gb-lon, a region with the Metadata service), and Linode\'s Debian 12 image with cloud-init',
      monthlyUsd: 5,
    },
    regions: [...LINODE_REGIONS],
    credentials: {
      flags: ['access-token', 'access-token-file'],
      env: ['INLETS_ACCESS_TOKEN', 'LINODE_TOKEN'],
      howTo: 'Cloud Manager → your profile → API Tokens → Create a Personal Access Token (Linodes and Firewalls: Read/Write)',
      required: true,
    },
    extraFlags: {},
    apiUrlEnv: LINODE_API_URL_ENV,
    userData: {
      // 65,535 bytes of base64 (see LINODE_USER_DATA_BASE64_LIMIT): 49,149 raw bytes.
      limitBytes: LINODE_USER_DATA_RAW_LIMIT,
      format: 'cloud-config',
      // Sent base64-encoded, so bytes of any kind pass; cloud-init unpacks gzip'd user data itself
      // ("Content found to be gzip compressed will be uncompressed":
      // https://docs.cloud-init.io/en/latest/explanation/format.html; its Akamai datasource:
      // https://docs.cloud-init.io/en/latest/reference/datasources/akamai.html).
      binary: true,
    },
    // --firewall makes a Cloud Firewall opening only the tunnel's ports; without it the instance
    // gets whatever the account's default firewall setting says (often none).
    firewall: 'optional',
  },
  async load() {
    const { createLinodeProvider } = await import('./linode-provider.js');
    return createLinodeProvider;
  },
};
