/**
 * The tunnel's own security group (with `--firewall`): stateful, inbound dropped by default with
 * one accept rule per port the tunnel needs (TCP, IPv4 and IPv6, from anywhere), outbound
 * accepted (DNS and the Debian mirror at boot). It carries the flat tags of
 * providers/shared/marks.ts, and its name `inletsctl-<name>-<tunnel id>` says the same to people.
 * The rules are written in one call (PUT …/security_groups/{id}/rules replaces the whole list),
 * so they exist all together or not at all, and before the Instance that uses the group.
 * Reference: https://www.scaleway.com/en/developers/api/instance/#path-security-groups
 */
import type { CreateRequest } from '../../src/core/provider.js';
import { SHARED_TAG, readTags, tagsFor, tunnelTag } from '../shared/marks.js';
import { carriesTunnel } from '../shared/ownership.js';
import { missing, type ScalewayApi } from './scaleway-api.js';

export interface SecurityGroup {
  id: string;
  name?: string;
  tags?: string[];
  servers?: Array<{ id: string }>;
}

/** One rule as `PUT …/rules` takes it. */
export interface SecurityGroupRule {
  action: 'accept' | 'drop';
  protocol: 'TCP' | 'UDP' | 'ICMP' | 'ANY';
  direction: 'inbound' | 'outbound';
  ip_range: string;
  dest_port_from?: number;
  dest_port_to?: number;
  position: number;
  editable: boolean;
}

/** The group's name: unique per tunnel, and readable in the console. */
export function securityGroupName(name: string, tunnelId: string): string {
  return `${SHARED_TAG}-${name}-${tunnelId}`;
}

/** Accept TCP to each of `openPorts`, over IPv4 and IPv6; everything else inbound is dropped by the group's policy. */
export function securityGroupRules(openPorts: number[]): SecurityGroupRule[] {
  return openPorts.flatMap((port) => ['0.0.0.0/0', '::/0'].map((ip_range) => ({ action: 'accept' as const, protocol: 'TCP' as const, direction: 'inbound' as const, ip_range, dest_port_from: port, dest_port_to: port, editable: true }))).map((r, i) => ({ ...r, position: i + 1 }));
}

/** Creates the group of `req` in `zone` with its rules; returns its id. */
export async function createTunnelSecurityGroup(api: ScalewayApi, req: CreateRequest, project: string): Promise<string> {
  const { body } = await api.zonal<{ security_group?: SecurityGroup }>('POST', req.region, '/security_groups', {
    body: {
      name: securityGroupName(req.name, req.tunnelId),
      description: `inletsctl tunnel ${req.name} (${req.tunnelId}): inbound only to its ports`,
      project,
      tags: tagsFor(req),
      stateful: true,
      inbound_default_policy: 'drop',
      outbound_default_policy: 'accept',
    },
  });
  const id = body?.security_group?.id;
  if (typeof id !== 'string' || !id) throw missing('POST /security_groups', 'security_group');
  return id;
}

/** Writes the whole rule list of group `id`. */
export async function setTunnelRules(api: ScalewayApi, zone: string, id: string, openPorts: number[]): Promise<void> {
  const { body } = await api.zonal<{ rules?: unknown }>('PUT', zone, `/security_groups/${encodeURIComponent(id)}/rules`, { body: { rules: securityGroupRules(openPorts) } });
  if (!Array.isArray(body?.rules)) throw missing(`PUT /security_groups/${id}/rules`, 'rules');
}

/** The groups of `zone` that carry `tunnelId` (by tag, checked on the marks too). */
export async function tunnelSecurityGroups(api: ScalewayApi, zone: string, tunnelId: string): Promise<SecurityGroup[]> {
  const groups = await api.list<SecurityGroup>(zone, '/security_groups', 'security_groups', { tags: tunnelTag(tunnelId) });
  return groups.filter((g) => typeof g?.id === 'string' && carriesTunnel({ name: '', tunnelId }, readTags(g.tags)));
}
