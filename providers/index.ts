/**
 * The list of providers: the only place that names them. Each entry's description is imported
 * eagerly (it is small and `--help`, `providers` and prompts need it); the implementation is loaded
 * by `load()` only when that provider is used.
 *
 * Adding a provider: a folder under providers/ exporting a ProviderModule, and one row below.
 */
import type { ProviderModule } from '../src/core/provider.js';
import { localProvider } from './local/index.js';
import { digitaloceanProvider } from './digitalocean/index.js';
import { hetznerProvider } from './hetzner/index.js';
import { gceProvider } from './gce/index.js';
import { azureProvider } from './azure/index.js';
import { ec2Provider } from './ec2/index.js';
import { civoProvider } from './civo/index.js';
import { upcloudProvider } from './upcloud/index.js';
import { vultrProvider } from './vultr/index.js';
import { sshProvider } from './ssh/index.js';
import { openstackProvider } from './openstack/index.js';
import { ovhProvider } from './ovh/index.js';
import { linodeProvider } from './linode/index.js';
import { exoscaleProvider } from './exoscale/index.js';
import { scalewayProvider } from './scaleway/index.js';

/** Every provider, in the order `inletsctl providers` and the prompts show them. */
export const providers: ProviderModule[] = [
  localProvider,
  digitaloceanProvider,
  hetznerProvider,
  gceProvider,
  azureProvider,
  ec2Provider,
  civoProvider,
  upcloudProvider,
  vultrProvider,
  sshProvider,
  openstackProvider,
  ovhProvider,
  linodeProvider,
  exoscaleProvider,
  scalewayProvider,
];

/** The provider `create` uses when `--provider` is not given. */
export const defaultProvider = 'digitalocean';
