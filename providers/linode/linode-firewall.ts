/**
 * The tunnel's own Cloud Firewall (`create --firewall`): inbound DROP by default, one ACCEPT rule
 * for the tunnel's TCP ports from anywhere (IPv4 and IPv6), outbound ACCEPT (the VM fetches
 * packages at boot). It carries the tunnel's tags like the instance, and its label names the tunnel
 * id (labels are unique in an account, at most 32 characters). Created before the instance, which
 * is attached to it by `firewall_id` in the same create call.
 * API reference: https://techdocs.akamai.com/linode-api/reference/post-firewalls
 */
import type { CreateRequest } from '../../src/core/provider.js';
import { tagsFor } from '../shared/marks.js';

/** A Cloud Firewall as far as we read it. */
export interface LinodeFirewall {
  id: number;
  label?: string;
  tags?: string[];
  status?: string;
}

/** Ports in one rule's comma-separated `ports` (Linode allows at most 15 per rule). */
export const PORTS_PER_RULE = 15;

/** The label of the firewall of tunnel `tunnelId` (22 characters). */
export function firewallLabel(tunnelId: string): string {
  return `inletsctl-${tunnelId}`;
}

/** The POST /networking/firewalls body for `req`: exactly `req.openPorts` open, TCP. */
export function firewallBody(req: CreateRequest): Record<string, unknown> {
  const inbound = [];
  for (let i = 0; i < req.openPorts.length; i += PORTS_PER_RULE) {
    const ports = req.openPorts.slice(i, i + PORTS_PER_RULE);
    inbound.push({
      action: 'ACCEPT',
      protocol: 'TCP',
      ports: ports.join(','),
      addresses: { ipv4: ['0.0.0.0/0'], ipv6: ['::/0'] },
      label: `inlets-tcp-${i / PORTS_PER_RULE + 1}`,
    });
  }
  return {
    label: firewallLabel(req.tunnelId),
    tags: tagsFor(req),
    rules: { inbound_policy: 'DROP', outbound_policy: 'ACCEPT', inbound, outbound: [] },
  };
}
