/**
 * The Vultr provider: one cloud-compute instance per tunnel and, with `--firewall`, a firewall
 * group of its own attached through the instance's `firewall_group_id`.
 *
 * Identity: the instance carries the flat tags of providers/shared/marks.ts in its `tags`; the
 * firewall group, which has no tags, carries the same marks in its `description`
 * (vultr-firewall.ts). `list`, `status` and `delete` find instances by tag (the API's `tag`
 * filter, then the marks checked here) and firewall groups by description; never by name or
 * label. Instances are listed account-wide, so a HostRef's region is not needed to find one.
 *
 * Vultr's instance words: `status` pending | active | suspended | resizing, `power_status`
 * running | stopped, `server_status` none | locked | installingbooting | ok. A new instance is
 * `pending` with main_ip 0.0.0.0 until its address is assigned.
 * API reference: https://www.vultr.com/api/#tag/instances
 */
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest, Host, HostRef, HostStatus, Provider, ProviderContext } from '../../src/core/provider.js';
import { RestClient, apiBaseUrl, notRetryable } from '../shared/rest-client.js';
import { SHARED_TAG, readTags, tagsFor, tunnelTag } from '../shared/marks.js';
import { carriesTunnel, refuseUnmarked, requireIdentity } from '../shared/ownership.js';
import { tunnelIdOfRef } from '../shared/ref-tunnel-id.js';
import { DEFAULT_API_URL, PROVIDER, listAll, readVultrError, vultrRetryAfterMs } from './vultr-api.js';
import { addPortRules, createFirewallGroup, tunnelFirewallGroups } from './vultr-firewall.js';
import { VULTR_API_URL_ENV } from './index.js';

/** The instance fields we read (the create answer also holds `default_password`: never kept). */
export interface Instance {
  id: string;
  label?: string;
  hostname?: string;
  region?: string;
  status?: string;
  power_status?: string;
  server_status?: string;
  main_ip?: string;
  tags?: string[] | null;
  date_created?: string;
  firewall_group_id?: string;
}

/** main_ip of an instance whose address is not assigned yet. */
const NO_IP = '0.0.0.0';

function ipOf(i: Instance): string | undefined {
  return i.main_ip && i.main_ip !== NO_IP ? i.main_ip : undefined;
}

/** Vultr's words for an instance's state, in our vocabulary. */
export function mapInstanceStatus(i: Pick<Instance, 'status' | 'power_status' | 'main_ip'>): HostStatus {
  switch (i.status) {
    case 'pending':
    case 'resizing':
      return 'provisioning';
    case 'active':
      if (i.power_status === 'stopped') return 'error'; // will not serve the tunnel
      return ipOf(i as Instance) ? 'active' : 'provisioning';
    default: // suspended, or a word we do not know: an instance that will not serve the tunnel
      return 'error';
  }
}

/** The cloud's own words for `list` and messages: `active`, `active (stopped)`, `pending (installingbooting)`. */
function providerStatus(i: Instance): string | undefined {
  const more = i.power_status === 'stopped' ? 'stopped' : i.server_status && i.server_status !== 'ok' && i.server_status !== 'none' ? i.server_status : undefined;
  return i.status && more ? `${i.status} (${more})` : i.status;
}

/** The os_id `--image` names: Vultr's images are numbered (GET /v2/os). */
function osId(image: string): number {
  if (!/^\d{1,9}$/.test(image.trim())) {
    throw new ProviderError(PROVIDER, 'INVALID', `--image must be a Vultr os_id (a number from GET /v2/os, such as 2136 for Debian 12 x64), not "${image}"`, { retryable: false });
  }
  return Number(image.trim());
}

export function createVultrProvider(ctx: ProviderContext): Provider {
  const token = ctx.credentials['access-token'];
  if (!token) throw new ProviderError(PROVIDER, 'AUTH', 'no Vultr API key: give --access-token, --access-token-file, $INLETS_ACCESS_TOKEN or $VULTR_API_KEY');
  const rest = new RestClient({ provider: PROVIDER, baseUrl: apiBaseUrl(ctx.apiUrl, VULTR_API_URL_ENV, DEFAULT_API_URL), token, readError: readVultrError, retryAfterMs: vultrRetryAfterMs });
  return new VultrProvider(rest);
}

class VultrProvider implements Provider {
  constructor(private readonly rest: RestClient) {}

  async create(req: CreateRequest): Promise<Host> {
    const os_id = osId(req.image);
    let firewallGroupId: string | undefined;
    if (req.firewall) firewallGroupId = await createFirewallGroup(this.rest, req);
    try {
      if (firewallGroupId) await addPortRules(this.rest, req, firewallGroupId);
      const { body } = await this.rest.request<{ instance?: Instance }>('POST', '/instances', {
        body: {
          region: req.region,
          plan: req.plan,
          os_id,
          label: req.name,
          hostname: req.name,
          // "The user-supplied, base64 encoded user data"; cloud-init reads it from the metadata service.
          user_data: req.userData.toString('base64'),
          tags: tagsFor(req),
          backups: 'disabled',
          enable_ipv6: false,
          activation_email: false,
          ...(firewallGroupId ? { firewall_group_id: firewallGroupId } : {}),
        },
      });
      const instance = body?.instance;
      if (!instance || typeof instance.id !== 'string' || !instance.id) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'POST /instances answered without an instance id');
      const data: Record<string, string> = { tunnelId: req.tunnelId, ...(firewallGroupId ? { firewallGroupId } : {}) };
      return { ...this.toHost(instance), name: req.name, tunnelId: req.tunnelId, data };
    } catch (err) {
      // The firewall group exists now: the CLI must clean up by tunnel id, not repeat the create.
      if (firewallGroupId) throw notRetryable(err, PROVIDER, `firewall group ${firewallGroupId} was created but the instance was not`);
      throw err;
    }
  }

  async status(ref: HostRef): Promise<Host> {
    const tunnelId = tunnelIdOfRef(ref);
    if (ref.id) {
      const found = await this.byId(ref.id);
      if (!found) throw new ProviderError(PROVIDER, 'NOT_FOUND', `no instance ${ref.id}`);
      return this.toHost(found, ref.data);
    }
    if (!tunnelId) throw new ProviderError(PROVIDER, 'NOT_FOUND', `no id nor tunnel id to look up "${ref.name}" by`);
    const [found] = await this.ofTunnel(tunnelId);
    if (!found) throw new ProviderError(PROVIDER, 'NOT_FOUND', `no instance tagged ${tunnelTag(tunnelId)}`);
    return this.toHost(found, ref.data);
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    requireIdentity(PROVIDER, ref);
    const tunnelId = tunnelIdOfRef(ref);
    const instances = tunnelId ? await this.ofTunnel(tunnelId) : [];
    if (ref.id && !instances.some((i) => i.id === ref.id)) {
      const byId = await this.byId(ref.id);
      if (byId) refuseUnmarked(PROVIDER, `instance ${ref.id}`, readTags(byId.tags));
      if (byId) instances.push(byId);
    }
    for (const i of instances) {
      await this.rest.request('DELETE', `/instances/${encodeURIComponent(i.id)}`, { accept: [404] });
    }
    if (instances.length > 0) return 'pending'; // next step: confirm they are gone, then the firewall group
    if (!tunnelId) return 'done'; // a host of an older version: nothing else carries a tunnel id
    for (const group of await tunnelFirewallGroups(this.rest, tunnelId)) {
      await this.rest.request('DELETE', `/firewalls/${encodeURIComponent(group.id)}`, { accept: [404] });
    }
    return 'done';
  }

  async list(): Promise<Host[]> {
    const ours = await this.tagged(SHARED_TAG, (i) => readTags(i.tags).ours);
    return ours.map((i) => this.toHost(i));
  }

  /** Instances carrying our shared mark and `tunnelId`. */
  private ofTunnel(tunnelId: string): Promise<Instance[]> {
    return this.tagged(tunnelTag(tunnelId), (i) => carriesTunnel({ name: '', tunnelId }, readTags(i.tags)));
  }

  /** Instances with `tag` (Vultr's filter narrows the list; `keep` checks the marks themselves). */
  private async tagged(tag: string, keep: (i: Instance) => boolean): Promise<Instance[]> {
    const all = await listAll<Instance>(this.rest, '/instances', 'instances', { tag });
    return all.filter((i) => typeof i?.id === 'string' && keep(i));
  }

  private async byId(id: string): Promise<Instance | undefined> {
    const res = await this.rest.request<{ instance?: Instance }>('GET', `/instances/${encodeURIComponent(id)}`, { accept: [404] });
    if (res.status === 404) return undefined;
    const instance = res.body?.instance;
    if (!instance || typeof instance.id !== 'string') throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `GET /instances/${id} answered without an instance`);
    return instance;
  }

  private toHost(i: Instance, data?: Record<string, string>): Host {
    const marks = readTags(i.tags);
    return {
      name: marks.name ?? i.label ?? i.id,
      tunnelId: marks.tunnelId,
      expiresAt: marks.expiresAt,
      id: i.id,
      ip: ipOf(i),
      region: i.region,
      status: mapInstanceStatus(i),
      providerStatus: providerStatus(i),
      createdAt: i.date_created,
      data,
    };
  }
}
