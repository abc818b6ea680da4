/**
 * The EC2 provider: per tunnel, one instance (with its root volume and network interface) and one
 * security group, all tagged with the tunnel's marks, its tunnel id among them (see ec2-tags.ts).
 *
 * create: instance type → architecture, Debian's AMI for it, the security group and its rules,
 *   then RunInstances (with a ClientToken, so a repeated create never launches twice). If a step
 *   after the group fails, the group is deleted again before the error is thrown. Once RunInstances
 *   is accepted, EC2 holds everything: any process can read or delete the tunnel from its HostRef.
 * status: DescribeInstances, by id or else by the tunnel-id tag; reads only.
 * delete (a step): terminate instance `ref.id` (only with our mark, else FORBIDDEN) and the
 *   instances tagged with the tunnel id; 'pending' until they are terminated; then delete the
 *   security groups tagged with that id ('pending' while EC2 still holds them); then 'done'.
 *   Nothing is ever found by name.
 * API reference: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/
 */
import { DescribeInstancesCommand, RunInstancesCommand, TerminateInstancesCommand, type Filter, type Instance, type RunInstancesCommandInput, type _InstanceType } from '@aws-sdk/client-ec2';
import { ProviderError, UsageError } from '../../src/errors.js';
import type { CreateRequest, Host, HostRef, HostStatus, Provider, ProviderContext } from '../../src/core/provider.js';
import { notRetryable } from '../shared/rest-client.js';
import { tunnelIdOfRef } from '../shared/ref-tunnel-id.js';
import { Ec2Api, credentialSource, endpointOverride } from './ec2-api.js';
import { ec2ErrorCode } from './ec2-errors.js';
import { chooseImage, describePlan } from './ec2-images.js';
import { homeRegion, rememberRegion, rememberedRegions } from './ec2-regions.js';
import { createTunnelGroup, deleteGroup, openPorts, tunnelGroups } from './ec2-security-group.js';
import { MANAGED_TAG, TUNNEL_TAG, clientToken, readTagMarks, tunnelTags } from './ec2-tags.js';
import { ec2Provider } from './index.js';

const PROVIDER = 'ec2';
/** EC2's limit on raw user-data: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html */
const USER_DATA_LIMIT = ec2Provider.description.userData.limitBytes;
/** DescribeInstances page size (5 to 1000). */
const PAGE_SIZE = 1000;
/** Every state but terminated: what "exists" means for list, status and delete. */
const LIVE_STATES = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'];

/** EC2's instance states in our vocabulary. */
export function mapInstanceState(state: string | undefined): HostStatus {
  switch (state) {
    case 'pending':
      return 'provisioning';
    case 'running':
      return 'active';
    case 'shutting-down':
      return 'deleting';
    default: // stopping, stopped: will not serve the tunnel; terminated: gone (capacity, limits…)
      return 'error';
  }
}

export interface Ec2Options {
  vpcId?: string;
  subnetId?: string;
  keyName?: string;
}

/**
 * Reads the extra flags. @throws UsageError `VPC_SUBNET` unless --vpc-id and --subnet-id come
 * together (the group is made in the VPC and the instance in the subnet, which must match).
 */
export function ec2Options(options: Record<string, unknown>): Ec2Options {
  const str = (k: string) => (typeof options[k] === 'string' && options[k] !== '' ? (options[k] as string) : undefined);
  const vpcId = str('vpc-id');
  const subnetId = str('subnet-id');
  if ((vpcId === undefined) !== (subnetId === undefined)) {
    throw new UsageError('--vpc-id and --subnet-id go together: give both (a subnet of that VPC) or neither (the default VPC)', 'VPC_SUBNET');
  }
  if (vpcId !== undefined && !/^vpc-[0-9a-f]+$/.test(vpcId)) throw new UsageError(`--vpc-id ${vpcId} is not a VPC id (vpc-…)`, 'VPC_SUBNET');
  if (subnetId !== undefined && !/^subnet-[0-9a-f]+$/.test(subnetId)) throw new UsageError(`--subnet-id ${subnetId} is not a subnet id (subnet-…)`, 'VPC_SUBNET');
  return { vpcId, subnetId, keyName: str('aws-key-name') };
}

export function createEc2Provider(ctx: ProviderContext): Provider {
  const options = ec2Options(ctx.options);
  const api = new Ec2Api(credentialSource(ctx), endpointOverride(ctx));
  return new Ec2Provider(api, options, ctx.stateDir, homeRegion(ec2Provider.description.defaults.region));
}

export class Ec2Provider implements Provider {
  constructor(
    private readonly api: Ec2Api,
    private readonly options: Ec2Options,
    private readonly stateDir: string,
    private readonly defaultRegion: string,
  ) {}

  async create(req: CreateRequest): Promise<Host> {
    if (req.userData.length > USER_DATA_LIMIT) {
      throw new ProviderError(PROVIDER, 'INVALID', `user-data is ${req.userData.length} bytes; EC2 takes at most ${USER_DATA_LIMIT}`, { retryable: false });
    }
    const region = req.region;
    const plan = await describePlan(this.api, region, req.plan);
    const image = await chooseImage(this.api, region, req.image, plan.architecture);
    await rememberRegion(this.stateDir, region);
    const group = await createTunnelGroup(this.api, region, req, this.options.vpcId);
    let instance: Instance | undefined;
    try {
      await openPorts(this.api, region, group.groupId, req.openPorts);
      const out = await this.api.call(region, 'RunInstances', (c, abortSignal) =>
        c.send(new RunInstancesCommand(this.runInput(req, image.imageId, image.rootDeviceName, plan.burstable, group.groupId)), { abortSignal }),
      );
      instance = out.Instances?.[0];
      if (!instance?.InstanceId) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'RunInstances answered without an instance', { retryable: false });
    } catch (err) {
      throw await this.undoGroup(err, region, group.groupId);
    }
    // The tunnel id in data too: a caller that keeps data but not the HostRef's tunnelId still finds the group.
    return { ...this.toHost(instance, region, req.name), tunnelId: req.tunnelId, data: { securityGroupId: group.groupId, tunnelId: req.tunnelId } };
  }

  async status(ref: HostRef): Promise<Host> {
    const region = ref.region ?? this.defaultRegion;
    if (!ref.id && !ref.tunnelId) throw new ProviderError(PROVIDER, 'NOT_FOUND', `no instance id or tunnel id for "${ref.name}": EC2 is never searched by name`, { retryable: false });
    const instances = ref.id ? await this.byId(region, ref.id) : await this.liveInstancesOf(region, ref.tunnelId!);
    const newest = instances.sort((a, b) => (b.LaunchTime?.getTime() ?? 0) - (a.LaunchTime?.getTime() ?? 0))[0];
    if (!newest) throw new ProviderError(PROVIDER, 'NOT_FOUND', ref.id ? `instance ${ref.id} not found in ${region}` : `no instance tagged ${TUNNEL_TAG}=${ref.tunnelId} in ${region}`);
    return { ...this.toHost(newest, region, ref.name), data: ref.data };
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    const region = ref.region ?? this.defaultRegion;
    let tunnelId = tunnelIdOfRef(ref);
    const instances: Instance[] = [];
    if (ref.id) {
      const [byId] = await this.byId(region, ref.id);
      if (byId) {
        const marks = readTagMarks(byId.Tags);
        if (!marks.ours) {
          throw new ProviderError(PROVIDER, 'FORBIDDEN', `instance ${ref.id} was not created by inletsctl (no inletsctl tag); not deleting it`, { retryable: false });
        }
        tunnelId ??= marks.tunnelId; // delete --id: the instance and what carries its tunnel id
        if (byId.State?.Name !== 'terminated') instances.push(byId);
      }
    } else if (!tunnelId) {
      throw new ProviderError(PROVIDER, 'INVALID', `no instance id or tunnel id for "${ref.name}": EC2 is never searched by name`, { retryable: false });
    }
    if (tunnelId) {
      for (const i of await this.liveInstancesOf(region, tunnelId)) if (!instances.some((x) => x.InstanceId === i.InstanceId)) instances.push(i);
    }
    const toTerminate = instances.filter((i) => i.State?.Name !== 'shutting-down').map((i) => i.InstanceId!);
    if (toTerminate.length > 0) {
      await this.api.call(region, 'TerminateInstances', (c, abortSignal) => c.send(new TerminateInstancesCommand({ InstanceIds: toTerminate }), { abortSignal }));
    }
    if (instances.length > 0) return 'pending'; // the groups go once the instances are terminated
    // A host made before v2 has no tunnel id: its instance goes, its group (name tag only) stays.
    if (!tunnelId) return 'done';
    let result: 'done' | 'pending' = 'done';
    for (const group of await tunnelGroups(this.api, region, tunnelId)) {
      if ((await deleteGroup(this.api, region, group.GroupId!)) === 'pending') result = 'pending';
    }
    return result;
  }

  async list(): Promise<Host[]> {
    const regions = [...new Set([this.defaultRegion, ...(await rememberedRegions(this.stateDir))])];
    const hosts: Host[] = [];
    for (const region of regions) {
      const instances = await this.describe(region, [
        { Name: `tag:${MANAGED_TAG}`, Values: ['true'] },
        { Name: 'instance-state-name', Values: LIVE_STATES },
      ]);
      hosts.push(...instances.map((i) => this.toHost(i, region, i.InstanceId!)));
    }
    return hosts;
  }

  private runInput(req: CreateRequest, imageId: string, rootDevice: string | undefined, burstable: boolean, groupId: string): RunInstancesCommandInput {
    const tags = tunnelTags(req);
    const { subnetId, keyName } = this.options;
    return {
      ImageId: imageId,
      InstanceType: req.plan as _InstanceType,
      MinCount: 1,
      MaxCount: 1,
      ClientToken: clientToken(req.tunnelId, req.userData),
      UserData: req.userData.toString('base64'),
      KeyName: keyName,
      // In a chosen subnet the instance asks for a public IPv4 itself; the default VPC's subnets give one.
      ...(subnetId
        ? { NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId, Groups: [groupId], AssociatePublicIpAddress: true, DeleteOnTermination: true }] }
        : { SecurityGroupIds: [groupId] }),
      // The root volume goes with the instance, whatever the AMI says; gp3 is cheaper than gp2.
      BlockDeviceMappings: rootDevice ? [{ DeviceName: rootDevice, Ebs: { DeleteOnTermination: true, VolumeType: 'gp3' } }] : undefined,
      CreditSpecification: burstable ? { CpuCredits: 'standard' } : undefined,
      MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
      TagSpecifications: (['instance', 'volume', 'network-interface'] as const).map((ResourceType) => ({ ResourceType, Tags: tags })),
    };
  }

  /**
   * After a failed step following the group's creation: deletes the group, and returns the error
   * to throw. When the group cannot go (the instance exists after all: RunInstances' answer was
   * lost), the error becomes final, so the CLI cleans up by tunnel id instead of creating again.
   */
  private async undoGroup(err: unknown, region: string, groupId: string): Promise<unknown> {
    try {
      if ((await deleteGroup(this.api, region, groupId)) === 'done') return err;
    } catch {
      // Reported below: the caller's delete by tunnel id removes it.
    }
    return notRetryable(err, PROVIDER, `security group ${groupId} was left for cleanup`);
  }

  private async byId(region: string, id: string): Promise<Instance[]> {
    try {
      const out = await this.api.call(region, 'DescribeInstances', (c, abortSignal) => c.send(new DescribeInstancesCommand({ InstanceIds: [id] }), { abortSignal }));
      return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    } catch (err) {
      // EC2 answers NotFound for an unknown id, and for a few seconds after RunInstances.
      if (ec2ErrorCode(err) === 'InvalidInstanceID.NotFound') return [];
      throw err;
    }
  }

  /** The instances tagged with `tunnelId` that are not terminated (and carry our mark). */
  private async liveInstancesOf(region: string, tunnelId: string): Promise<Instance[]> {
    const found = await this.describe(region, [
      { Name: `tag:${TUNNEL_TAG}`, Values: [tunnelId] },
      { Name: 'instance-state-name', Values: LIVE_STATES },
    ]);
    return found.filter((i) => readTagMarks(i.Tags).ours);
  }

  /** DescribeInstances with `filters`, every page. */
  private async describe(region: string, filters: Filter[]): Promise<Instance[]> {
    const out: Instance[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const res = await this.api.call(region, 'DescribeInstances', (c, abortSignal) =>
        c.send(new DescribeInstancesCommand({ Filters: filters, MaxResults: PAGE_SIZE, NextToken: nextToken }), { abortSignal }),
      );
      out.push(...(res.Reservations ?? []).flatMap((r) => r.Instances ?? []));
      nextToken = res.NextToken || undefined;
      if (!nextToken) return out;
    }
    throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'DescribeInstances: too many pages');
  }

  private toHost(i: Instance, region: string, fallbackName: string): Host {
    const state = i.State?.Name;
    const reason = state === 'terminated' && i.StateReason?.Message ? ` (${i.StateReason.Message})` : '';
    const marks = readTagMarks(i.Tags);
    return {
      name: marks.name ?? fallbackName,
      tunnelId: marks.tunnelId,
      expiresAt: marks.expiresAt,
      id: i.InstanceId!,
      ip: i.PublicIpAddress,
      region,
      status: mapInstanceState(state),
      providerStatus: `${state ?? 'unknown'}${reason}`,
      createdAt: i.LaunchTime?.toISOString(),
    };
  }
}
