/**
 * RunInstances in the EC2 fake, with the checks EC2 makes that matter to inletsctl: the image
 * exists and matches the instance type's architecture, user-data fits in 16 KiB (raw), key pair,
 * subnet and security groups exist and belong to one VPC, tag specifications name taggable
 * resource types, CPU credits only for burstable types, and ClientToken idempotency (the same
 * token with the same parameters returns the first launch; with others it fails).
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html
 */
import { randomBytes } from 'node:crypto';
import { ACCOUNT_ID, IMAGES, INSTANCE_TYPES, KEY_PAIRS, regionNetwork } from './ec2-catalog.js';
import { Ec2Fault } from './ec2-filters.js';
import { newId, tagsFor, type Ec2World, type InstanceRecord } from './ec2-world.js';

/** EC2's limit on raw (decoded) user-data, in bytes. */
export const USER_DATA_LIMIT = 16 * 1024;

interface NetworkInterfaceInput {
  DeviceIndex?: number;
  SubnetId?: string;
  Groups?: string[];
  AssociatePublicIpAddress?: boolean;
  DeleteOnTermination?: boolean;
}

interface BlockDeviceInput {
  DeviceName?: string;
  Ebs?: { DeleteOnTermination?: boolean; VolumeType?: string };
}

/** Launches one instance (`pending`) and answers the Reservation. */
export function runInstance(world: Ec2World, region: string, input: Record<string, unknown>): Record<string, unknown> {
  const token = input.ClientToken as string | undefined;
  const fingerprint = JSON.stringify({ ...input, ClientToken: undefined });
  if (token) {
    const earlier = [...world.instances.values()].find((i) => i.region === region && i.clientToken === token);
    if (earlier) {
      if (earlier.fingerprint !== fingerprint) throw new Ec2Fault(400, 'IdempotentParameterMismatch', 'The client token you have provided is associated with a resource that is already deleted or with different parameters.');
      return reservation(world, earlier);
    }
  }
  if (input.MinCount !== 1 || input.MaxCount !== 1) throw new Ec2Fault(400, 'InvalidParameterValue', 'This fake launches exactly one instance (MinCount = MaxCount = 1)');
  const imageId = input.ImageId as string | undefined;
  if (!imageId) throw new Ec2Fault(400, 'MissingParameter', 'The request must contain the parameter ImageId');
  const image = IMAGES.find((i) => i.ImageId === imageId);
  if (!image) throw new Ec2Fault(400, 'InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
  const type = input.InstanceType as string | undefined;
  const typeInfo = type ? INSTANCE_TYPES[type] : undefined;
  if (!type || !typeInfo) throw new Ec2Fault(400, 'InvalidParameterValue', `Invalid value '${type}' for InstanceType.`);
  if (typeInfo.architecture !== image.Architecture) {
    throw new Ec2Fault(
      400,
      'InvalidParameterValue',
      `The architecture '${typeInfo.architecture}' of the specified instance type does not match the architecture '${image.Architecture}' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again.`,
    );
  }
  const userData = Buffer.from((input.UserData as string | undefined) ?? '', 'base64');
  if (userData.length > USER_DATA_LIMIT) throw new Ec2Fault(400, 'InvalidParameterValue', `User data is limited to ${USER_DATA_LIMIT} bytes`);
  const keyName = input.KeyName as string | undefined;
  if (keyName !== undefined && !KEY_PAIRS.includes(keyName)) throw new Ec2Fault(400, 'InvalidKeyPair.NotFound', `The key pair '${keyName}' does not exist`);
  if (input.CreditSpecification !== undefined && !typeInfo.burstable) {
    throw new Ec2Fault(400, 'InvalidParameterCombination', `The parameter CreditSpecification is not supported for ${type} instances.`);
  }
  const credits = (input.CreditSpecification as { CpuCredits?: string } | undefined)?.CpuCredits;
  if (credits !== undefined && credits !== 'standard' && credits !== 'unlimited') throw new Ec2Fault(400, 'InvalidParameterValue', `Invalid value '${credits}' for CpuCredits.`);

  const net = networkOf(world, region, input);
  const rootMapping = ((input.BlockDeviceMappings as BlockDeviceInput[] | undefined) ?? []).find((b) => b.DeviceName === image.RootDeviceName);
  const extra = ((input.BlockDeviceMappings as BlockDeviceInput[] | undefined) ?? []).filter((b) => b !== rootMapping);
  if (extra.length) throw new Ec2Fault(400, 'InvalidParameterValue', 'This fake supports a mapping for the root device only');
  const allowedTags = ['instance', 'volume', 'network-interface'];
  const record: InstanceRecord = {
    id: newId('i'),
    region,
    reservationId: newId('r'),
    imageId,
    instanceType: type,
    architecture: typeInfo.architecture,
    keyName,
    state: 'pending',
    polls: 0,
    idLookups: 0,
    privateIp: `10.0.${randomBytes(1)[0]}.${2 + (randomBytes(1)[0] % 250)}`,
    vpcId: net.vpcId,
    subnetId: net.subnetId,
    groupIds: net.groupIds,
    tags: tagsFor(input.TagSpecifications, 'instance', allowedTags),
    userData,
    launchTime: new Date(),
    clientToken: token,
    fingerprint,
    rootDevice: image.RootDeviceName,
    volume: {
      id: newId('vol'),
      deleteOnTermination: rootMapping?.Ebs?.DeleteOnTermination ?? true,
      type: rootMapping?.Ebs?.VolumeType ?? 'gp2',
      tags: tagsFor(input.TagSpecifications, 'volume', allowedTags),
      deleted: false,
    },
    eni: { id: newId('eni'), tags: tagsFor(input.TagSpecifications, 'network-interface', allowedTags), deleted: false },
    cpuCredits: credits,
    httpTokens: (input.MetadataOptions as { HttpTokens?: string } | undefined)?.HttpTokens ?? 'optional',
    foreign: false,
    associatePublicIp: net.associatePublicIp,
  };
  world.instances.set(record.id, record);
  return reservation(world, record);
}

function reservation(world: Ec2World, i: InstanceRecord): Record<string, unknown> {
  return { ReservationId: i.reservationId, OwnerId: ACCOUNT_ID, Groups: [], Instances: [world.instanceJson(i)] };
}

/** Where the instance goes: subnet, VPC and groups, from SubnetId/SecurityGroupIds or NetworkInterfaces. */
function networkOf(world: Ec2World, region: string, input: Record<string, unknown>): { vpcId: string; subnetId: string; groupIds: string[]; associatePublicIp?: boolean } {
  const net = regionNetwork(region);
  const nics = (input.NetworkInterfaces as NetworkInterfaceInput[] | undefined) ?? [];
  const topGroups = input.SecurityGroupIds as string[] | undefined;
  if (input.SecurityGroups !== undefined) throw new Ec2Fault(400, 'InvalidParameterValue', 'This fake takes security groups by id (SecurityGroupIds) only');
  if (nics.length > 0 && (topGroups !== undefined || input.SubnetId !== undefined)) {
    throw new Ec2Fault(400, 'InvalidParameterCombination', 'Network interfaces and an instance-level security groups may not be specified on the same request');
  }
  if (nics.length > 1 || (nics[0] && nics[0].DeviceIndex !== 0)) throw new Ec2Fault(400, 'InvalidParameterValue', 'This fake supports one network interface, DeviceIndex 0');
  const subnetId = nics[0]?.SubnetId ?? (input.SubnetId as string | undefined) ?? net.defaultSubnet;
  const vpcId = subnetId === net.defaultSubnet ? net.defaultVpc : subnetId === net.otherSubnet ? net.otherVpc : undefined;
  if (!vpcId) throw new Ec2Fault(400, 'InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
  const groupIds = nics[0]?.Groups ?? topGroups ?? [[...world.groups.values()].find((g) => g.region === region && g.vpcId === vpcId && g.isDefault)!.id];
  for (const id of groupIds) {
    const g = world.groupOf(region, id);
    if (g.vpcId !== vpcId) throw new Ec2Fault(400, 'InvalidParameter', `Security group ${id} and subnet ${subnetId} belong to different networks.`);
  }
  return { vpcId, subnetId, groupIds, associatePublicIp: nics[0]?.AssociatePublicIpAddress };
}
