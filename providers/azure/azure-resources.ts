/**
 * What one tunnel is made of in Azure: a resource group `inletsctl-<name>-<tunnel id>` and, inside
 * it, one ARM deployment of the template built here (azure-template.ts) holding a virtual network
 * with one subnet, a Standard static public IPv4, a network security group, a NIC and the VM.
 * The group and every resource carry the shared marks of providers/shared/marks.ts as tags
 * (managed-by, inletsctl-name, inletsctl-tunnel, inletsctl-expires) plus `inletsctl=true`, the tag
 * versions before v2 wrote and `list` filters on. The group's tunnel-id tag is what delete goes by.
 *
 * REST reference: https://learn.microsoft.com/rest/api/resources/resource-groups ,
 * https://learn.microsoft.com/rest/api/resources/deployments/create-or-update
 */
import { generateKeyPairSync } from 'node:crypto';
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest } from '../../src/core/provider.js';
import { LABEL, labelsFor, readLabels, type Marks } from '../shared/marks.js';
import { PROVIDER } from './azure-errors.js';

/** The tag versions before v2 wrote on every group and resource, with the value "true"; `list` filters on it. */
export const SHARED_TAG = 'inletsctl';
/** The tag naming the tunnel. */
export const NAME_TAG = LABEL.name;
/** The tag holding the tunnel id. */
export const TUNNEL_TAG = LABEL.tunnel;
/** The one deployment in a tunnel's group (1-64 of [-\w._()]). */
export const DEPLOYMENT_NAME = 'inletsctl-tunnel';

type Marked = Pick<CreateRequest, 'name' | 'tunnelId' | 'expiresAt'>;

/**
 * The tunnel's resource group. It holds the tunnel id, so two tunnels of one name (two state
 * files) never share a group. At most 90 characters: a name of 63, the prefix and the id make 86.
 */
export function groupName(req: Pick<CreateRequest, 'name' | 'tunnelId'>): string {
  return `inletsctl-${req.name}-${req.tunnelId}`;
}

/** The group of a tunnel made before v2 (no tunnel id): `inletsctl-<name>`. */
export function legacyGroupName(name: string): string {
  return `inletsctl-${name}`;
}

/** Resource names inside the group (the group already names the tunnel). */
export const resourceName = {
  vnet: (n: string) => `${n}-vnet`,
  ip: (n: string) => `${n}-ip`,
  nsg: (n: string) => `${n}-nsg`,
  nic: (n: string) => `${n}-nic`,
  vm: (n: string) => n,
};

/** The tags of the group and of every resource in it. */
export function tagsFor(req: Marked): Record<string, string> {
  return { [SHARED_TAG]: 'true', ...labelsFor(req) };
}

/** What a group's tags say; `ours` with either the v2 shared mark or the pre-v2 tag. */
export function readTagMarks(tags: Record<string, string> | undefined): Marks {
  const marks = readLabels(tags);
  return { ...marks, ours: marks.ours || tags?.[SHARED_TAG] === 'true' };
}

/**
 * Checks what Azure would refuse later: the name (a Linux computer name and a VM name take 63
 * here), the image URN, the number of ports.
 * @throws ProviderError INVALID
 */
export function checkRequest(req: CreateRequest): void {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(req.name)) {
    throw new ProviderError(PROVIDER, 'INVALID', `tunnel name "${req.name}" must be 1-63 lowercase letters, digits and dashes for an Azure VM name`, { retryable: false });
  }
  parseImageUrn(req.image);
  if (req.openPorts.length > 100) throw new ProviderError(PROVIDER, 'INVALID', `at most 100 ports can be opened, not ${req.openPorts.length}`, { retryable: false });
}

/** publisher:offer:sku:version, as `az vm image list` prints URNs. */
export function parseImageUrn(urn: string): { publisher: string; offer: string; sku: string; version: string } {
  const parts = urn.split(':');
  if (parts.length !== 4 || parts.some((p) => !p)) {
    throw new ProviderError(PROVIDER, 'INVALID', `image "${urn}" is not an Azure image URN publisher:offer:sku:version, for example Debian:debian-12:12-gen2:latest`, { retryable: false });
  }
  const [publisher, offer, sku, version] = parts;
  return { publisher, offer, sku, version };
}

/**
 * Azure requires a password or an SSH key for a Linux VM. This Ed25519 public key's private half is
 * discarded at once: nobody can log in, and no SSH port is opened anyway.
 */
export function throwAwaySshKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} inletsctl-no-login`;
}
