/**
 * OVHcloud Public Cloud: OpenStack (providers/openstack) with OVHcloud's defaults: its Keystone, a
 * region, the cheapest flavor, its Debian image and Ext-Net, the public network whose ports get a
 * public IPv4 directly (no floating IP needed). This file is the cheap description.
 */
import type { ProviderModule } from '../../src/core/provider.js';
import { openStackCredentials, openStackFlags } from '../openstack/openstack-flags.js';
import { openstackProvider } from '../openstack/index.js';

/** OVHcloud's Keystone v3 (https://help.ovhcloud.com/csm/en-public-cloud-compute-openstack-users). */
export const OVH_AUTH_URL = 'https://auth.cloud.ovh.net/v3';

export const ovhProvider: ProviderModule = {
  description: {
    name: 'ovh',
    title: 'OVHcloud Public Cloud',
    defaults: {
      // d2-2: the smallest Discovery flavor (1 vCPU, 2 GB, 25 GB), the cheapest instance with a
      // Debian image; "Debian 12" is OVHcloud's public image name. Price: about USD 4 a month is an
      // ESTIMATE, still unconfirmed: checked again on 2026-12-06, the stored public pages held
      // OVHcloud's Public Cloud FAQ and billing pages but not the price list with d2-2 on it:
      // https://www.ovhcloud.com/en/public-cloud/prices/
      region: 'GRA11',
      plan: 'd2-2',
      image: 'Debian 12',
      reason: 'the cheapest Discovery flavor (d2-2: 1 vCPU, 2 GB) with OVHcloud\'s Debian 12 image, on Ext-Net for a public IPv4; see https://www.ovhcloud.com/en/public-cloud/prices/',
      monthlyUsd: 4,
    },
    // Public Cloud regions: https://www.ovhcloud.com/en/public-cloud/regions-availability/
    regions: ['GRA11', 'GRA9', 'SBG5', 'DE1', 'UK1', 'WAW1', 'BHS5', 'SGP1', 'SYD1'],
    credentials: openStackCredentials('OVHcloud Control Panel → Public Cloud → Project → Users & Roles → add a user, then download its OpenStack RC file'),
    extraFlags: openStackFlags({ authUrl: OVH_AUTH_URL, network: 'Ext-Net' }),
    apiUrlEnv: 'OVH_OPENSTACK_AUTH_URL',
    userData: openstackProvider.description.userData,
    firewall: 'always',
  },
  async load() {
    const { openStackProviderFactory } = await import('../openstack/openstack-provider.js');
    return openStackProviderFactory({ provider: 'ovh', defaultAuthUrl: OVH_AUTH_URL, defaultRegion: 'GRA11' });
  },
};
