/**
 * The Civo provider: one instance per tunnel, in the region's default network, behind a firewall
 * of its own.
 *
 * The instance carries the flat tags of providers/shared/marks.ts (Civo takes them as one
 * space-separated string and answers them as an array); the firewall carries the same marks in
 * its name (civo-firewall.ts). Delete and clean-up go by the tunnel id only. Civo is regional:
 * every call names a region, `status` and `delete` use the one in the HostRef, and look in every
 * region only when it is unknown (`delete --id` from a state file that does not know the host).
 * API reference: https://www.civo.com/api/instances
 */
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest, Host, HostRef, HostStatus, Provider, ProviderContext } from '../../src/core/provider.js';
import { RestClient, apiBaseUrl, notRetryable } from '../shared/rest-client.js';
import { SHARED_TAG, readTags, tagsFor, tunnelTag } from '../shared/marks.js';
import { carriesTunnel, refuseUnmarked, requireIdentity } from '../shared/ownership.js';
import { tunnelIdOfRef } from '../shared/ref-tunnel-id.js';
import { CivoApi, DEFAULT_API_URL, PROVIDER, civoRetryAfterMs, readCivoError } from './civo-api.js';
import { addTunnelRules, createTunnelFirewall, tunnelFirewalls } from './civo-firewall.js';
import { CIVO_API_URL_ENV, CIVO_REGIONS } from './index.js';

/** The instance fields we read (the answer also holds the initial password and the script: never kept). */
interface Instance {
  id: string;
  hostname?: string;
  status?: string;
  tags?: string[] | string | null;
  public_ip?: string | null;
  created_at?: string;
}

interface Network {
  id: string;
  default?: boolean;
}

interface DiskImage {
  id: string;
  name: string;
  state?: string;
  distribution?: string;
}

/** Civo's words for an instance's state, in our vocabulary. */
export function mapInstanceStatus(status: string | undefined): HostStatus {
  switch (status) {
    case 'BUILD_PENDING':
    case 'BUILDING':
    case 'STARTING':
    case 'REBOOTING':
    case 'SOFT_REBOOTING':
    case 'HARD_REBOOTING':
      return 'provisioning';
    case 'ACTIVE':
      return 'active';
    case 'DELETING':
    case 'DELETED':
      return 'deleting';
    default: // SHUTOFF, STOPPING, ERROR, …: an instance that will not serve the tunnel
      return 'error';
  }
}

/** Tags as Civo answers them (an array), tolerating the space-separated string it takes. */
function tagList(tags: Instance['tags']): string[] {
  if (Array.isArray(tags)) return tags.filter((t): t is string => typeof t === 'string');
  return typeof tags === 'string' ? tags.split(' ').filter(Boolean) : [];
}

export function createCivoProvider(ctx: ProviderContext): Provider {
  const token = ctx.credentials['access-token'];
  if (!token) throw new ProviderError(PROVIDER, 'AUTH', 'no Civo API key: give --access-token, --access-token-file, $INLETS_ACCESS_TOKEN or $CIVO_TOKEN');
  const rest = new RestClient({ provider: PROVIDER, baseUrl: apiBaseUrl(ctx.apiUrl, CIVO_API_URL_ENV, DEFAULT_API_URL), token, readError: readCivoError, retryAfterMs: civoRetryAfterMs });
  return new CivoProvider(new CivoApi(rest));
}

class CivoProvider implements Provider {
  constructor(private readonly api: CivoApi) {}

  async create(req: CreateRequest): Promise<Host> {
    const region = req.region;
    const network = await this.defaultNetwork(region);
    const image = await this.diskImage(region, req.image);
    const firewallId = await createTunnelFirewall(this.api, req, network.id);
    try {
      await addTunnelRules(this.api, req, firewallId);
      const { body } = await this.api.post<Instance>('/instances', region, {
        hostname: req.name,
        size: req.plan,
        network_id: network.id,
        template_id: image.id,
        firewall_id: firewallId,
        public_ip: 'create',
        count: 1,
        // Run at the end of Civo's cloud-init as /usr/local/bin/civo-user-init-script.
        script: req.userData.toString('utf8'),
        tags: tagsFor(req).join(' '),
      });
      if (typeof body?.id !== 'string' || !body.id) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'POST /instances answered without an instance id');
      return { ...this.toHost(body, region), tunnelId: req.tunnelId, data: { firewallId, tunnelId: req.tunnelId } };
    } catch (err) {
      // The firewall exists now: the CLI must clean up by tunnel id, not repeat the create.
      throw notRetryable(err, PROVIDER, `firewall ${firewallId} was created but the instance was not`);
    }
  }

  async status(ref: HostRef): Promise<Host> {
    const tunnelId = tunnelIdOfRef(ref);
    for (const region of this.regionsOf(ref)) {
      if (ref.id) {
        const found = await this.byId(region, ref.id);
        if (found) return this.toHost(found, region, ref.data);
      } else if (tunnelId) {
        const [found] = await this.tagged(region, tunnelTag(tunnelId), (i) => carriesTunnel({ ...ref, tunnelId }, readTags(tagList(i.tags))));
        if (found) return this.toHost(found, region, ref.data);
      }
    }
    if (!ref.id && !tunnelId) throw new ProviderError(PROVIDER, 'NOT_FOUND', `no id nor tunnel id to look up "${ref.name}" by`);
    throw new ProviderError(PROVIDER, 'NOT_FOUND', ref.id ? `no instance ${ref.id} in ${this.regionsOf(ref).join(', ')}` : `no instance tagged ${tunnelTag(tunnelId!)}`);
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    requireIdentity(PROVIDER, ref);
    const tunnelId = tunnelIdOfRef(ref);
    const regions = this.regionsOf(ref);
    let pending = false;
    for (const region of regions) {
      const instances = await this.instancesOf(region, ref, tunnelId);
      for (const i of instances.filter((x) => x.status !== 'DELETING')) {
        await this.api.call('DELETE', `/instances/${encodeURIComponent(i.id)}`, region, { accept: [404] });
      }
      if (instances.length > 0) pending = true;
    }
    if (pending) return 'pending'; // next step: confirm they are gone, then the firewall they used
    if (!tunnelId) return 'done'; // a host of an older version: nothing else carries a tunnel id
    for (const region of regions) {
      for (const fw of await tunnelFirewalls(this.api, region, tunnelId)) {
        await this.api.call('DELETE', `/firewalls/${encodeURIComponent(fw.id)}`, region, { accept: [404] });
      }
    }
    return 'done';
  }

  async list(): Promise<Host[]> {
    const hosts: Host[] = [];
    for (const region of CIVO_REGIONS) {
      const ours = await this.tagged(region, SHARED_TAG, (i) => readTags(tagList(i.tags)).ours);
      hosts.push(...ours.map((i) => this.toHost(i, region)));
    }
    return hosts;
  }

  /** The ref's region, or every region (the default first) when the ref does not know it. */
  private regionsOf(ref: HostRef): string[] {
    return ref.region ? [ref.region] : [...CIVO_REGIONS];
  }

  /** The instances of a tunnel in `region`: those tagged with its tunnel id, plus `ref.id` when it carries our tag. */
  private async instancesOf(region: string, ref: HostRef, tunnelId: string | undefined): Promise<Instance[]> {
    const found = tunnelId ? await this.tagged(region, tunnelTag(tunnelId), (i) => carriesTunnel({ ...ref, tunnelId }, readTags(tagList(i.tags)))) : [];
    if (ref.id && !found.some((i) => i.id === ref.id)) {
      const byId = await this.byId(region, ref.id);
      if (byId) refuseUnmarked(PROVIDER, `instance ${ref.id}`, readTags(tagList(byId.tags)));
      if (byId) found.push(byId);
    }
    return found;
  }

  /** Instances of `region` with `tag`, kept only when `keep` says so (the filter is Civo's; the marks are checked here). */
  private async tagged(region: string, tag: string, keep: (i: Instance) => boolean): Promise<Instance[]> {
    const items = await this.api.instances<Instance>(region, tag);
    return items.filter((i) => typeof i?.id === 'string' && keep(i));
  }

  private async byId(region: string, id: string): Promise<Instance | undefined> {
    const res = await this.api.call<Instance>('GET', `/instances/${encodeURIComponent(id)}`, region, { accept: [404] });
    if (res.status === 404) return undefined;
    if (typeof res.body?.id !== 'string') throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `GET /instances/${id} answered without an instance`);
    return res.body;
  }

  /** The region's default network: instances need a network id. */
  private async defaultNetwork(region: string): Promise<Network> {
    const networks = await this.api.array<Network>('/networks', region);
    const found = networks.find((n) => n?.default === true && typeof n.id === 'string');
    if (!found) throw new ProviderError(PROVIDER, 'INVALID', `region ${region} has no default network (GET /networks)`, { retryable: false });
    return found;
  }

  /** The disk image named (or with the id) `wanted`: image ids differ between regions. */
  private async diskImage(region: string, wanted: string): Promise<DiskImage> {
    const images = await this.api.array<DiskImage>('/disk_images', region);
    const found = images.find((d) => (d?.name === wanted || d?.id === wanted) && (d.state === undefined || d.state === 'available'));
    if (found) return found;
    const debian = images.filter((d) => d?.distribution === 'debian' || /^debian/.test(d?.name ?? '')).map((d) => d.name);
    throw new ProviderError(PROVIDER, 'INVALID', `no available disk image "${wanted}" in ${region}${debian.length ? `; Debian images there: ${debian.join(', ')}` : ''}`, { retryable: false });
  }

  private toHost(i: Instance, region: string, data?: Record<string, string>): Host {
    const marks = readTags(tagList(i.tags));
    return {
      name: marks.name ?? i.hostname ?? i.id,
      tunnelId: marks.tunnelId,
      expiresAt: marks.expiresAt,
      id: i.id,
      ip: i.public_ip || undefined,
      region,
      status: mapInstanceStatus(i.status),
      providerStatus: i.status,
      createdAt: i.created_at,
      data,
    };
  }
}
