/**
 * The tunnel's own Vultr firewall group (with `--firewall`). A firewall group has neither tags
 * nor a name, only a `description`: its marks live there, as the flat tags of
 * providers/shared/marks.ts separated by spaces (`inletsctl inletsctl:<name>
 * inletsctl-tunnel:<id>`), and are read back with the same reader, so only a group carrying our
 * shared mark AND this tunnel's id is ever deleted.
 *
 * A Vultr firewall group filters inbound traffic only and drops what no rule accepts; rules have
 * no action (every rule accepts). We add one IPv4 TCP rule per port the tunnel needs, from
 * anywhere. The instance is made without IPv6, so no IPv6 rules are needed.
 * API reference: https://www.vultr.com/api/#tag/firewall
 */
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest } from '../../src/core/provider.js';
import { readTags, tagsFor, type Marks } from '../shared/marks.js';
import type { RestClient } from '../shared/rest-client.js';
import { PROVIDER, listAll } from './vultr-api.js';

/** The firewall group fields we read. */
export interface FirewallGroup {
  id: string;
  description?: string;
  instance_count?: number;
  rule_count?: number;
}

/** The description, and so the marks, of the firewall group of `req`. */
export function firewallDescription(req: Pick<CreateRequest, 'name' | 'tunnelId' | 'expiresAt'>): string {
  return tagsFor(req).join(' ');
}

/** The marks a description carries (written by {@link firewallDescription}). */
export function readFirewallDescription(description: string | undefined): Marks {
  return readTags((description ?? '').split(' ').filter(Boolean));
}

/** Creates the (empty) firewall group of `req`; returns its id. */
export async function createFirewallGroup(rest: RestClient, req: CreateRequest): Promise<string> {
  const { body } = await rest.request<{ firewall_group?: FirewallGroup }>('POST', '/firewalls', { body: { description: firewallDescription(req) } });
  const id = body?.firewall_group?.id;
  if (typeof id !== 'string' || !id) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'POST /firewalls answered without a firewall group id');
  return id;
}

/** Accepts exactly `req.openPorts` (TCP over IPv4, from anywhere) in firewall group `id`. */
export async function addPortRules(rest: RestClient, req: CreateRequest, id: string): Promise<void> {
  const path = `/firewalls/${encodeURIComponent(id)}/rules`;
  for (const port of req.openPorts) {
    const { body } = await rest.request<{ firewall_rule?: { id?: unknown } }>('POST', path, {
      body: {
        ip_type: 'v4',
        protocol: 'tcp',
        subnet: '0.0.0.0',
        subnet_size: 0,
        port: String(port),
        notes: port === req.controlPort ? 'inlets control port' : 'inlets data port',
      },
    });
    if (typeof body?.firewall_rule?.id !== 'number') throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `POST ${path} answered without a rule id`);
  }
}

/** The firewall groups whose description carries our shared mark and `tunnelId`. */
export async function tunnelFirewallGroups(rest: RestClient, tunnelId: string): Promise<FirewallGroup[]> {
  const all = await listAll<FirewallGroup>(rest, '/firewalls', 'firewall_groups');
  return all.filter((g) => {
    if (typeof g?.id !== 'string') return false;
    const marks = readFirewallDescription(g.description);
    return marks.ours && marks.tunnelId === tunnelId;
  });
}
