/**
 * One security group per tunnel, named `inletsctl-<name>-<tunnel id>` and tagged at creation: it lets in the
 * control port and exactly the data ports the user asked for (TCP, from anywhere, IPv4 and
 * IPv6), nothing else. Outbound stays open (EC2's default), which the VM needs to install Node
 * from the Debian mirror at boot.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { ProviderError } from '../../src/errors.js';
import type { Ec2Api } from './ec2-api.js';
import { ec2ErrorCode } from './ec2-errors.js';
import type { CreateRequest } from '../../src/core/provider.js';
import { TUNNEL_TAG, readTagMarks, securityGroupName, tagValue, tunnelTags } from './ec2-tags.js';

/** DescribeSecurityGroups page size (EC2 allows 5 to 1000). */
const PAGE_SIZE = 1000;

/**
 * Creates the tunnel's group in `vpcId` (the default VPC when undefined). A group of the same
 * name left by an interrupted run of the same create is reused when it carries this tunnel's id.
 * @returns the group id and whether this call created it
 */
export async function createTunnelGroup(api: Ec2Api, region: string, req: Pick<CreateRequest, 'name' | 'tunnelId' | 'expiresAt'>, vpcId: string | undefined): Promise<{ groupId: string; created: boolean }> {
  const name = req.name;
  try {
    const out = await api.call(region, 'CreateSecurityGroup', (c, abortSignal) =>
      c.send(
        new CreateSecurityGroupCommand({
          GroupName: securityGroupName(req),
          Description: `inletsctl tunnel ${name} (${req.tunnelId}): control and data ports`,
          VpcId: vpcId,
          TagSpecifications: [{ ResourceType: 'security-group', Tags: tunnelTags(req) }],
        }),
        { abortSignal },
      ),
    );
    if (!out.GroupId) throw new ProviderError('ec2', 'API_UNAVAILABLE', 'CreateSecurityGroup answered without a GroupId');
    return { groupId: out.GroupId, created: true };
  } catch (err) {
    if (ec2ErrorCode(err) !== 'InvalidGroup.Duplicate') throw err;
    const existing = (await tunnelGroups(api, region, req.tunnelId)).find((g) => g.GroupName === securityGroupName(req) && (!vpcId || g.VpcId === vpcId));
    if (!existing?.GroupId) {
      throw new ProviderError('ec2', 'INVALID', `a security group named ${securityGroupName(req)} exists but was not made by inletsctl for this tunnel`, { retryable: false });
    }
    return { groupId: existing.GroupId, created: false };
  }
}

/** Opens TCP `ports` (the request's openPorts) to everyone; rules that already exist are fine. */
export async function openPorts(api: Ec2Api, region: string, groupId: string, ports: number[]): Promise<void> {
  try {
    await api.call(region, 'AuthorizeSecurityGroupIngress', (c, abortSignal) =>
      c.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: groupId,
          IpPermissions: ports.map((port) => ({
            IpProtocol: 'tcp',
            FromPort: port,
            ToPort: port,
            IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'inletsctl tunnel' }],
            Ipv6Ranges: [{ CidrIpv6: '::/0', Description: 'inletsctl tunnel' }],
          })),
        }),
        { abortSignal },
      ),
    );
  } catch (err) {
    if (ec2ErrorCode(err) !== 'InvalidPermission.Duplicate') throw err;
  }
}

/** The security groups carrying tunnel id `tunnelId` in `region` (found by tag, in every VPC). */
export async function tunnelGroups(api: Ec2Api, region: string, tunnelId: string): Promise<SecurityGroup[]> {
  const groups: SecurityGroup[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < 100; page++) {
    const out = await api.call(region, 'DescribeSecurityGroups', (c, abortSignal) =>
      c.send(
        new DescribeSecurityGroupsCommand({
          Filters: [{ Name: `tag:${TUNNEL_TAG}`, Values: [tunnelId] }],
          MaxResults: PAGE_SIZE,
          NextToken: nextToken,
        }),
        { abortSignal },
      ),
    );
    // Checked again here: only groups with our mark and exactly this id are ever returned.
    groups.push(...(out.SecurityGroups ?? []).filter((g) => tagValue(g.Tags, TUNNEL_TAG) === tunnelId && readTagMarks(g.Tags).ours));
    nextToken = out.NextToken || undefined;
    if (!nextToken) return groups;
  }
  throw new ProviderError('ec2', 'API_UNAVAILABLE', 'DescribeSecurityGroups: too many pages');
}

/**
 * Deletes group `groupId`. 'pending' while an instance still uses it (DependencyViolation: a
 * terminating instance holds its group until it is gone); a group already gone counts as deleted.
 */
export async function deleteGroup(api: Ec2Api, region: string, groupId: string): Promise<'done' | 'pending'> {
  try {
    await api.call(region, 'DeleteSecurityGroup', (c, abortSignal) => c.send(new DeleteSecurityGroupCommand({ GroupId: groupId }), { abortSignal }));
    return 'done';
  } catch (err) {
    const code = ec2ErrorCode(err);
    if (code === 'DependencyViolation') return 'pending';
    if (code === 'InvalidGroup.NotFound') return 'done';
    throw err;
  }
}
