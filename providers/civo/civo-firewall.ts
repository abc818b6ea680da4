/**
 * The tunnel's own Civo firewall. A Civo firewall belongs to one network and has neither tags nor
 * a description, so its marks live in its name, `inletsctl-<name>-<tunnel id>`: unique per tunnel
 * (Civo wants firewall names unique in an account), and read back strictly, so only a name of
 * exactly that shape with our tunnel id is ever deleted.
 *
 * Civo gives a new firewall default rules that open everything unless `create_rules` is false
 * (see the `--no-default-rules` of Civo's CLI); we turn them off and add one ingress rule per
 * port the tunnel needs, plus egress to anywhere (TCP and UDP) so the VM can resolve names and
 * install Node at boot.
 * API reference: https://www.civo.com/api/firewall
 */
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest } from '../../src/core/provider.js';
import { SHARED_TAG, type Marks } from '../shared/marks.js';
import { PROVIDER, type CivoApi } from './civo-api.js';

/** The firewall fields we read. */
export interface CivoFirewall {
  id: string;
  name: string;
  network_id?: string;
  instance_count?: number;
}

const MARKED_NAME = /^inletsctl-([a-z0-9-]+)-([0-9a-f]{12})$/;

/** The name, and so the marks, of the firewall of `req`. */
export function firewallName(name: string, tunnelId: string): string {
  return `${SHARED_TAG}-${name}-${tunnelId}`;
}

/** The marks a firewall name carries; `ours` only for a name written by {@link firewallName}. */
export function readFirewallName(name: string): Marks {
  const m = MARKED_NAME.exec(name);
  return m ? { ours: true, name: m[1], tunnelId: m[2] } : { ours: false };
}

/** Creates the (empty) firewall of `req` in `networkId`; returns its id. */
export async function createTunnelFirewall(api: CivoApi, req: CreateRequest, networkId: string): Promise<string> {
  const { body } = await api.post<{ id?: unknown; result?: unknown }>('/firewalls', req.region, {
    name: firewallName(req.name, req.tunnelId),
    network_id: networkId,
    create_rules: false,
  });
  if (typeof body?.id !== 'string' || !body.id) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'POST /firewalls answered without a firewall id');
  return body.id;
}

/** Opens exactly `req.openPorts` (TCP, from anywhere) in firewall `id`, and egress to anywhere. */
export async function addTunnelRules(api: CivoApi, req: CreateRequest, id: string): Promise<void> {
  const rules = [
    ...req.openPorts.map((p) => ({ direction: 'ingress', protocol: 'tcp', port: String(p), label: p === req.controlPort ? 'inlets control port' : 'inlets data port' })),
    // Outbound only: DNS, the Debian mirror and NTP. Nothing comes in through these.
    { direction: 'egress', protocol: 'tcp', port: '1-65535', label: 'outbound tcp' },
    { direction: 'egress', protocol: 'udp', port: '1-65535', label: 'outbound udp' },
  ];
  for (const r of rules) {
    const [start, end = start] = r.port.split('-');
    const res = await api.post<{ id?: unknown }>(`/firewalls/${encodeURIComponent(id)}/rules`, req.region, {
      protocol: r.protocol,
      start_port: start,
      end_port: end,
      cidr: ['0.0.0.0/0'],
      direction: r.direction,
      action: 'allow',
      label: r.label,
    });
    if (typeof res.body?.id !== 'string') throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `POST /firewalls/${id}/rules answered without a rule id`);
  }
}

/** The firewalls in `region` whose name carries `tunnelId`. */
export async function tunnelFirewalls(api: CivoApi, region: string, tunnelId: string): Promise<CivoFirewall[]> {
  const all = await api.array<CivoFirewall>('/firewalls', region);
  return all.filter((f) => typeof f?.name === 'string' && readFirewallName(f.name).tunnelId === tunnelId);
}
