/**
 * The ARM template of one tunnel, built in code as JSON: Azure runs it as ONE deployment
 * (Microsoft.Resources/deployments), creating the resources in dependsOn order, so nothing of a
 * create is held in inletsctl's memory and any process can read its progress from the deployment.
 *
 * - virtual network with one subnet; Standard static public IPv4 (Basic public IPs were retired
 *   on 30 September 2025; attached to the NIC it also gives the VM outbound access); network
 *   security group letting in TCP from anywhere to exactly the request's openPorts;
 * - NIC (dependsOn the three), VM (dependsOn the NIC) with the user-data as customData, passed as
 *   a secureString parameter so the deployment's stored parameters never show it;
 * - outputs: the public IP's address and the VM's resource id.
 *
 * Resource bodies are in the REST (wire) shape, `properties` nested. Template syntax:
 * https://learn.microsoft.com/azure/azure-resource-manager/templates/syntax ; resource schemas:
 * https://learn.microsoft.com/azure/templates/microsoft.network/virtualnetworks (and
 * publicipaddresses, networksecuritygroups, networkinterfaces),
 * https://learn.microsoft.com/azure/templates/microsoft.compute/virtualmachines
 */
import type { CreateRequest } from '../../src/core/provider.js';
import { parseImageUrn, resourceName, tagsFor, throwAwaySshKey } from './azure-resources.js';

/** Stable api-versions of the resource types in the template. */
export const TEMPLATE_API_VERSIONS = { network: '2024-05-01', compute: '2024-07-01' } as const;
const SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
/** Linux admin user; no password, and a key whose private half is never kept (no SSH login). */
const ADMIN_USER = 'inletsctl';
const SUBNET = 'inletsctl';
const ADDRESS_SPACE = '10.80.0.0/24';

/** The template's output names. */
export const OUTPUTS = { ip: 'publicIpAddress', vmId: 'vmId' } as const;

type Json = Record<string, unknown>;

const TYPES = {
  vnet: 'Microsoft.Network/virtualNetworks',
  ip: 'Microsoft.Network/publicIPAddresses',
  nsg: 'Microsoft.Network/networkSecurityGroups',
  nic: 'Microsoft.Network/networkInterfaces',
  vm: 'Microsoft.Compute/virtualMachines',
} as const;

/** A `[resourceId(...)]` expression (names are ours: [a-z0-9-], never a quote). */
function idOf(type: string, ...names: string[]): string {
  return `resourceId('${type}', ${names.map((n) => `'${n}'`).join(', ')})`;
}
const expr = (e: string) => `[${e}]`;

/** The deployment's `properties`: mode, template and parameters. */
export function deploymentProperties(req: CreateRequest): Json {
  return {
    mode: 'Incremental',
    template: tunnelTemplate(req),
    parameters: { customData: { value: req.userData.toString('base64') } },
  };
}

/** The template of one tunnel (see the file comment). */
export function tunnelTemplate(req: CreateRequest): Json {
  const n = req.name;
  const names = { vnet: resourceName.vnet(n), ip: resourceName.ip(n), nsg: resourceName.nsg(n), nic: resourceName.nic(n), vm: resourceName.vm(n) };
  const common = { location: req.region, tags: tagsFor(req) };
  const net = TEMPLATE_API_VERSIONS.network;
  const vnet = { type: TYPES.vnet, apiVersion: net, name: names.vnet, ...common, properties: { addressSpace: { addressPrefixes: [ADDRESS_SPACE] }, subnets: [{ name: SUBNET, properties: { addressPrefix: ADDRESS_SPACE } }] } };
  const ip = { type: TYPES.ip, apiVersion: net, name: names.ip, ...common, sku: { name: 'Standard', tier: 'Regional' }, properties: { publicIPAllocationMethod: 'Static', publicIPAddressVersion: 'IPv4' } };
  const nsg = {
    type: TYPES.nsg, apiVersion: net, name: names.nsg, ...common,
    properties: {
      securityRules: req.openPorts.map((port, i) => ({
        name: `allow-tcp-${port}`,
        properties: { protocol: 'Tcp', access: 'Allow', direction: 'Inbound', priority: 1000 + i, sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*', destinationPortRange: String(port) },
      })),
    },
  };
  const nic = {
    type: TYPES.nic, apiVersion: net, name: names.nic, ...common,
    dependsOn: [expr(idOf(TYPES.vnet, names.vnet)), expr(idOf(TYPES.ip, names.ip)), expr(idOf(TYPES.nsg, names.nsg))],
    properties: {
      networkSecurityGroup: { id: expr(idOf(TYPES.nsg, names.nsg)) },
      ipConfigurations: [{
        name: 'ipconfig1',
        properties: {
          primary: true,
          privateIPAllocationMethod: 'Dynamic',
          subnet: { id: expr(idOf(`${TYPES.vnet}/subnets`, names.vnet, SUBNET)) },
          publicIPAddress: { id: expr(idOf(TYPES.ip, names.ip)) },
        },
      }],
    },
  };
  const vm = {
    type: TYPES.vm, apiVersion: TEMPLATE_API_VERSIONS.compute, name: names.vm, ...common,
    dependsOn: [expr(idOf(TYPES.nic, names.nic))],
    properties: {
      hardwareProfile: { vmSize: req.plan },
      storageProfile: {
        imageReference: parseImageUrn(req.image),
        osDisk: { createOption: 'FromImage', deleteOption: 'Delete', managedDisk: { storageAccountType: 'Standard_LRS' } },
      },
      osProfile: {
        computerName: req.name,
        adminUsername: ADMIN_USER,
        customData: expr("parameters('customData')"),
        linuxConfiguration: {
          disablePasswordAuthentication: true,
          ssh: { publicKeys: [{ path: `/home/${ADMIN_USER}/.ssh/authorized_keys`, keyData: throwAwaySshKey() }] },
        },
      },
      networkProfile: { networkInterfaces: [{ id: expr(idOf(TYPES.nic, names.nic)), properties: { primary: true, deleteOption: 'Delete' } }] },
    },
  };
  return {
    $schema: SCHEMA,
    contentVersion: '1.0.0.0',
    parameters: { customData: { type: 'secureString', metadata: { description: 'cloud-init user-data, base64' } } },
    resources: [vnet, ip, nsg, nic, vm],
    outputs: {
      [OUTPUTS.ip]: { type: 'string', value: expr(`reference(${idOf(TYPES.ip, names.ip)}, '${net}').ipAddress`) },
      [OUTPUTS.vmId]: { type: 'string', value: expr(idOf(TYPES.vm, names.vm)) },
    },
  };
}
