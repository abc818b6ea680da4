/**
 * The firewall rules of an UpCloud server made by inletsctl: accept TCP to each open port over
 * IPv4 and IPv6, then drop every other inbound packet. Written in one batch
 * (PUT /1.3/server/{uuid}/firewall_rule), so the list is either complete or absent.
 * Reference: https://developers.upcloud.com/1.3/11-firewall/
 */

/** One rule as the API takes and lists it (ports are strings in UpCloud's JSON). */
export interface FirewallRule {
  direction: 'in' | 'out';
  action: 'accept' | 'drop';
  family?: 'IPv4' | 'IPv6';
  protocol?: 'tcp' | 'udp' | 'icmp';
  destination_port_start?: string;
  destination_port_end?: string;
  comment?: string;
  position?: string;
}

/** The comment of the last rule; its presence marks a complete list. */
export const DROP_COMMENT = 'inletsctl: drop all other inbound';

/** The rules for `openPorts` (CreateRequest.openPorts: control port and data ports). */
export function firewallRules(openPorts: number[]): FirewallRule[] {
  const accept = openPorts.flatMap((port) =>
    (['IPv4', 'IPv6'] as const).map((family): FirewallRule => ({
      direction: 'in',
      action: 'accept',
      family,
      protocol: 'tcp',
      destination_port_start: String(port),
      destination_port_end: String(port),
      comment: `inletsctl: tcp ${port}`,
    })),
  );
  return [...accept, { direction: 'in', action: 'drop', comment: DROP_COMMENT }];
}

/** True when `rules` (as listed) end with our default drop: the batch was applied. */
export function firewallComplete(rules: FirewallRule[]): boolean {
  const last = rules[rules.length - 1];
  return last !== undefined && last.direction === 'in' && last.action === 'drop' && last.destination_port_start === undefined;
}
