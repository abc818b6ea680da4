/**
 * The tunnel's own Exoscale security group. A security group has no labels (only a name and a
 * description: see `security-group` in the API description), so its marks live in its name,
 * `inletsctl-<name>-<tunnel id>`, unique per tunnel and read back strictly (only a name of exactly
 * that shape with our tunnel id is ever deleted); the description repeats them for people.
 *
 * Rules: one ingress rule per port the tunnel needs (TCP, from 0.0.0.0/0). No egress rule: a
 * security group without egress rules lets all outbound traffic through, which the VM needs to
 * resolve names and install Node at boot.
 * API reference: https://openapi-v2.exoscale.com/operation/operation-create-security-group and
 * https://community.exoscale.com/product/networking/security-group/
 */
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest } from '../../src/core/provider.js';
import { LABEL, MANAGED_BY_VALUE, SHARED_TAG, type Marks } from '../shared/marks.js';
import { PROVIDER, checkOperation, type ExoscaleApi } from './exoscale-api.js';

/** The security group fields we read. */
export interface SecurityGroup {
  id: string;
  name?: string;
  description?: string;
}

const MARKED_NAME = /^inletsctl-([a-z0-9-]+)-([0-9a-f]{12})$/;

/** The name, and so the marks, of the security group of a tunnel. */
export function securityGroupName(name: string, tunnelId: string): string {
  return `${SHARED_TAG}-${name}-${tunnelId}`;
}

/** The marks a security group name carries; `ours` only for a name written by {@link securityGroupName}. */
export function readSecurityGroupName(name: string | undefined): Marks {
  const m = MARKED_NAME.exec(name ?? '');
  return m ? { ours: true, name: m[1], tunnelId: m[2] } : { ours: false };
}

/** Creates the (empty) security group of `req`; returns its id (the operation's reference). */
export async function createSecurityGroup(api: ExoscaleApi, req: CreateRequest): Promise<string> {
  const { body } = await api.request<unknown>(req.region, 'POST', '/security-group', {
    body: {
      name: securityGroupName(req.name, req.tunnelId),
      description: `${LABEL.managedBy}=${MANAGED_BY_VALUE} ${LABEL.name}=${req.name} ${LABEL.tunnel}=${req.tunnelId}`,
    },
  });
  const op = checkOperation(body, 'POST /security-group');
  const id = op.reference?.id;
  if (typeof id !== 'string' || !id) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'POST /security-group answered an operation without the security group\'s id');
  return id;
}

/** Opens exactly `req.openPorts` (TCP, from anywhere) in security group `id`. */
export async function addTunnelRules(api: ExoscaleApi, req: CreateRequest, id: string): Promise<void> {
  for (const port of req.openPorts) {
    const what = `POST /security-group/${id}/rules`;
    const { body } = await api.request<unknown>(req.region, 'POST', `/security-group/${encodeURIComponent(id)}/rules`, {
      body: {
        'flow-direction': 'ingress',
        protocol: 'tcp',
        network: '0.0.0.0/0',
        'start-port': port,
        'end-port': port,
        description: port === req.controlPort ? 'inlets control port' : 'inlets data port',
      },
    });
    checkOperation(body, what);
  }
}

/** The security groups of `zone` whose name carries `tunnelId`. */
export async function tunnelSecurityGroups(api: ExoscaleApi, zone: string, tunnelId: string): Promise<SecurityGroup[]> {
  const { body } = await api.request<{ 'security-groups'?: unknown }>(zone, 'GET', '/security-group');
  const all = body?.['security-groups'];
  if (!Array.isArray(all)) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'GET /security-group answered without "security-groups"');
  return (all as SecurityGroup[]).filter((g) => typeof g?.id === 'string' && readSecurityGroupName(g.name).tunnelId === tunnelId);
}
