/**
 * The OpenStack provider (and, with OVHcloud's defaults, `ovh`): one Nova server per tunnel, one
 * Neutron security group opening exactly `openPorts`, and a public address either straight from
 * the network the server joins (OVHcloud's Ext-Net, a provider network) or from a floating IP
 * (`--floating-ip-network`), on a port made first so the address is known before the server boots.
 *
 * Marks: server metadata holds the labels of providers/shared/marks.ts; Neutron resources carry the
 * flat tags in their description (every Neutron resource has one; tags need a second call).
 * Everything is made in `create` before it returns; `status` only reads; `delete` removes the
 * server, then the floating IP, port and security group that carry the tunnel id.
 */
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest, Host, HostRef, HostStatus, Provider, ProviderContext } from '../../src/core/provider.js';
import { notRetryable } from '../shared/rest-client.js';
import { labelsFor, readLabels, readTags, tagsFor, type Marks } from '../shared/marks.js';
import { carriesTunnel, refuseUnmarked, requireIdentity } from '../shared/ownership.js';
import { tunnelIdOfRef } from '../shared/ref-tunnel-id.js';
import { openSession, resolveAuth } from './openstack-auth.js';
import { OpenStackApi, type NeutronResource, type NovaServer } from './openstack-api.js';

/** What distinguishes `openstack` from `ovh`: the name in messages and the default Keystone. */
export interface OpenStackFlavour {
  provider: string;
  /** Keystone v3 URL used when neither --auth-url, $OS_AUTH_URL nor clouds.yaml gives one. */
  defaultAuthUrl?: string;
  /** Region for calls that name none (list; delete of a host found by list): $OS_REGION_NAME, else this. */
  defaultRegion: string;
}

/** Nova's server states in our vocabulary (https://docs.openstack.org/api-guide/compute/server_concepts.html). */
export function mapServerStatus(s: Pick<NovaServer, 'status' | 'OS-EXT-STS:task_state'>): HostStatus {
  if (s['OS-EXT-STS:task_state'] === 'deleting') return 'deleting';
  switch (s.status) {
    case 'ACTIVE':
      return 'active';
    case 'BUILD':
    case 'REBUILD':
    case 'REBOOT':
    case 'HARD_REBOOT':
    case 'MIGRATING':
    case 'RESIZE':
    case 'VERIFY_RESIZE':
    case 'PASSWORD':
      return 'provisioning';
    case 'DELETED':
    case 'SOFT_DELETED':
      return 'deleting';
    default: // ERROR, SHUTOFF, SUSPENDED, PAUSED, SHELVED, UNKNOWN: it will not serve the tunnel
      return 'error';
  }
}

/** The name of a tunnel's Neutron resources; the description, not the name, identifies them. */
export function resourceName(req: Pick<CreateRequest, 'name' | 'tunnelId'>): string {
  return `inletsctl-${req.name}-${req.tunnelId}`;
}

const marksOf = (r: NeutronResource): Marks => readTags((r.description ?? '').split(/\s+/).filter(Boolean));

export function openStackProviderFactory(flavour: OpenStackFlavour): (ctx: ProviderContext) => Provider {
  return (ctx) => new OpenStackProvider(flavour, ctx);
}

class OpenStackProvider implements Provider {
  private session?: Promise<OpenStackApi>;
  private readonly network: string;
  private readonly floatingNetwork?: string;
  private readonly name: string;
  /** The region of the session (endpoints are per region). */
  private region?: string;

  constructor(private readonly flavour: OpenStackFlavour, private readonly ctx: ProviderContext) {
    this.name = flavour.provider;
    this.network = String(ctx.options.network ?? '');
    const fip = ctx.options['floating-ip-network'];
    this.floatingNetwork = typeof fip === 'string' && fip !== '' ? fip : undefined;
  }

  /** One token per provider instance, for the region of the first call. */
  private api(region: string | undefined): Promise<OpenStackApi> {
    const r = region || process.env.OS_REGION_NAME || this.flavour.defaultRegion;
    if (!this.session) {
      this.region = r;
      const auth = resolveAuth(this.name, this.ctx, this.flavour.defaultAuthUrl);
      this.session = openSession(this.name, auth, r).then((s) => new OpenStackApi(this.name, s));
      this.session.catch(() => (this.session = undefined));
    }
    return this.session;
  }

  async create(req: CreateRequest): Promise<Host> {
    const api = await this.api(req.region);
    if (!this.network) throw new ProviderError(this.name, 'INVALID', 'give --network: the network the server joins (a public network, or with --floating-ip-network a private one)', { retryable: false });
    // Look-ups first: nothing is made until every name resolved.
    const [flavorRef, imageRef, networkId, floatingNetworkId] = await Promise.all([
      api.flavorId(req.plan),
      api.imageId(req.image),
      api.networkId(this.network),
      this.floatingNetwork ? api.networkId(this.floatingNetwork) : Promise.resolve(undefined),
    ]);
    const description = tagsFor(req).join(' ');
    const group = await api.make('/security-groups', 'security_group', { name: resourceName(req), description });
    // The tunnel id in data too: a caller that keeps data but not the HostRef's tunnelId still finds the group.
    const data: Record<string, string> = { securityGroupId: group.id, tunnelId: req.tunnelId };
    try {
      // A new group allows all egress (the VM installs Node at boot); ingress: exactly openPorts.
      for (const port of req.openPorts) {
        for (const ethertype of ['IPv4', 'IPv6']) {
          await api.make('/security-group-rules', 'security_group_rule', {
            security_group_id: group.id, direction: 'ingress', ethertype, protocol: 'tcp', port_range_min: port, port_range_max: port,
            remote_ip_prefix: ethertype === 'IPv4' ? '0.0.0.0/0' : '::/0', description,
          });
        }
      }
      let networks: Array<Record<string, string>> = [{ uuid: networkId }];
      let ip: string | undefined;
      if (floatingNetworkId) {
        const port = await api.make('/ports', 'port', { network_id: networkId, name: resourceName(req), description, security_groups: [group.id] });
        data.portId = port.id;
        const fip = await api.make('/floatingips', 'floatingip', { floating_network_id: floatingNetworkId, port_id: port.id, description });
        data.floatingIpId = fip.id;
        ip = fip.floating_ip_address;
        networks = [{ port: port.id }];
      }
      const { body } = await api.nova.request<{ server?: { id?: string } }>('POST', '/servers', {
        body: {
          server: {
            name: req.name,
            flavorRef,
            imageRef,
            user_data: req.userData.toString('base64'),
            metadata: labelsFor(req),
            networks,
            // With a port, the port carries the group; Nova refuses both.
            ...(floatingNetworkId ? {} : { security_groups: [{ name: group.id }] }),
          },
        },
      });
      const id = body?.server?.id;
      if (!id) throw new ProviderError(this.name, 'API_UNAVAILABLE', 'POST /servers answered without a server id');
      return { name: req.name, tunnelId: req.tunnelId, id, ip, region: req.region, status: 'provisioning', providerStatus: 'BUILD', data, expiresAt: req.expiresAt };
    } catch (err) {
      // The security group exists: core cleans up by tunnel id; a repeated create would make two.
      throw notRetryable(err, this.name, `security group ${group.id} was created but the rest was not`);
    }
  }

  async status(ref: HostRef): Promise<Host> {
    const api = await this.api(ref.region);
    const server = ref.id ? await api.server(ref.id) : (await this.serversOf(api, ref.tunnelId))[0];
    if (!server) throw new ProviderError(this.name, 'NOT_FOUND', `no server for tunnel ${ref.name}`);
    return this.toHost(server, ref.data);
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    requireIdentity(this.name, ref);
    const api = await this.api(ref.region);
    const tunnelId = tunnelIdOfRef(ref);
    const servers = tunnelId ? await this.serversOf(api, tunnelId) : [];
    if (ref.id && !servers.some((s) => s.id === ref.id)) {
      const s = await api.server(ref.id);
      if (s) refuseUnmarked(this.name, `server ${ref.id}`, readLabels(s.metadata));
      if (s) servers.push(s);
    }
    for (const s of servers) {
      if (s['OS-EXT-STS:task_state'] !== 'deleting') await api.remove(api.nova, `/servers/${encodeURIComponent(s.id)}`);
    }
    if (servers.length > 0) return 'pending'; // the port and group are in use until the server is gone
    if (!tunnelId) return 'done'; // an older host: nothing else carries a tunnel id to go by
    let pending = false;
    for (const [path, key] of [['/floatingips', 'floatingips'], ['/ports', 'ports'], ['/security-groups', 'security_groups']] as const) {
      const mine = (await api.all<NeutronResource>(api.neutron, path, key)).filter((r) => carriesTunnel({ ...ref, tunnelId }, marksOf(r)));
      // 409: still in use (a port Nova has not released yet): the next step tries again.
      for (const r of mine) if ((await api.remove(api.neutron, `${path}/${encodeURIComponent(r.id)}`, { accept: [409] })) === 409) pending = true;
    }
    return pending ? 'pending' : 'done';
  }

  async list(): Promise<Host[]> {
    const api = await this.api(undefined);
    const servers = await api.all<NovaServer>(api.nova, '/servers/detail', 'servers', {}, true);
    return servers.filter((s) => readLabels(s.metadata).ours).map((s) => this.toHost(s));
  }

  /** Servers whose metadata carries this tunnel id (Nova cannot filter on metadata: read them all). */
  private async serversOf(api: OpenStackApi, tunnelId: string | undefined): Promise<NovaServer[]> {
    if (!tunnelId) return [];
    const all = await api.all<NovaServer>(api.nova, '/servers/detail', 'servers', {}, true);
    return all.filter((s) => carriesTunnel({ name: s.name, tunnelId }, readLabels(s.metadata)));
  }

  private toHost(s: NovaServer, data?: Record<string, string>): Host {
    const marks = readLabels(s.metadata);
    const v4 = Object.entries(s.addresses ?? {}).flatMap(([net, list]) => list.filter((a) => a.version === 4).map((a) => ({ net, ...a })));
    const ip = v4.find((a) => a['OS-EXT-IPS:type'] === 'floating')?.addr ?? v4.find((a) => a.net === this.network)?.addr ?? (this.floatingNetwork ? undefined : v4[0]?.addr);
    const status = mapServerStatus(s);
    return {
      name: marks.name ?? s.name,
      tunnelId: marks.tunnelId,
      expiresAt: marks.expiresAt,
      id: s.id,
      ip,
      region: this.region,
      status,
      providerStatus: status === 'error' && s.fault?.message ? `${s.status}: ${s.fault.message}` : s.status,
      createdAt: s.created,
      data,
    };
  }
}
