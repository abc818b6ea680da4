/**
 * What one tunnel is made of in Azure, as request bodies for the SDKs: a resource group
 * `inletsctl-<name>` holding a virtual network with one subnet, a Standard static public IPv4, a
 * network security group, a NIC, and the VM. Every resource carries the tags `inletsctl=true` and
 * `inletsctl-name=<name>`; the group's tags are what list and delete search for.
 *
 * Bodies use the SDKs' flattened models (the SDKs nest them under `properties` on the wire).
 * REST reference: https://learn.microsoft.com/rest/api/virtualnetwork/ and
 * https://learn.microsoft.com/rest/api/compute/virtual-machines/create-or-update
 */
import { generateKeyPairSync } from 'node:crypto';
import type { VirtualMachine } from '@azure/arm-compute';
import type { NetworkInterface, NetworkSecurityGroup, PublicIPAddress, SecurityRule, VirtualNetwork } from '@azure/arm-network';
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest } from '../../src/core/provider.js';
import { PROVIDER } from './azure-errors.js';

/** The tag on every resource group (and resource) inletsctl creates; `list` filters on it. */
export const SHARED_TAG = 'inletsctl';
/** The tag naming the tunnel. */
export const NAME_TAG = 'inletsctl-name';
/** Linux admin user; no password, and a key whose private half is never kept (no SSH login). */
const ADMIN_USER = 'inletsctl';
const SUBNET = 'inletsctl';
const ADDRESS_SPACE = '10.80.0.0/24';

/** The steps of the chain, in the order they can be made. */
export type StepKind = 'vnet' | 'ip' | 'nsg' | 'nic' | 'vm';
export const STEP_LABEL: Record<StepKind, string> = { vnet: 'virtual network', ip: 'public IP', nsg: 'security group', nic: 'network interface', vm: 'VM' };

export function groupName(name: string): string {
  return `inletsctl-${name}`;
}

/** Resource names inside the group (the group already names the tunnel). */
export const resourceName: Record<StepKind, (name: string) => string> = {
  vnet: (n) => `${n}-vnet`,
  ip: (n) => `${n}-ip`,
  nsg: (n) => `${n}-nsg`,
  nic: (n) => `${n}-nic`,
  vm: (n) => n,
};

export function tagsFor(name: string): Record<string, string> {
  return { [SHARED_TAG]: 'true', [NAME_TAG]: name };
}

/** The ARM id of a resource of the tunnel. */
export function resourceId(subscriptionId: string, name: string, kind: StepKind): string {
  const type = { vnet: 'Microsoft.Network/virtualNetworks', ip: 'Microsoft.Network/publicIPAddresses', nsg: 'Microsoft.Network/networkSecurityGroups', nic: 'Microsoft.Network/networkInterfaces', vm: 'Microsoft.Compute/virtualMachines' }[kind];
  return `/subscriptions/${subscriptionId}/resourceGroups/${groupName(name)}/providers/${type}/${resourceName[kind](name)}`;
}

/**
 * Checks what Azure would refuse later: the name (resource group names allow up to 90
 * characters; a Linux computer name 64), the image URN, the ports.
 * @throws ProviderError INVALID
 */
export function checkRequest(req: CreateRequest): void {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(req.name)) {
    throw new ProviderError(PROVIDER, 'INVALID', `tunnel name "${req.name}" must be 1-63 lowercase letters, digits and dashes for an Azure VM name`, { retryable: false });
  }
  parseImageUrn(req.image);
  const ports = openPorts(req);
  if (ports.length > 100) throw new ProviderError(PROVIDER, 'INVALID', `at most 100 ports can be opened, not ${ports.length}`, { retryable: false });
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

/** The control port first, then the data ports, without repeats. */
export function openPorts(req: Pick<CreateRequest, 'controlPort' | 'ports'>): number[] {
  return [...new Set([req.controlPort, ...req.ports])];
}

export function virtualNetworkBody(req: CreateRequest): VirtualNetwork {
  return {
    location: req.region,
    tags: tagsFor(req.name),
    addressSpace: { addressPrefixes: [ADDRESS_SPACE] },
    subnets: [{ name: SUBNET, addressPrefix: ADDRESS_SPACE }],
  };
}

/**
 * A Standard-SKU static IPv4 (Basic public IPs were retired on 30 September 2025). Attached to the
 * NIC, it also gives the VM its outbound access (new subnets have no default outbound access).
 */
export function publicIpBody(req: CreateRequest): PublicIPAddress {
  return {
    location: req.region,
    tags: tagsFor(req.name),
    sku: { name: 'Standard', tier: 'Regional' },
    publicIPAllocationMethod: 'Static',
    publicIPAddressVersion: 'IPv4',
  };
}

/** Inbound TCP from anywhere to the control port and the data ports the user asked for; no other. */
export function securityGroupBody(req: CreateRequest): NetworkSecurityGroup {
  const rules: SecurityRule[] = openPorts(req).map((port, i) => ({
    name: `allow-tcp-${port}`,
    protocol: 'Tcp',
    access: 'Allow',
    direction: 'Inbound',
    priority: 1000 + i,
    sourceAddressPrefix: '*',
    sourcePortRange: '*',
    destinationAddressPrefix: '*',
    destinationPortRange: String(port),
  }));
  return { location: req.region, tags: tagsFor(req.name), securityRules: rules };
}

export function networkInterfaceBody(req: CreateRequest, subscriptionId: string): NetworkInterface {
  return {
    location: req.region,
    tags: tagsFor(req.name),
    networkSecurityGroup: { id: resourceId(subscriptionId, req.name, 'nsg') },
    ipConfigurations: [
      {
        name: 'ipconfig1',
        primary: true,
        privateIPAllocationMethod: 'Dynamic',
        subnet: { id: `${resourceId(subscriptionId, req.name, 'vnet')}/subnets/${SUBNET}` },
        publicIPAddress: { id: resourceId(subscriptionId, req.name, 'ip') },
      },
    ],
  };
}

/** The VM: the user-data as customData (base64), Standard HDD OS disk, no password, no usable key. */
export function virtualMachineBody(req: CreateRequest, subscriptionId: string): VirtualMachine {
  return {
    location: req.region,
    tags: tagsFor(req.name),
    hardwareProfile: { vmSize: req.plan },
    storageProfile: {
      imageReference: parseImageUrn(req.image),
      osDisk: { createOption: 'FromImage', deleteOption: 'Delete', managedDisk: { storageAccountType: 'Standard_LRS' } },
    },
    osProfile: {
      computerName: req.name,
      adminUsername: ADMIN_USER,
      customData: req.userData.toString('base64'),
      linuxConfiguration: {
        disablePasswordAuthentication: true,
        ssh: { publicKeys: [{ path: `/home/${ADMIN_USER}/.ssh/authorized_keys`, keyData: throwAwaySshKey() }] },
      },
    },
    networkProfile: {
      networkInterfaces: [{ id: resourceId(subscriptionId, req.name, 'nic'), primary: true, deleteOption: 'Delete' }],
    },
  };
}

/**
 * Azure requires a password or an SSH key for a Linux VM. This Ed25519 public key's private half is
 * discarded at once: nobody can log in, and no SSH port is opened anyway.
 */
function throwAwaySshKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} inletsctl-no-login`;
}
