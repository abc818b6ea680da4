/**
 * Security groups in the EC2 fake: CreateSecurityGroup (name unique per VPC, tags at creation),
 * AuthorizeSecurityGroupIngress (protocols, port ranges and CIDRs checked; a rule that exists is
 * InvalidPermission.Duplicate), DescribeSecurityGroups (filters, pages) and DeleteSecurityGroup
 * (the default group cannot go; a group an instance that is not terminated uses is
 * DependencyViolation).
 */
import { ACCOUNT_ID, regionNetwork } from './ec2-catalog.js';
import { Ec2Fault, applyFilters, paginate, type FilterInput } from './ec2-filters.js';
import { newId, tagsFor, type Ec2World } from './ec2-world.js';

/** The security-group actions, on `world`. */
export function handleGroupAction(world: Ec2World, region: string, action: string, input: Record<string, unknown>): Record<string, unknown> {
  switch (action) {
    case 'CreateSecurityGroup':
      return createGroup(world, region, input);
    case 'AuthorizeSecurityGroupIngress':
      return authorize(world, region, input);
    case 'DescribeSecurityGroups':
      return describeGroups(world, region, input);
    case 'DeleteSecurityGroup':
      return deleteGroup(world, region, input);
    default:
      throw new Ec2Fault(400, 'InvalidAction', `The action ${action} is not valid for this web service (this fake does not implement it).`);
  }
}

function createGroup(world: Ec2World, region: string, input: Record<string, unknown>): Record<string, unknown> {
  const net = regionNetwork(region);
  const name = input.GroupName as string;
  const description = input.Description as string;
  const vpcId = (input.VpcId as string | undefined) ?? net.defaultVpc;
  if (vpcId !== net.defaultVpc && vpcId !== net.otherVpc) throw new Ec2Fault(400, 'InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`);
  if (name.startsWith('sg-') || name.length > 255) throw new Ec2Fault(400, 'InvalidParameterValue', `Invalid value '${name}' for groupName.`);
  if (description.length > 255 || !/^[\x20-\x7e]*$/.test(description)) throw new Ec2Fault(400, 'InvalidParameterValue', 'Invalid value for GroupDescription');
  if ([...world.groups.values()].some((g) => g.region === region && g.vpcId === vpcId && g.name === name)) {
    throw new Ec2Fault(400, 'InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${vpcId}'`);
  }
  const tags = tagsFor(input.TagSpecifications, 'security-group', ['security-group']);
  const id = newId('sg');
  world.groups.set(id, { id, region, name, description, vpcId, tags, ingress: [], isDefault: false, foreign: false });
  return { GroupId: id, Tags: tags, SecurityGroupArn: `arn:aws:ec2:${region}:${ACCOUNT_ID}:security-group/${id}` };
}

function authorize(world: Ec2World, region: string, input: Record<string, unknown>): Record<string, unknown> {
  const group = world.groupOf(region, input.GroupId as string | undefined);
  const permissions = (input.IpPermissions as Array<Record<string, unknown>> | undefined) ?? [];
  if (permissions.length === 0) throw new Ec2Fault(400, 'MissingParameter', 'The request must contain the parameter ipPermissions');
  const rules: Array<Record<string, unknown>> = [];
  for (const p of permissions) {
    const protocol = String(p.IpProtocol ?? '');
    const from = p.FromPort as number | undefined;
    const to = p.ToPort as number | undefined;
    if (!['tcp', 'udp', 'icmp', '-1'].includes(protocol)) throw new Ec2Fault(400, 'InvalidParameterValue', `Invalid value '${protocol}' for IP protocol.`);
    if (protocol === 'tcp' && (from === undefined || to === undefined || from < 0 || to > 65535 || from > to)) {
      throw new Ec2Fault(400, 'InvalidParameterValue', `Invalid TCP port range: ${from ?? '?'}-${to ?? '?'}`);
    }
    const v4 = ((p.IpRanges as Array<{ CidrIp?: string; Description?: string }> | undefined) ?? []).map((r) => ({ cidr: r.CidrIp ?? '', description: r.Description, v6: false }));
    const v6 = ((p.Ipv6Ranges as Array<{ CidrIpv6?: string; Description?: string }> | undefined) ?? []).map((r) => ({ cidr: r.CidrIpv6 ?? '', description: r.Description, v6: true }));
    for (const peer of [...v4, ...v6]) {
      const ok = peer.v6 ? /^[0-9a-f:]+\/\d{1,3}$/i.test(peer.cidr) : /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(peer.cidr);
      if (!ok) throw new Ec2Fault(400, 'InvalidParameterValue', `CIDR block ${peer.cidr} is malformed`);
      const exists = group.ingress.some((r) => r.IpProtocol === protocol && r.FromPort === from && r.ToPort === to && r[peer.v6 ? 'CidrIpv6' : 'CidrIpv4'] === peer.cidr);
      if (exists) {
        throw new Ec2Fault(400, 'InvalidPermission.Duplicate', `the specified rule "peer: ${peer.cidr}, ${protocol.toUpperCase()}, from port: ${from}, to port: ${to}, ALLOW" already exists`);
      }
      rules.push({ SecurityGroupRuleId: newId('sgr'), GroupId: group.id, GroupOwnerId: ACCOUNT_ID, IsEgress: false, IpProtocol: protocol, FromPort: from, ToPort: to, [peer.v6 ? 'CidrIpv6' : 'CidrIpv4']: peer.cidr, Description: peer.description });
    }
  }
  group.ingress.push(...rules);
  return { Return: true, SecurityGroupRules: rules };
}

function describeGroups(world: Ec2World, region: string, input: Record<string, unknown>): Record<string, unknown> {
  const ids = input.GroupIds as string[] | undefined;
  if (ids && input.MaxResults !== undefined) throw new Ec2Fault(400, 'InvalidParameterCombination', 'The parameter groupIdSet cannot be used with the parameter maxResults');
  let groups = [...world.groups.values()].filter((g) => g.region === region);
  if (ids) groups = ids.map((id) => world.groupOf(region, id));
  groups = applyFilters(groups, input.Filters as FilterInput[] | undefined, {
    'group-name': (g) => g.name,
    'group-id': (g) => g.id,
    'vpc-id': (g) => g.vpcId,
    description: (g) => g.description,
  });
  const { page, nextToken } = paginate(groups, input as { MaxResults?: number; NextToken?: string }, { min: 5, max: 1000, cap: world.options.maxPerPage });
  return {
    SecurityGroups: page.map((g) => ({
      GroupId: g.id,
      GroupName: g.name,
      Description: g.description,
      VpcId: g.vpcId,
      OwnerId: ACCOUNT_ID,
      SecurityGroupArn: `arn:aws:ec2:${region}:${ACCOUNT_ID}:security-group/${g.id}`,
      Tags: g.tags,
      IpPermissions: g.ingress.map((r) => ({
        IpProtocol: r.IpProtocol,
        FromPort: r.FromPort,
        ToPort: r.ToPort,
        IpRanges: r.CidrIpv4 ? [{ CidrIp: r.CidrIpv4, Description: r.Description }] : [],
        Ipv6Ranges: r.CidrIpv6 ? [{ CidrIpv6: r.CidrIpv6, Description: r.Description }] : [],
      })),
      IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    })),
    NextToken: nextToken,
  };
}

function deleteGroup(world: Ec2World, region: string, input: Record<string, unknown>): Record<string, unknown> {
  const group = world.groupOf(region, input.GroupId as string | undefined);
  if (group.isDefault) throw new Ec2Fault(400, 'CannotDelete', `the specified group: "${group.id}" name: "default" cannot be deleted by a user`);
  const user = [...world.instances.values()].find((i) => i.state !== 'terminated' && i.groupIds.includes(group.id));
  if (user) throw new Ec2Fault(400, 'DependencyViolation', `resource ${group.id} has a dependent object`);
  world.groups.delete(group.id);
  return { Return: true, GroupId: group.id };
}
