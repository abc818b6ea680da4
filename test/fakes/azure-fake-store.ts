/**
 * The state of the Azure fake: subscriptions, resource groups, resources and long-running
 * operations, and how operations advance. An operation advances when it is observed (a GET of its
 * resource, of its Azure-AsyncOperation status or of its Location); after a set number of
 * observations it ends Succeeded (or Failed, when a failure was queued for it). A VM that
 * succeeds boots its customData through the shared booter on its public IP's loopback address;
 * a resource group that finishes deleting takes everything in it along (and stops its VM).
 */
import { randomUUID } from 'node:crypto';
import { allocateLoopbackAddress, InstanceBooter, type BootFunction } from './instance-booter.js';
import type { DeploymentRecord } from './azure-fake-deployments.js';

export type Json = Record<string, unknown>;
export type ResourceKind = 'virtualNetworks' | 'publicIPAddresses' | 'networkSecurityGroups' | 'networkInterfaces' | 'virtualMachines' | 'disks';

export const NAMESPACE: Record<ResourceKind, 'Microsoft.Network' | 'Microsoft.Compute'> = {
  virtualNetworks: 'Microsoft.Network',
  publicIPAddresses: 'Microsoft.Network',
  networkSecurityGroups: 'Microsoft.Network',
  networkInterfaces: 'Microsoft.Network',
  virtualMachines: 'Microsoft.Compute',
  disks: 'Microsoft.Compute',
};

export interface Group {
  subscription: string;
  name: string;
  location: string;
  tags: Record<string, string>;
  state: 'Succeeded' | 'Deleting';
  /** Made by the test as someone else's; inletsctl must never delete it. */
  foreign: boolean;
  deleteOperation?: string;
}

export interface Resource {
  id: string;
  kind: ResourceKind;
  name: string;
  subscription: string;
  group: string;
  location: string;
  tags: Record<string, string>;
  /** `properties` as last PUT (customData removed: Azure never returns it). */
  properties: Json;
  sku?: Json;
  state: string;
  operation?: string;
  foreign: boolean;
  /** Public IPs: the loopback address allocated at creation. */
  ip?: string;
  /** VMs: the custom data, decoded; vmId; the OS disk made with it. */
  customData?: Buffer;
  vmId?: string;
  created: string;
}

export interface Operation {
  id: string;
  namespace: 'Microsoft.Network' | 'Microsoft.Compute' | 'Microsoft.Resources';
  location: string;
  /** Key of the resource (or group) it acts on. */
  target: string;
  action: 'put' | 'delete' | 'delete-group';
  status: 'InProgress' | 'Succeeded' | 'Failed';
  left: number;
  error?: { code: string; message: string };
  startTime: string;
  endTime?: string;
}

export interface StoreOptions {
  activeAfterPolls: number;
  networkPolls: number;
  deletePolls: number;
  boot?: BootFunction | false;
}

export const groupKey = (subscription: string, name: string) => `${subscription}/${name}`.toLowerCase();
export const resourceKey = (id: string) => id.toLowerCase();

export class ArmStore {
  readonly groups = new Map<string, Group>();
  readonly resources = new Map<string, Resource>();
  readonly operations = new Map<string, Operation>();
  /** Template deployments, by deploymentKey (azure-fake-deployments.ts); they go with their group. */
  readonly deployments = new Map<string, DeploymentRecord>();
  readonly booter: InstanceBooter;
  private readonly failures: Array<{ kind: ResourceKind; error: { code: string; message: string } }> = [];
  private readonly neverNames = new Set<string>();
  private neverAll = false;

  constructor(
    private readonly options: StoreOptions,
    private readonly problem: (message: string) => void,
  ) {
    this.booter = new InstanceBooter({ boot: options.boot }, problem);
  }

  /** The next long-running PUT of `kind` ends Failed with `error`. */
  failNext(kind: ResourceKind, error: { code: string; message: string }): void {
    this.failures.push({ kind, error });
  }

  /** VMs (all, or those named) stay Creating forever. */
  neverActive(name?: string): void {
    if (name === undefined) this.neverAll = true;
    else this.neverNames.add(name.toLowerCase());
  }

  resourcesIn(subscription: string, group: string): Resource[] {
    const key = groupKey(subscription, group);
    return [...this.resources.values()].filter((r) => groupKey(r.subscription, r.group) === key);
  }

  /** Creates or replaces a resource from a PUT and starts its operation. */
  put(kind: ResourceKind, id: string, subscription: string, group: string, name: string, body: Json): { resource: Resource; operation: Operation; created: boolean } {
    const existing = this.resources.get(resourceKey(id));
    const properties = { ...((body.properties as Json | undefined) ?? {}) };
    let customData: Buffer | undefined;
    if (kind === 'virtualMachines') {
      const os = { ...((properties.osProfile as Json | undefined) ?? {}) };
      if (typeof os.customData === 'string') customData = Buffer.from(os.customData, 'base64');
      delete os.customData;
      properties.osProfile = os;
    }
    const resource: Resource = existing ?? {
      id,
      kind,
      name,
      subscription,
      group,
      location: String(body.location),
      tags: {},
      properties: {},
      state: 'Creating',
      foreign: false,
      created: new Date().toISOString(),
    };
    resource.location = String(body.location);
    resource.tags = { ...((body.tags as Record<string, string> | undefined) ?? {}) };
    resource.properties = properties;
    resource.sku = body.sku as Json | undefined;
    if (kind === 'publicIPAddresses' && !resource.ip) resource.ip = allocateLoopbackAddress();
    if (kind === 'virtualMachines') {
      resource.vmId ??= randomUUID();
      resource.customData = customData ?? resource.customData;
    }
    resource.state = kind === 'virtualMachines' && !existing ? 'Creating' : 'Updating';
    const failure = this.takeFailure(kind);
    const polls = kind === 'virtualMachines' ? this.options.activeAfterPolls : this.options.networkPolls;
    const operation = this.startOperation(NAMESPACE[kind], resource.location, resourceKey(id), 'put', polls, failure);
    resource.operation = operation.id;
    this.resources.set(resourceKey(id), resource);
    return { resource, operation, created: !existing };
  }

  /** Starts deleting a resource. */
  deleteResource(resource: Resource): Operation {
    resource.state = 'Deleting';
    const operation = this.startOperation(NAMESPACE[resource.kind], resource.location, resourceKey(resource.id), 'delete', this.options.networkPolls);
    resource.operation = operation.id;
    return operation;
  }

  /** Starts deleting a resource group (and, when that ends, everything in it). */
  deleteGroup(group: Group): Operation {
    group.state = 'Deleting';
    const operation = this.startOperation('Microsoft.Resources', group.location, groupKey(group.subscription, group.name), 'delete-group', this.options.deletePolls);
    group.deleteOperation = operation.id;
    return operation;
  }

  /**
   * A finished tunnel group as another inletsctl made it (see FakeEntry.seedHost): the group and
   * its VM and public IP, all Succeeded and carrying `tags`. Nothing boots on it.
   */
  seedGroup(subscription: string, group: string, location: string, tags: Record<string, string>, vmName: string): void {
    this.groups.set(groupKey(subscription, group), { subscription, name: group, location, tags, state: 'Succeeded', foreign: false });
    const base = `/subscriptions/${subscription}/resourceGroups/${group}/providers`;
    const made = (kind: ResourceKind, name: string, extra: Partial<Resource>): void => {
      const id = `${base}/${NAMESPACE[kind]}/${kind}/${name}`;
      this.resources.set(resourceKey(id), { id, kind, name, subscription, group, location, tags, properties: {}, state: 'Succeeded', foreign: false, created: new Date().toISOString(), ...extra });
    };
    made('publicIPAddresses', `${vmName}-ip`, { ip: allocateLoopbackAddress(), properties: { publicIPAllocationMethod: 'Static' } });
    made('virtualMachines', vmName, { vmId: randomUUID(), properties: { hardwareProfile: { vmSize: 'Standard_B1ls' } } });
  }

  /** One observation of a resource, group or operation: its operation advances a step. */
  observe(operationId: string | undefined): void {
    const op = operationId ? this.operations.get(operationId) : undefined;
    if (!op || op.status !== 'InProgress') return;
    if (op.action === 'put' && this.isNever(op)) return;
    op.left--;
    if (op.left <= 0) this.finish(op);
  }

  async stopAll(): Promise<void> {
    await this.booter.stopAll();
  }

  private isNever(op: Operation): boolean {
    const r = this.resources.get(op.target);
    return r?.kind === 'virtualMachines' && (this.neverAll || this.neverNames.has(r.name.toLowerCase()));
  }

  private startOperation(namespace: Operation['namespace'], location: string, target: string, action: Operation['action'], polls: number, error?: Operation['error']): Operation {
    const op: Operation = { id: randomUUID(), namespace, location, target, action, status: 'InProgress', left: Math.max(polls, 1), error, startTime: new Date().toISOString() };
    this.operations.set(op.id, op);
    return op;
  }

  private takeFailure(kind: ResourceKind): Operation['error'] {
    const i = this.failures.findIndex((f) => f.kind === kind);
    return i < 0 ? undefined : this.failures.splice(i, 1)[0].error;
  }

  private finish(op: Operation): void {
    op.endTime = new Date().toISOString();
    op.status = op.error ? 'Failed' : 'Succeeded';
    if (op.action === 'delete-group') {
      const group = this.groups.get(op.target);
      if (!group) return;
      for (const r of this.resourcesIn(group.subscription, group.name)) this.remove(r);
      for (const key of [...this.deployments.keys()]) if (key.startsWith(`${op.target}/`)) this.deployments.delete(key);
      this.groups.delete(op.target);
      return;
    }
    const resource = this.resources.get(op.target);
    if (!resource) return;
    if (op.action === 'delete') {
      this.remove(resource);
      return;
    }
    resource.state = op.error ? 'Failed' : 'Succeeded';
    if (!op.error && resource.kind === 'virtualMachines') this.bootVm(resource);
  }

  private remove(resource: Resource): void {
    this.resources.delete(resourceKey(resource.id));
    if (resource.kind === 'virtualMachines' && resource.vmId) void this.booter.stop(resource.vmId);
  }

  /** The VM's OS disk appears, and its custom data boots on its public IP's address. */
  private bootVm(vm: Resource): void {
    const diskName = `${vm.name}_OsDisk_1_${vm.vmId!.replace(/-/g, '').slice(0, 32)}`;
    const diskId = `/subscriptions/${vm.subscription}/resourceGroups/${vm.group}/providers/Microsoft.Compute/disks/${diskName}`;
    if (!this.resources.has(resourceKey(diskId))) {
      this.resources.set(resourceKey(diskId), {
        id: diskId,
        kind: 'disks',
        name: diskName,
        subscription: vm.subscription,
        group: vm.group,
        location: vm.location,
        tags: {},
        properties: { osType: 'Linux', diskSizeGB: 30, diskState: 'Attached' },
        sku: { name: 'Standard_LRS' },
        state: 'Succeeded',
        foreign: false,
        created: new Date().toISOString(),
      });
    }
    const nicRef = ((vm.properties.networkProfile as Json | undefined)?.networkInterfaces as Json[] | undefined)?.[0]?.id;
    const nic = typeof nicRef === 'string' ? this.resources.get(resourceKey(nicRef)) : undefined;
    const ipRef = (((nic?.properties.ipConfigurations as Json[] | undefined)?.[0]?.properties as Json | undefined)?.publicIPAddress as Json | undefined)?.id;
    const ip = typeof ipRef === 'string' ? this.resources.get(resourceKey(ipRef))?.ip : undefined;
    if (!ip) {
      this.problem(`VM ${vm.name} succeeded without a public IP on its NIC: nothing could reach it`);
      return;
    }
    if (!vm.customData?.length) {
      this.problem(`VM ${vm.name} has no customData to boot`);
      return;
    }
    this.booter.boot(vm.vmId!, vm.customData, ip);
  }
}
