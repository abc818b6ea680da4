/**
 * The Linode provider: one Compute Instance per tunnel, its cloud-init user data delivered by the
 * Metadata service (`metadata.user_data`, base64), optionally behind a Cloud Firewall of its own
 * (`--firewall`).
 *
 * Identity: the instance and the firewall carry the flat tags of providers/shared/marks.ts; delete
 * and clean-up find both by the tunnel-id tag only (instances through Linode's `X-Filter` on tags,
 * firewalls by reading their tags), plus the instance `ref.id` when it carries our shared tag.
 * Labels are unique in a Linode account, so the instance's label is the name with the tunnel id
 * appended, and the firewall's is `inletsctl-<tunnel id>`; neither is ever used to find anything.
 * API reference: https://techdocs.akamai.com/linode-api/reference/post-linode-instance
 */
import { randomBytes } from 'node:crypto';
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest, Host, HostRef, HostStatus, Provider, ProviderContext } from '../../src/core/provider.js';
import { RestClient, apiBaseUrl, notRetryable } from '../shared/rest-client.js';
import { SHARED_TAG, readTags, tagsFor, tunnelTag } from '../shared/marks.js';
import { carriesTunnel, refuseUnmarked, requireIdentity } from '../shared/ownership.js';
import { tunnelIdOfRef } from '../shared/ref-tunnel-id.js';
import { DEFAULT_API_URL, PROVIDER, isoTime, linodeList, linodeRetryAfterMs, pathOf, readLinodeError, requireId } from './linode-api.js';
import { firewallBody, type LinodeFirewall } from './linode-firewall.js';
import { LINODE_API_URL_ENV, LINODE_USER_DATA_BASE64_LIMIT } from './index.js';

/** The instance fields we read (the create answer holds no secret: root_pass is write-only). */
interface Instance {
  id: number;
  label?: string;
  status?: string;
  region?: string;
  tags?: string[];
  ipv4?: string[];
  created?: string;
}

interface Capable {
  id?: string;
  capabilities?: unknown;
  status?: string;
}

/**
 * Longest tag we write. Linode's tag labels are 3 to 50 characters (POST /tags in the API
 * reference; the create-instance schema itself names no bound): assumed for instance tags too.
 */
export const MAX_TAG_LENGTH = 50;

/** Linode's words for an instance's status, in our vocabulary. */
export function mapInstanceStatus(status: string | undefined): HostStatus {
  switch (status) {
    case 'running':
      return 'active';
    case 'provisioning':
    case 'booting':
    case 'rebooting':
    case 'busy':
    case 'migrating':
    case 'rebuilding':
    case 'cloning':
    case 'restoring':
      return 'provisioning';
    case 'deleting':
      return 'deleting';
    default: // offline, stopped, shutting_down, billing_suspension: it will not serve the tunnel
      return 'error';
  }
}

/** The instance label: unique per tunnel (labels are unique in an account), 3-64 characters. */
export function instanceLabel(name: string, tunnelId: string): string {
  return `${name.slice(0, 64 - 13).replace(/-+$/, '')}-${tunnelId}`;
}

/** The public IPv4 of an instance: the first address outside Linode's private 192.168.128.0/17. */
function publicIpv4(ips: string[] | undefined): string | undefined {
  return (ips ?? []).find((ip) => typeof ip === 'string' && !/^192\.168\.(1(2[89]|[3-9]\d)|2\d\d)\./.test(ip));
}

export function createLinodeProvider(ctx: ProviderContext): Provider {
  const token = ctx.credentials['access-token'];
  if (!token) throw new ProviderError(PROVIDER, 'AUTH', 'no Linode token: give --access-token, --access-token-file, $INLETS_ACCESS_TOKEN or $LINODE_TOKEN');
  const rest = new RestClient({ provider: PROVIDER, baseUrl: apiBaseUrl(ctx.apiUrl, LINODE_API_URL_ENV, DEFAULT_API_URL), token, readError: readLinodeError, retryAfterMs: linodeRetryAfterMs });
  return new LinodeProvider(rest);
}

class LinodeProvider implements Provider {
  constructor(private readonly api: RestClient) {}

  async create(req: CreateRequest): Promise<Host> {
    const tags = tagsFor(req);
    const long = tags.find((t) => t.length > MAX_TAG_LENGTH);
    if (long) throw new ProviderError(PROVIDER, 'INVALID', `the tag "${long}" is over Linode's ${MAX_TAG_LENGTH} characters: use a tunnel name of at most ${MAX_TAG_LENGTH - 'inletsctl:'.length} characters`, { retryable: false });
    const userData = req.userData.toString('base64');
    if (userData.length > LINODE_USER_DATA_BASE64_LIMIT) {
      throw new ProviderError(PROVIDER, 'INVALID', `the user data is ${userData.length} characters of base64, over Linode's ${LINODE_USER_DATA_BASE64_LIMIT}`, { retryable: false });
    }
    await this.checkRegion(req.region, req.firewall);
    await this.checkImage(req.image);
    let firewallId: number | undefined;
    if (req.firewall) {
      const { body } = await this.api.request<LinodeFirewall>('POST', '/networking/firewalls', { body: firewallBody(req) });
      firewallId = requireId('POST /networking/firewalls', body);
    }
    try {
      const { body } = await this.api.request<Instance>('POST', '/linode/instances', {
        body: {
          label: instanceLabel(req.name, req.tunnelId),
          region: req.region,
          type: req.plan,
          image: req.image,
          // Linode wants a way in on a disk made from an image; nobody keeps this one (the tunnel needs no login).
          root_pass: randomBytes(24).toString('base64url'),
          booted: true,
          tags,
          metadata: { user_data: userData },
          // firewall_id applies to legacy configuration-profile interfaces, so ask for those explicitly.
          ...(firewallId !== undefined ? { firewall_id: firewallId, interface_generation: 'legacy_config' } : {}),
        },
      });
      requireId('POST /linode/instances', body);
      const data: Record<string, string> = { tunnelId: req.tunnelId, ...(firewallId !== undefined ? { firewallId: String(firewallId) } : {}) };
      return { ...this.toHost(body), name: req.name, tunnelId: req.tunnelId, data };
    } catch (err) {
      if (firewallId === undefined) throw err;
      // The firewall exists now: the CLI must clean up by tunnel id, not repeat the create.
      throw notRetryable(err, PROVIDER, `firewall ${firewallId} was created but the instance was not`);
    }
  }

  async status(ref: HostRef): Promise<Host> {
    const tunnelId = tunnelIdOfRef(ref);
    let found: Instance | undefined;
    if (ref.id) found = await this.byId(ref.id);
    else if (tunnelId) [found] = await this.tagged(tunnelTag(tunnelId), (i) => carriesTunnel({ ...ref, tunnelId }, readTags(i.tags)));
    else throw new ProviderError(PROVIDER, 'NOT_FOUND', `no id nor tunnel id to look up "${ref.name}" by`);
    if (!found) throw new ProviderError(PROVIDER, 'NOT_FOUND', ref.id ? `no instance ${ref.id}` : `no instance tagged ${tunnelTag(tunnelId!)}`);
    return { ...this.toHost(found), data: ref.data };
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    requireIdentity(PROVIDER, ref);
    const tunnelId = tunnelIdOfRef(ref);
    const instances = await this.instancesOf(ref, tunnelId);
    for (const i of instances.filter((x) => x.status !== 'deleting')) {
      await this.api.request('DELETE', `/linode/instances/${i.id}`, { accept: [404] });
    }
    if (instances.length > 0) return 'pending'; // next step: confirm they are gone, then the firewall
    if (!tunnelId) return 'done'; // a host of an older version: nothing else carries a tunnel id
    const firewalls = await linodeList<LinodeFirewall>(this.api, '/networking/firewalls');
    for (const fw of firewalls.filter((f) => typeof f?.id === 'number' && carriesTunnel({ ...ref, tunnelId }, readTags(f.tags)))) {
      await this.api.request('DELETE', `/networking/firewalls/${fw.id}`, { accept: [404] });
    }
    return 'done';
  }

  async list(): Promise<Host[]> {
    const ours = await this.tagged(SHARED_TAG, (i) => readTags(i.tags).ours);
    return ours.map((i) => this.toHost(i));
  }

  /** The instances of a tunnel: those tagged with its tunnel id, plus `ref.id` when it carries our tag. */
  private async instancesOf(ref: HostRef, tunnelId: string | undefined): Promise<Instance[]> {
    const found = tunnelId ? await this.tagged(tunnelTag(tunnelId), (i) => carriesTunnel({ ...ref, tunnelId }, readTags(i.tags))) : [];
    if (ref.id && !found.some((i) => String(i.id) === ref.id)) {
      const byId = await this.byId(ref.id);
      if (byId) {
        refuseUnmarked(PROVIDER, `instance ${ref.id}`, readTags(byId.tags));
        found.push(byId);
      }
    }
    return found;
  }

  /** Instances with `tag` (Linode's X-Filter), kept only when `keep` says so (the marks are checked here). */
  private async tagged(tag: string, keep: (i: Instance) => boolean): Promise<Instance[]> {
    const items = await linodeList<Instance>(this.api, '/linode/instances', { tags: tag });
    return items.filter((i) => typeof i?.id === 'number' && keep(i));
  }

  private async byId(id: string): Promise<Instance | undefined> {
    if (!/^\d+$/.test(id)) return undefined; // Linode ids are numbers: no such instance
    const res = await this.api.request<Instance>('GET', `/linode/instances/${id}`, { accept: [404] });
    if (res.status === 404) return undefined;
    requireId(`GET /linode/instances/${id}`, res.body);
    return res.body;
  }

  /** The region must exist and offer Metadata (user data), and Cloud Firewalls when asked for one. */
  private async checkRegion(region: string, firewall: boolean): Promise<void> {
    const r = await this.capable(`/regions/${pathOf(region)}`, `region "${region}"`);
    const caps = capabilities(r);
    if (!caps.includes('Metadata')) {
      throw new ProviderError(PROVIDER, 'INVALID', `region ${region} has no Metadata service, which delivers the tunnel's cloud-init user data: choose a region whose capabilities include "Metadata" (GET /v4/regions)`, { retryable: false });
    }
    if (firewall && !caps.includes('Cloud Firewall')) {
      throw new ProviderError(PROVIDER, 'INVALID', `region ${region} offers no Cloud Firewall: create without --firewall, or choose another region`, { retryable: false });
    }
  }

  /** The image must exist and support cloud-init through Metadata. */
  private async checkImage(image: string): Promise<void> {
    const i = await this.capable(`/images/${pathOf(image)}`, `image "${image}"`);
    if (!capabilities(i).includes('cloud-init')) {
      throw new ProviderError(PROVIDER, 'INVALID', `image ${image} does not support cloud-init (its capabilities lack "cloud-init"), so it would ignore the tunnel's user data: use linode/debian12 or another image with that capability`, { retryable: false });
    }
  }

  private async capable(path: string, what: string): Promise<Capable> {
    const res = await this.api.request<Capable>('GET', path, { accept: [404] });
    if (res.status === 404) throw new ProviderError(PROVIDER, 'INVALID', `Linode has no ${what} (GET ${path} answered 404)`, { retryable: false });
    if (!res.body || typeof res.body !== 'object') throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `GET ${path} answered without a body`);
    return res.body;
  }

  private toHost(i: Instance): Host {
    const marks = readTags(i.tags);
    return {
      name: marks.name ?? i.label ?? String(i.id),
      tunnelId: marks.tunnelId,
      expiresAt: marks.expiresAt,
      id: String(i.id),
      ip: publicIpv4(i.ipv4),
      region: i.region,
      status: mapInstanceStatus(i.status),
      providerStatus: i.status,
      createdAt: isoTime(i.created),
    };
  }
}

function capabilities(x: Capable): string[] {
  return Array.isArray(x.capabilities) ? x.capabilities.filter((c): c is string => typeof c === 'string') : [];
}
