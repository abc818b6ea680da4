/**
 * OpenStack: any cloud with Keystone v3, Nova and Neutron, over their REST APIs with `fetch`.
 * Settings come from flags, the standard `OS_*` variables or clouds.yaml. This file is the cheap
 * description; the implementation loads lazily. `ovh` (providers/ovh) is the same code with
 * OVHcloud's defaults.
 */
import type { ProviderModule } from '../../src/core/provider.js';
import { openStackCredentials, openStackFlags } from './openstack-flags.js';

export const openstackProvider: ProviderModule = {
  description: {
    name: 'openstack',
    title: 'OpenStack',
    defaults: {
      // Names differ per cloud: these are DevStack's and most distributions' (RegionOne, m1.small:
      // 1 vCPU, 2 GiB, the smallest flavor a Debian cloud image fits; m1.tiny has a 1 GiB disk).
      // https://docs.openstack.org/nova/latest/user/flavors.html ; Debian cloud images:
      // https://cloud.debian.org/images/cloud/ (upload "debian-12-genericcloud-amd64" as "debian-12").
      region: 'RegionOne',
      plan: 'm1.small',
      image: 'debian-12',
      reason:
        'the smallest default flavor a Debian cloud image fits, and a Debian 12 image by name; both differ per cloud, so give --plan and --image; see https://docs.openstack.org/nova/latest/user/flavors.html',
      // Private clouds have no list price.
      monthlyUsd: null,
    },
    regions: [],
    credentials: openStackCredentials('your cloud dashboard → Identity → Application Credentials → Create, or download the openrc file (Project → API Access)'),
    extraFlags: openStackFlags({ network: 'public' }),
    apiUrlEnv: 'OPENSTACK_AUTH_URL',
    userData: {
      // Nova: "The user_data ... limited to 65535 bytes" after base64 (server create, user_data):
      // https://docs.openstack.org/api-ref/compute/#create-server ; 3/4 of that decoded (49,149 bytes), gzip allowed.
      limitBytes: 49_149,
      format: 'cloud-config',
      binary: true,
    },
    firewall: 'always',
  },
  async load() {
    const { openStackProviderFactory } = await import('./openstack-provider.js');
    return openStackProviderFactory({ provider: 'openstack', defaultRegion: 'RegionOne' });
  },
};
