/**
 * How the Azure fake answers GETs: resources as ARM returns them (id, name, type, location, tags,
 * properties with provisioningState; child collections such as subnets, security rules and IP
 * configurations with their own ids), never the VM's customData, and a VM's instance view on
 * `$expand=instanceView`.
 */
import { NAMESPACE, type ArmStore, type Group, type Json, type Resource } from './azure-fake-store.js';

export function renderGroup(g: Group): Json {
  return { id: `/subscriptions/${g.subscription}/resourceGroups/${g.name}`, name: g.name, type: 'Microsoft.Resources/resourceGroups', location: g.location, tags: g.tags, properties: { provisioningState: g.state } };
}

export function renderSubnet(vnet: Resource, s: Json): Json {
  return { id: `${vnet.id}/subnets/${String(s.name)}`, name: s.name, type: 'Microsoft.Network/virtualNetworks/subnets', properties: { ...((s.properties as Json) ?? {}), provisioningState: vnet.state === 'Updating' ? 'Updating' : vnet.state } };
}

/** A resource as ARM returns it: id, name, type, location, tags, properties with provisioningState. */
export function renderResource(r: Resource, store: ArmStore, instanceView: boolean): Json {
  const properties: Json = { ...r.properties, provisioningState: r.state };
  const body: Json = { id: r.id, name: r.name, type: `${NAMESPACE[r.kind]}/${r.kind}`, location: r.location, tags: r.tags, properties };
  if (r.sku) body.sku = r.sku;
  if (r.kind !== 'virtualMachines' && r.kind !== 'disks') body.etag = `W/"${r.operation ?? 'none'}"`;
  if (r.kind === 'virtualNetworks') properties.subnets = ((r.properties.subnets as Json[] | undefined) ?? []).map((s) => renderSubnet(r, s));
  if (r.kind === 'publicIPAddresses' && r.state === 'Succeeded') properties.ipAddress = r.ip;
  if (r.kind === 'networkSecurityGroups') {
    properties.securityRules = ((r.properties.securityRules as Json[] | undefined) ?? []).map((rule) => ({ id: `${r.id}/securityRules/${String(rule.name)}`, name: rule.name, type: 'Microsoft.Network/networkSecurityGroups/securityRules', properties: { ...((rule.properties as Json) ?? {}), provisioningState: r.state } }));
  }
  if (r.kind === 'networkInterfaces') {
    properties.ipConfigurations = ((r.properties.ipConfigurations as Json[] | undefined) ?? []).map((c, i) => ({ id: `${r.id}/ipConfigurations/${String(c.name)}`, name: c.name, type: 'Microsoft.Network/networkInterfaces/ipConfigurations', properties: { ...((c.properties as Json) ?? {}), privateIPAddress: `10.80.0.${4 + i}`, provisioningState: r.state } }));
  }
  if (r.kind === 'virtualMachines') {
    properties.vmId = r.vmId;
    properties.timeCreated = r.created;
    const disk = [...store.resources.values()].find((d) => d.kind === 'disks' && d.name.startsWith(`${r.name}_OsDisk_`) && d.group === r.group);
    const storage = (r.properties.storageProfile ?? {}) as Json;
    properties.storageProfile = { ...storage, osDisk: { ...((storage.osDisk as Json) ?? {}), osType: 'Linux', ...(disk ? { name: disk.name, managedDisk: { id: disk.id, storageAccountType: 'Standard_LRS' } } : {}) } };
    if (instanceView) {
      const failed = r.state === 'Failed' ? store.operations.get(r.operation ?? '')?.error : undefined;
      properties.instanceView = {
        statuses: failed
          ? [{ code: `ProvisioningState/failed/${failed.code}`, level: 'Error', displayStatus: 'Provisioning failed', message: failed.message }]
          : [{ code: `ProvisioningState/${r.state.toLowerCase()}`, level: 'Info', displayStatus: `Provisioning ${r.state.toLowerCase()}` }, ...(r.state === 'Succeeded' ? [{ code: 'PowerState/running', level: 'Info', displayStatus: 'VM running' }] : [])],
      };
    }
  }
  return body;
}
