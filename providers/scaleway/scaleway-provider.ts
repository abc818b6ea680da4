/**
 * The Scaleway provider: one Instance per tunnel, with a dynamic public IPv4, and with
 * `--firewall` a security group of its own (scaleway-security-group.ts).
 *
 * Create makes its calls in order and returns: the image id from the Marketplace, the security
 * group and its rules, the Instance (created stopped), its cloud-init user data (its own call,
 * PATCH …/user_data/cloud-init, text/plain), then the power-on action. It never waits; the
 * poller's `status` reads the Instance's state.
 *
 * The public IP is a dynamic one (`dynamic_ip_required: true`): the Instance API documents it as
 * allocated with the Instance and released with it, so there is no IP resource to tag or delete.
 * Identity: the Instance and the group carry the flat tags of providers/shared/marks.ts; delete
 * and clean-up go by the tunnel tag (and the Instance id, which must carry the shared tag),
 * never by name. Deleting: a running (or starting) Instance is terminated, which the reference
 * says deletes it with its attached volumes; a stopped one (a create interrupted before power-on)
 * is deleted and then its volumes, which Scaleway would otherwise keep. The tunnel's groups go
 * once no Instance of the tunnel is left.
 * API reference: https://www.scaleway.com/en/developers/api/instance/
 */
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest, Host, HostRef, HostStatus, Provider, ProviderContext } from '../../src/core/provider.js';
import { RestClient, apiBaseUrl, notRetryable } from '../shared/rest-client.js';
import { SHARED_TAG, readTags, tagsFor, tunnelTag } from '../shared/marks.js';
import { carriesTunnel, refuseUnmarked, requireIdentity } from '../shared/ownership.js';
import { tunnelIdOfRef } from '../shared/ref-tunnel-id.js';
import { DEFAULT_API_URL, PROVIDER, ScalewayApi, missing, readScalewayError, scalewayRetryAfterMs } from './scaleway-api.js';
import { createTunnelSecurityGroup, setTunnelRules, tunnelSecurityGroups } from './scaleway-security-group.js';
import { SCALEWAY_API_URL_ENV, SCALEWAY_ZONES } from './index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The Instance fields we read. */
export interface Server {
  id: string;
  name?: string;
  state?: string;
  tags?: string[];
  zone?: string;
  creation_date?: string;
  public_ip?: { address?: string } | null;
  public_ips?: Array<{ address?: string; family?: string }> | null;
  volumes?: Record<string, { id: string; volume_type?: string }> | null;
  /** The actions the Instance takes in its present state (`poweron`, `terminate`…). */
  allowed_actions?: string[];
}

/** A Marketplace local image: one image version in one zone. */
interface LocalImage {
  id: string;
  zone?: string;
  type?: string;
  label?: string;
  compatible_commercial_types?: string[];
}

/** The Instance's public IPv4, if it has one yet. */
function publicIpv4(s: Server): string | undefined {
  const routed = s.public_ips?.find((ip) => ip?.family === 'inet' && ip.address)?.address;
  return routed ?? (s.public_ip?.address || undefined);
}

/** Scaleway's words for an Instance's state, in our vocabulary (`running` counts once it has its IP). */
export function mapServerState(state: string | undefined, hasIp: boolean): HostStatus {
  switch (state) {
    case 'running':
      return hasIp ? 'active' : 'provisioning';
    case 'starting':
      return 'provisioning';
    case 'stopping':
      return 'deleting'; // inletsctl only ever stops an Instance to terminate it
    default: // stopped, stopped in place, locked: an Instance that will not serve the tunnel
      return 'error';
  }
}

export function createScalewayProvider(ctx: ProviderContext): Provider {
  const secret = ctx.credentials['secret-key'];
  if (!secret) throw new ProviderError(PROVIDER, 'AUTH', 'no Scaleway secret key: give --secret-key, --secret-key-file or $SCW_SECRET_KEY');
  const project = typeof ctx.options['project-id'] === 'string' && ctx.options['project-id'] ? ctx.options['project-id'] : undefined;
  const rest = new RestClient({
    provider: PROVIDER,
    baseUrl: apiBaseUrl(ctx.apiUrl, SCALEWAY_API_URL_ENV, DEFAULT_API_URL),
    authHeaders: () => ({ 'x-auth-token': secret }),
    readError: readScalewayError,
    retryAfterMs: scalewayRetryAfterMs,
  });
  return new ScalewayProvider(new ScalewayApi(rest), project);
}

class ScalewayProvider implements Provider {
  constructor(
    private readonly api: ScalewayApi,
    private readonly project: string | undefined,
  ) {}

  async create(req: CreateRequest): Promise<Host> {
    if (!this.project) {
      throw new ProviderError(PROVIDER, 'INVALID', 'no Scaleway Project id to create the Instance in: give --project-id or $SCW_DEFAULT_PROJECT_ID (Console → Project → Settings)', { retryable: false });
    }
    const zone = req.region;
    const image = await this.imageId(zone, req.image, req.plan);
    let groupId: string | undefined;
    if (req.firewall) {
      groupId = await createTunnelSecurityGroup(this.api, req, this.project);
      try {
        await setTunnelRules(this.api, zone, groupId, req.openPorts);
      } catch (err) {
        throw notRetryable(err, PROVIDER, `security group ${groupId} was created but its rules were not`);
      }
    }
    let server: Server;
    try {
      const { body } = await this.api.zonal<{ server?: Server }>('POST', zone, '/servers', {
        body: {
          name: req.name,
          commercial_type: req.plan,
          image,
          dynamic_ip_required: true,
          boot_type: 'local',
          project: this.project,
          tags: tagsFor(req),
          ...(groupId ? { security_group: groupId } : {}),
        },
      });
      if (typeof body?.server?.id !== 'string' || !body.server.id) throw missing('POST /servers', 'server');
      server = body.server;
    } catch (err) {
      if (groupId) throw notRetryable(err, PROVIDER, `security group ${groupId} was created but the Instance was not`);
      throw err;
    }
    const at = `/servers/${encodeURIComponent(server.id)}`;
    try {
      // Set before the first boot, which is when cloud-init reads it from the metadata service.
      await this.api.zonal('PATCH', zone, `${at}/user_data/cloud-init`, { text: { body: req.userData.toString('utf8'), contentType: 'text/plain' } });
      const { body } = await this.api.zonal<{ task?: { status?: string } }>('POST', zone, `${at}/action`, { body: { action: 'poweron' } });
      if (!body?.task) throw missing(`POST ${at}/action`, 'task');
      if (body.task.status === 'failure') throw new ProviderError(PROVIDER, 'CREATE_FAILED', `the power-on of Instance ${server.id} failed`);
    } catch (err) {
      throw notRetryable(err, PROVIDER, `Instance ${server.id} was created but not started`);
    }
    const data: Record<string, string> = { tunnelId: req.tunnelId, ...(groupId ? { securityGroupId: groupId } : {}) };
    return { ...this.toHost(server, zone), name: req.name, tunnelId: req.tunnelId, status: 'provisioning', providerStatus: 'starting', data };
  }

  async status(ref: HostRef): Promise<Host> {
    const tunnelId = tunnelIdOfRef(ref);
    if (!ref.id && !tunnelId) throw new ProviderError(PROVIDER, 'NOT_FOUND', `no id nor tunnel id to look up "${ref.name}" by`);
    for (const zone of this.zonesOf(ref)) {
      const found = ref.id ? await this.byId(zone, ref.id) : (await this.tagged(zone, tunnelTag(tunnelId!), (s) => carriesTunnel({ ...ref, tunnelId }, readTags(s.tags))))[0];
      if (found) return this.toHost(found, zone, ref.data);
    }
    throw new ProviderError(PROVIDER, 'NOT_FOUND', ref.id ? `no Instance ${ref.id} in ${this.zonesOf(ref).join(', ')}` : `no Instance tagged ${tunnelTag(tunnelId!)}`);
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    requireIdentity(PROVIDER, ref);
    const tunnelId = tunnelIdOfRef(ref);
    const zones = this.zonesOf(ref);
    let pending = false;
    for (const zone of zones) {
      for (const s of await this.serversOf(zone, ref, tunnelId)) {
        await this.removeStep(zone, s);
        pending = true;
      }
    }
    if (pending) return 'pending'; // next step: confirm they are gone, then the groups they used
    if (!tunnelId) return 'done'; // a host of an older version: nothing else carries a tunnel id
    for (const zone of zones) {
      for (const g of await tunnelSecurityGroups(this.api, zone, tunnelId)) {
        await this.api.zonal('DELETE', zone, `/security_groups/${encodeURIComponent(g.id)}`, { accept: [404] });
      }
    }
    return 'done';
  }

  async list(): Promise<Host[]> {
    const hosts: Host[] = [];
    for (const zone of SCALEWAY_ZONES) {
      const ours = await this.tagged(zone, SHARED_TAG, (s) => readTags(s.tags).ours);
      hosts.push(...ours.map((s) => this.toHost(s, zone)));
    }
    return hosts;
  }

  /**
   * One step of removing Instance `s`: terminate a running or starting one (the reference: its
   * attached volumes, local and block, are deleted with it) once its `allowed_actions` include
   * terminate; delete a stopped one, then its volumes; leave one that is stopping (a terminate in
   * progress) or locked to the next step. (A volume whose delete fails after its Instance's is
   * no longer found by a later step: Scaleway's server volumes carry no tags of ours.)
   */
  private async removeStep(zone: string, s: Server): Promise<void> {
    const at = `/servers/${encodeURIComponent(s.id)}`;
    if (s.state === 'running' || s.state === 'starting' || s.state === 'stopped in place') {
      // The Instance says which actions it takes now: without `terminate` (still powering on), the next step asks again.
      if (Array.isArray(s.allowed_actions) && !s.allowed_actions.includes('terminate')) return;
      const res = await this.api.zonal<{ type?: unknown }>('POST', zone, `${at}/action`, { body: { action: 'terminate' }, accept: [400, 404, 409] });
      // While it changes state (a power-on still in progress) Scaleway refuses with `transient_state`: the next step asks again.
      if ((res.status === 400 || res.status === 409) && res.body?.type !== 'transient_state') throw refused(`POST ${at}/action`, res.status, res.body);
    } else if (s.state === 'stopped') {
      const volumes = Object.values(s.volumes ?? {}).filter((v) => typeof v?.id === 'string');
      await this.api.zonal('DELETE', zone, at, { accept: [404] });
      for (const v of volumes) {
        // Volumes of the Block Storage API (sbs_volume) are deleted there; local and b_ssd ones here.
        if (v.volume_type === 'sbs_volume') await this.api.rest.request('DELETE', `/block/v1alpha1/zones/${encodeURIComponent(zone)}/volumes/${encodeURIComponent(v.id)}`, { accept: [404] });
        else await this.api.zonal('DELETE', zone, `/volumes/${encodeURIComponent(v.id)}`, { accept: [404] });
      }
    }
  }

  /** The ref's zone, or every zone (the default first) when the ref does not know it. */
  private zonesOf(ref: HostRef): string[] {
    return ref.region ? [ref.region] : [...SCALEWAY_ZONES];
  }

  /** The Instances of a tunnel in `zone`: those tagged with its tunnel id, plus `ref.id` when it carries our tag. */
  private async serversOf(zone: string, ref: HostRef, tunnelId: string | undefined): Promise<Server[]> {
    const found = tunnelId ? await this.tagged(zone, tunnelTag(tunnelId), (s) => carriesTunnel({ ...ref, tunnelId }, readTags(s.tags))) : [];
    if (ref.id && !found.some((s) => s.id === ref.id)) {
      const byId = await this.byId(zone, ref.id);
      if (byId) {
        refuseUnmarked(PROVIDER, `Instance ${ref.id}`, readTags(byId.tags));
        found.push(byId);
      }
    }
    return found;
  }

  /** Instances of `zone` with `tag` (Scaleway's filter), kept only when `keep` says so (the marks are checked here). */
  private async tagged(zone: string, tag: string, keep: (s: Server) => boolean): Promise<Server[]> {
    const items = await this.api.list<Server>(zone, '/servers', 'servers', { tags: tag });
    return items.filter((s) => typeof s?.id === 'string' && keep(s));
  }

  private async byId(zone: string, id: string): Promise<Server | undefined> {
    const res = await this.api.zonal<{ server?: Server }>('GET', zone, `/servers/${encodeURIComponent(id)}`, { accept: [404] });
    if (res.status === 404) return undefined;
    if (typeof res.body?.server?.id !== 'string') throw missing(`GET /servers/${id}`, 'server');
    return res.body.server;
  }

  /**
   * The id of image `image` for `plan` in `zone`: a local image uuid as given, else the
   * Marketplace's local image of that label (`debian_bookworm`) in the zone whose compatible
   * types include the plan; a local-storage one (`instance_local`) first.
   */
  private async imageId(zone: string, image: string, plan: string): Promise<string> {
    if (UUID.test(image)) return image;
    const images = await this.api.localImages<LocalImage>({ image_label: image, zone });
    const fits = images.filter((i) => typeof i?.id === 'string' && (i.zone === undefined || i.zone === zone) && (i.compatible_commercial_types ?? []).includes(plan));
    const chosen = fits.find((i) => i.type === 'instance_local') ?? fits[0];
    if (chosen) return chosen.id;
    const types = [...new Set(images.flatMap((i) => i?.compatible_commercial_types ?? []))].sort();
    throw new ProviderError(
      PROVIDER,
      'INVALID',
      images.length === 0
        ? `the Marketplace has no image "${image}" in ${zone}`
        : `the Marketplace's "${image}" images in ${zone} do not support ${plan}; they support: ${types.join(', ')}`,
      { retryable: false },
    );
  }

  private toHost(s: Server, zone: string, data?: Record<string, string>): Host {
    const marks = readTags(s.tags);
    const ip = publicIpv4(s);
    return {
      name: marks.name ?? s.name ?? s.id,
      tunnelId: marks.tunnelId,
      expiresAt: marks.expiresAt,
      id: s.id,
      ip,
      region: s.zone ?? zone,
      status: mapServerState(s.state, ip !== undefined),
      providerStatus: s.state,
      createdAt: s.creation_date,
      data,
    };
  }
}

/** A 4xx that `accept` let through but that is an error after all, in Scaleway's words. */
function refused(what: string, status: number, body: unknown): ProviderError {
  const info = readScalewayError(status, body);
  return new ProviderError(PROVIDER, info.code ?? 'INVALID', `${what} failed with HTTP ${status}${info.cloudCode ? ` (${info.cloudCode})` : ''}${info.message ? `: ${info.message}` : ''}`, { status });
}
