/**
 * The EC2 fake's state and the operations inletsctl uses, per region: instances (with a root
 * volume and a network interface each), security groups, and the catalog (images, instance types,
 * VPCs, subnets, key pairs). Inputs and outputs are the model's shapes keyed by member names
 * (ec2-model.ts turns them into the wire format); failures are {@link Ec2Fault}s with EC2's codes
 * and messages.
 *
 * Lifecycle: an instance is `pending` without a public IP for `activeAfterPolls` observations
 * (DescribeInstances answers that include it), then `running` with a loopback address as its
 * public IP, and its user-data is booted there. TerminateInstances makes it `shutting-down` (it
 * stops at once) and, after `terminateAfterPolls` observations, `terminated`: its volume and
 * network interface are deleted then (the volume only if DeleteOnTermination), and its security
 * groups are free. A security group in use by an instance that is not terminated cannot be
 * deleted (DependencyViolation). Security-group actions are in ec2-groups.ts, RunInstances in
 * ec2-run-instances.ts.
 */
import { randomBytes } from 'node:crypto';
import { ACCOUNT_ID, IMAGES, INSTANCE_TYPES, REGIONS, regionNetwork } from './ec2-catalog.js';
import { Ec2Fault, applyFilters, paginate, type FilterInput, type TagInput } from './ec2-filters.js';
import { handleGroupAction } from './ec2-groups.js';
import { runInstance } from './ec2-run-instances.js';

export interface WorldOptions {
  activeAfterPolls: number;
  terminateAfterPolls: number;
  /** Largest page served, whatever MaxResults asks. */
  maxPerPage: number;
  /** DescribeInstances by id answers NotFound this many times after launch (eventual consistency). */
  lagPolls: number;
}

export interface InstanceRecord {
  id: string;
  region: string;
  reservationId: string;
  imageId: string;
  instanceType: string;
  architecture: 'arm64' | 'x86_64';
  keyName?: string;
  state: 'pending' | 'running' | 'shutting-down' | 'terminated';
  polls: number;
  idLookups: number;
  ip?: string;
  /** Asked for a public IPv4 on its network interface (outside the default subnet). */
  associatePublicIp?: boolean;
  privateIp: string;
  vpcId: string;
  subnetId: string;
  groupIds: string[];
  tags: TagInput[];
  userData: Buffer;
  launchTime: Date;
  clientToken?: string;
  fingerprint: string;
  rootDevice: string;
  volume: { id: string; deleteOnTermination: boolean; type: string; tags: TagInput[]; deleted: boolean };
  eni: { id: string; tags: TagInput[]; deleted: boolean };
  /** CreditSpecification.CpuCredits as asked, if at all. */
  cpuCredits?: string;
  httpTokens: string;
  foreign: boolean;
}

export interface GroupRecord {
  id: string;
  region: string;
  name: string;
  description: string;
  vpcId: string;
  tags: TagInput[];
  ingress: Array<Record<string, unknown>>;
  isDefault: boolean;
  foreign: boolean;
}

/** What the world reports to the booter and the tests. */
export interface WorldEvents {
  started(instance: InstanceRecord): void;
  stopped(instance: InstanceRecord): void;
}

const STATE_CODES = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48 } as const;

export class Ec2World {
  readonly instances = new Map<string, InstanceRecord>();
  readonly groups = new Map<string, GroupRecord>();
  readonly neverActive = new Set<string>();
  neverActiveAll = false;

  constructor(
    readonly options: WorldOptions,
    private readonly events: WorldEvents,
    private readonly allocateIp: () => string,
  ) {
    for (const region of REGIONS) {
      const net = regionNetwork(region);
      for (const vpcId of [net.defaultVpc, net.otherVpc]) {
        const id = newId('sg');
        this.groups.set(id, { id, region, name: 'default', description: 'default VPC security group', vpcId, tags: [], ingress: [], isDefault: true, foreign: true });
      }
    }
  }

  /** Resources that exist before the test, not made by inletsctl: they must survive it. */
  addForeign(region: string, count: number): void {
    const net = regionNetwork(region);
    const id = newId('sg');
    this.groups.set(id, { id, region, name: 'web', description: 'web servers', vpcId: net.defaultVpc, tags: [{ Key: 'team', Value: 'web' }], ingress: [], isDefault: false, foreign: true });
    for (let i = 0; i < count; i++) {
      const launched = runInstance(this, region, { ImageId: IMAGES[0].ImageId, InstanceType: 't3.nano', MinCount: 1, MaxCount: 1, SecurityGroupIds: [id], TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: `web-${i + 1}` }] }] });
      const record = this.instances.get((launched.Instances as Array<{ InstanceId: string }>)[0].InstanceId)!;
      record.foreign = true;
      record.state = 'running';
      record.ip = `192.0.2.${10 + i}`;
    }
  }

  /**
   * A running instance as another inletsctl made it (see FakeEntry.seedHost), in the default VPC's
   * default group: `Name` and our marks as tags. Nothing boots on it.
   * @returns its instance id
   */
  seedInstance(region: string, tags: TagInput[]): string {
    const launched = runInstance(this, region, { ImageId: IMAGES[0].ImageId, InstanceType: 't3.nano', MinCount: 1, MaxCount: 1, TagSpecifications: [{ ResourceType: 'instance', Tags: tags }] });
    const record = this.instances.get((launched.Instances as Array<{ InstanceId: string }>)[0].InstanceId)!;
    record.state = 'running';
    record.ip = this.allocateIp();
    return record.id;
  }

  handle(region: string, action: string, input: Record<string, unknown>): Record<string, unknown> {
    if (!REGIONS.includes(region)) throw new Ec2Fault(401, 'AuthFailure', `Credential should be scoped to a valid region, not '${region}'.`);
    switch (action) {
      case 'DescribeInstanceTypes':
        return this.describeInstanceTypes(input);
      case 'DescribeImages':
        return this.describeImages(input);
      case 'RunInstances':
        return runInstance(this, region, input);
      case 'DescribeInstances':
        return this.describeInstances(region, input);
      case 'TerminateInstances':
        return this.terminateInstances(region, input);
      default:
        return handleGroupAction(this, region, action, input);
    }
  }

  private describeInstanceTypes(input: Record<string, unknown>): Record<string, unknown> {
    const asked = (input.InstanceTypes as string[] | undefined) ?? Object.keys(INSTANCE_TYPES);
    const unknown = asked.filter((t) => !INSTANCE_TYPES[t]);
    if (unknown.length) throw new Ec2Fault(400, 'InvalidInstanceType', `The following supplied instance types do not exist: [${unknown.join(', ')}]`);
    if (input.Filters) throw new Ec2Fault(400, 'InvalidParameterValue', 'This fake supports DescribeInstanceTypes without filters only');
    return {
      InstanceTypes: asked.map((t) => {
        const info = INSTANCE_TYPES[t];
        return {
          InstanceType: t,
          CurrentGeneration: true,
          SupportedUsageClasses: ['on-demand', 'spot'],
          SupportedRootDeviceTypes: ['ebs'],
          SupportedVirtualizationTypes: ['hvm'],
          BareMetal: false,
          Hypervisor: 'nitro',
          ProcessorInfo: { SupportedArchitectures: [info.architecture], Manufacturer: info.architecture === 'arm64' ? 'AWS' : 'Intel' },
          VCpuInfo: { DefaultVCpus: info.vcpus },
          MemoryInfo: { SizeInMiB: info.memoryMiB },
          BurstablePerformanceSupported: info.burstable,
        };
      }),
    };
  }

  private describeImages(input: Record<string, unknown>): Record<string, unknown> {
    const ids = input.ImageIds as string[] | undefined;
    if (ids && input.MaxResults !== undefined) throw new Ec2Fault(400, 'InvalidParameterCombination', 'The parameter imageIdsSet cannot be used with the parameter maxResults');
    const owners = ((input.Owners as string[] | undefined) ?? []).map((o) => (o === 'self' ? ACCOUNT_ID : o));
    let images = IMAGES.map((i) => ({ ...i, tags: [] as TagInput[] }));
    if (ids) {
      const missing = ids.filter((id) => !images.some((i) => i.ImageId === id));
      if (missing.length) throw new Ec2Fault(400, 'InvalidAMIID.NotFound', `The image id '[${missing.join(', ')}]' does not exist`);
      images = images.filter((i) => ids.includes(i.ImageId));
    }
    if (owners.length) images = images.filter((i) => owners.includes(i.OwnerId));
    images = applyFilters(images, input.Filters as FilterInput[] | undefined, {
      name: (i) => i.Name,
      architecture: (i) => i.Architecture,
      state: (i) => i.State,
      'image-id': (i) => i.ImageId,
      'owner-id': (i) => i.OwnerId,
    });
    const { page, nextToken } = paginate(images, input as { MaxResults?: number; NextToken?: string }, { min: 5, max: 1000, cap: this.options.maxPerPage });
    return {
      Images: page.map((i) => ({
        ImageId: i.ImageId,
        ImageLocation: `${i.OwnerId}/${i.Name}`,
        State: i.State,
        OwnerId: i.OwnerId,
        CreationDate: i.CreationDate,
        Public: true,
        Architecture: i.Architecture,
        ImageType: 'machine',
        Name: i.Name,
        Description: i.Description,
        RootDeviceType: 'ebs',
        RootDeviceName: i.RootDeviceName,
        VirtualizationType: 'hvm',
        Hypervisor: 'xen',
        EnaSupport: true,
        BootMode: 'uefi-preferred',
        BlockDeviceMappings: [{ DeviceName: i.RootDeviceName, Ebs: { DeleteOnTermination: true, SnapshotId: `snap-${i.ImageId.slice(4)}`, VolumeSize: 8, VolumeType: 'gp2', Encrypted: false } }],
      })),
      NextToken: nextToken,
    };
  }

  private describeInstances(region: string, input: Record<string, unknown>): Record<string, unknown> {
    const ids = input.InstanceIds as string[] | undefined;
    if (ids && input.MaxResults !== undefined) throw new Ec2Fault(400, 'InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
    let found = [...this.instances.values()].filter((i) => i.region === region);
    if (ids) {
      for (const id of ids) {
        if (!/^i-[0-9a-f]{8,17}$/.test(id)) throw new Ec2Fault(400, 'InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
        const inst = found.find((i) => i.id === id);
        if (!inst || inst.idLookups++ < this.options.lagPolls) throw new Ec2Fault(400, 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      }
      found = found.filter((i) => ids.includes(i.id));
    }
    const fields = {
      'instance-id': (i: InstanceRecord) => i.id,
      'instance-state-name': (i: InstanceRecord) => i.state,
      'ip-address': (i: InstanceRecord) => i.ip,
      'vpc-id': (i: InstanceRecord) => i.vpcId,
      'subnet-id': (i: InstanceRecord) => i.subnetId,
      'instance-type': (i: InstanceRecord) => i.instanceType,
      'image-id': (i: InstanceRecord) => i.imageId,
    };
    const filters = input.Filters as FilterInput[] | undefined;
    for (const inst of applyFilters(found, filters, fields)) this.observe(inst);
    // Observed again after the transitions: an instance that just terminated drops out of a state filter.
    const matched = applyFilters(found, filters, fields);
    const { page, nextToken } = paginate(matched, input as { MaxResults?: number; NextToken?: string }, { min: 5, max: 1000, cap: this.options.maxPerPage });
    return {
      Reservations: page.map((i) => ({ ReservationId: i.reservationId, OwnerId: ACCOUNT_ID, Groups: [], Instances: [this.instanceJson(i)] })),
      NextToken: nextToken,
    };
  }

  private terminateInstances(region: string, input: Record<string, unknown>): Record<string, unknown> {
    const ids = input.InstanceIds as string[];
    const found = ids.map((id) => [id, this.instances.get(id)] as const);
    const missing = found.filter(([, i]) => !i || i.region !== region).map(([id]) => id);
    if (missing.length) throw new Ec2Fault(400, 'InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
    return {
      TerminatingInstances: found.map(([, i]) => {
        const previous = this.stateJson(i!.state);
        if (i!.state === 'pending' || i!.state === 'running') {
          i!.state = 'shutting-down';
          i!.polls = 0;
          this.events.stopped(i!);
        }
        return { InstanceId: i!.id, PreviousState: previous, CurrentState: this.stateJson(i!.state) };
      }),
    };
  }

  /** A DescribeInstances answer includes the instance: its lifecycle moves on. */
  private observe(i: InstanceRecord): void {
    if (i.foreign || i.state === 'running' || i.state === 'terminated') return;
    i.polls++;
    if (i.state === 'pending') {
      const name = i.tags.find((t) => t.Key === 'Name')?.Value ?? '';
      if (this.neverActiveAll || this.neverActive.has(name) || i.polls < this.options.activeAfterPolls) return;
      i.state = 'running';
      i.polls = 0;
      if (this.publicIpFor(i)) i.ip = this.allocateIp();
      this.events.started(i);
    } else if (i.polls >= this.options.terminateAfterPolls) {
      i.state = 'terminated';
      i.ip = undefined;
      i.eni.deleted = true;
      if (i.volume.deleteOnTermination) i.volume.deleted = true;
    }
  }

  private publicIpFor(i: InstanceRecord): boolean {
    return i.subnetId === regionNetwork(i.region).defaultSubnet || i.associatePublicIp === true;
  }

  stateJson(state: InstanceRecord['state']): Record<string, unknown> {
    return { Code: STATE_CODES[state], Name: state };
  }

  instanceJson(i: InstanceRecord): Record<string, unknown> {
    const gone = i.state === 'shutting-down' || i.state === 'terminated';
    return {
      InstanceId: i.id,
      ImageId: i.imageId,
      State: this.stateJson(i.state),
      PrivateDnsName: `ip-${i.privateIp.replace(/\./g, '-')}.${i.region}.compute.internal`,
      PublicDnsName: i.ip ? `ec2-${i.ip.replace(/\./g, '-')}.${i.region}.compute.amazonaws.com` : '',
      StateTransitionReason: gone ? 'User initiated' : '',
      KeyName: i.keyName,
      AmiLaunchIndex: 0,
      ProductCodes: [],
      InstanceType: i.instanceType,
      LaunchTime: i.launchTime,
      Placement: { AvailabilityZone: `${i.region}a`, Tenancy: 'default' },
      Monitoring: { State: 'disabled' },
      SubnetId: i.state === 'terminated' ? undefined : i.subnetId,
      VpcId: i.state === 'terminated' ? undefined : i.vpcId,
      PrivateIpAddress: i.state === 'terminated' ? undefined : i.privateIp,
      PublicIpAddress: i.ip,
      Architecture: i.architecture,
      BlockDeviceMappings: i.state === 'terminated' ? [] : [{ DeviceName: i.rootDevice, Ebs: { AttachTime: i.launchTime, DeleteOnTermination: i.volume.deleteOnTermination, Status: 'attached', VolumeId: i.volume.id } }],
      ClientToken: i.clientToken,
      EbsOptimized: false,
      EnaSupport: true,
      Hypervisor: 'xen',
      RootDeviceName: i.rootDevice,
      RootDeviceType: 'ebs',
      SecurityGroups: i.state === 'terminated' ? [] : i.groupIds.map((id) => ({ GroupId: id, GroupName: this.groups.get(id)?.name })),
      SourceDestCheck: true,
      StateReason: gone ? { Code: 'Client.UserInitiatedShutdown', Message: 'Client.UserInitiatedShutdown: User initiated shutdown' } : undefined,
      Tags: i.tags,
      VirtualizationType: 'hvm',
      MetadataOptions: { State: 'applied', HttpTokens: i.httpTokens, HttpPutResponseHopLimit: 2, HttpEndpoint: 'enabled' },
      BootMode: 'uefi-preferred',
    };
  }

  groupOf(region: string, id: string | undefined): GroupRecord {
    if (!id) throw new Ec2Fault(400, 'MissingParameter', 'The request must contain the parameter groupId (this fake does not look groups up by name)');
    const g = this.groups.get(id);
    if (!g || g.region !== region) throw new Ec2Fault(400, 'InvalidGroup.NotFound', `The security group '${id}' does not exist`);
    return g;
  }
}

/**
 * The tags of one resource type from TagSpecifications.
 * @throws Ec2Fault for a resource type this call does not tag
 */
export function tagsFor(specs: unknown, resourceType: string, allowed: string[]): TagInput[] {
  const list = (specs as Array<{ ResourceType?: string; Tags?: TagInput[] }> | undefined) ?? [];
  for (const s of list) {
    if (!allowed.includes(s.ResourceType ?? '')) throw new Ec2Fault(400, 'InvalidParameterValue', `'${s.ResourceType}' is not a valid taggable resource type for this operation.`);
    for (const t of s.Tags ?? []) {
      if (!t.Key || t.Key.length > 128 || (t.Value ?? '').length > 256 || t.Key.startsWith('aws:')) throw new Ec2Fault(400, 'InvalidParameterValue', `Tag key or value is invalid: ${t.Key}`);
    }
  }
  return list.filter((s) => s.ResourceType === resourceType).flatMap((s) => s.Tags ?? []);
}

/** An id in EC2's style: prefix and 17 hex digits. */
export function newId(prefix: string): string {
  return `${prefix}-0${randomBytes(8).toString('hex')}`;
}
