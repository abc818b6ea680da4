/**
 * The DigitalOcean provider: one Droplet per tunnel, and optionally one cloud firewall.
 *
 * The Droplet carries the flat tags of providers/shared/marks.ts: `inletsctl`, `inletsctl:<name>`
 * and `inletsctl-tunnel:<id>`; the firewall applies to the tunnel tag, which is how delete finds
 * it (firewalls have no tags of their own). Delete and clean-up go by the tunnel tag only, so a
 * Droplet of the same name made by someone else is never touched.
 * API reference: https://docs.digitalocean.com/reference/api/
 */
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest, Host, HostRef, HostStatus, Provider, ProviderContext } from '../../src/core/provider.js';
import { RestClient, apiBaseUrl, notRetryable, parseRetryAfter, type CloudErrorInfo } from '../shared/rest-client.js';
import { SHARED_TAG, readTags, tagsFor, tunnelTag } from '../shared/marks.js';
import { refuseUnmarked, requireIdentity } from '../shared/ownership.js';
import { allPages, itemsOf } from '../shared/pages.js';
import { DIGITALOCEAN_API_URL_ENV } from './index.js';

const PROVIDER = 'digitalocean';
const DEFAULT_API_URL = 'https://api.digitalocean.com';
/** Largest page the API serves (droplets_list per_page maximum). */
const PAGE_SIZE = 200;

/** For people reading the control panel; delete finds the firewall by the tunnel tag it applies to. */
export function firewallName(name: string, tunnelId: string): string {
  return `inletsctl-${name}-${tunnelId}`;
}

/** The Droplet fields we read (the API returns many more). */
interface Droplet {
  id: number;
  name: string;
  status: string;
  created_at?: string;
  tags?: string[];
  region?: { slug?: string };
  networks?: { v4?: Array<{ ip_address: string; type: string }> };
}

interface Firewall {
  id: string;
  name: string;
  tags?: string[];
}

interface Paged {
  links?: { pages?: { next?: string } };
}

/** DigitalOcean's words for a Droplet's state, in our vocabulary. */
export function mapDropletStatus(status: string): HostStatus {
  switch (status) {
    case 'new':
      return 'provisioning';
    case 'active':
      return 'active';
    case 'archive': // destroyed, kept briefly by the platform
      return 'deleting';
    default: // 'off': a fresh Droplet that is powered off will never serve the tunnel
      return 'error';
  }
}

/** Reads DigitalOcean's error body `{ id, message }`. */
function readError(status: number, body: unknown): CloudErrorInfo {
  const b = (body ?? {}) as { id?: unknown; message?: unknown };
  const info: CloudErrorInfo = {
    cloudCode: typeof b.id === 'string' ? b.id : undefined,
    message: typeof b.message === 'string' ? b.message : undefined,
  };
  // Account limits come back as 422 with a message about the limit.
  if (status === 422 && info.message && /limit/i.test(info.message)) info.code = 'QUOTA';
  return info;
}

/** Retry-After when sent; else the ratelimit-reset epoch (capped: it can be an hour away). */
function retryAfterMs(headers: Headers): number | undefined {
  const explicit = parseRetryAfter(headers.get('retry-after'));
  if (explicit !== undefined) return explicit;
  const reset = Number(headers.get('ratelimit-reset'));
  if (Number.isFinite(reset) && reset > 0) return Math.min(Math.max(reset * 1000 - Date.now(), 1000), 60_000);
  return undefined;
}

export function createDigitalOceanProvider(ctx: ProviderContext): Provider {
  const token = ctx.credentials['access-token'];
  if (!token) throw new ProviderError(PROVIDER, 'AUTH', 'no DigitalOcean API token: give --access-token, --access-token-file, $INLETS_ACCESS_TOKEN or $DIGITALOCEAN_TOKEN');
  const api = new RestClient({
    provider: PROVIDER,
    baseUrl: apiBaseUrl(ctx.apiUrl, DIGITALOCEAN_API_URL_ENV, DEFAULT_API_URL),
    token,
    readError,
    retryAfterMs,
  });
  return new DigitalOceanProvider(api);
}

class DigitalOceanProvider implements Provider {
  constructor(private readonly api: RestClient) {}

  async create(req: CreateRequest): Promise<Host> {
    const { body } = await this.api.request<{ droplet: Droplet }>('POST', '/v2/droplets', {
      body: {
        name: req.name,
        region: req.region,
        size: req.plan,
        image: req.image,
        user_data: req.userData.toString('utf8'),
        // Shared, name, tunnel id and (with --ttl) expiry marks: prune finds expired Droplets by the last.
        tags: tagsFor(req),
      },
    });
    const droplet = body?.droplet;
    if (!droplet || typeof droplet.id !== 'number') {
      throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'POST /v2/droplets answered without a droplet', { retryable: false });
    }
    const host = this.toHost(droplet);
    if (req.firewall) {
      try {
        const fw = await this.createFirewall(req);
        host.data = { firewallId: fw.id };
      } catch (err) {
        // The Droplet exists now: the CLI must clean up by tunnel id, not repeat the create.
        throw notRetryable(err, PROVIDER, `droplet ${droplet.id} was created but its firewall was not`);
      }
    }
    return host;
  }

  async status(ref: HostRef): Promise<Host> {
    if (ref.id) {
      const { body } = await this.api.request<{ droplet: Droplet }>('GET', `/v2/droplets/${encodeURIComponent(ref.id)}`);
      return this.toHost(body.droplet, ref.data);
    }
    if (!ref.tunnelId) throw new ProviderError(PROVIDER, 'NOT_FOUND', `no id nor tunnel id to look up "${ref.name}" by`);
    const [droplet] = await this.dropletsTagged(tunnelTag(ref.tunnelId));
    if (!droplet) throw new ProviderError(PROVIDER, 'NOT_FOUND', `no droplet tagged ${tunnelTag(ref.tunnelId)}`);
    return this.toHost(droplet, ref.data);
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    requireIdentity(PROVIDER, ref);
    const droplets = await this.dropletsOf(ref);
    for (const d of droplets) {
      await this.api.request('DELETE', `/v2/droplets/${d.id}`, { accept: [404] });
    }
    if (droplets.length > 0) return 'pending'; // next step: confirm they are gone, then the rest
    if (ref.tunnelId) {
      await this.deleteFirewalls(ref.tunnelId);
      await this.api.request('DELETE', `/v2/tags/${encodeURIComponent(tunnelTag(ref.tunnelId))}`, { accept: [404] });
    }
    await this.deleteUnusedTags();
    return 'done';
  }

  async list(): Promise<Host[]> {
    const droplets = await this.dropletsTagged(SHARED_TAG);
    return droplets.map((d) => this.toHost(d));
  }

  /** The Droplets of a tunnel: those tagged with its tunnel id, plus `ref.id` when it carries our tag. */
  private async dropletsOf(ref: HostRef): Promise<Droplet[]> {
    const found = ref.tunnelId ? await this.dropletsTagged(tunnelTag(ref.tunnelId)) : [];
    if (ref.id && !found.some((d) => String(d.id) === ref.id)) {
      const res = await this.api.request<{ droplet: Droplet }>('GET', `/v2/droplets/${encodeURIComponent(ref.id)}`, { accept: [404] });
      const d = res.status === 404 ? undefined : res.body.droplet;
      if (d) refuseUnmarked(PROVIDER, `droplet ${ref.id}`, readTags(d.tags));
      if (d) found.push(d);
    }
    return found.filter((d) => d.status !== 'archive');
  }

  private async dropletsTagged(tag: string): Promise<Droplet[]> {
    return this.paged<Droplet>('/v2/droplets', 'droplets', { tag_name: tag });
  }

  /** Follows `links.pages.next` (its page number, applied to our own base URL, so overrides hold). */
  private paged<T>(path: string, key: string, query: Record<string, string>): Promise<T[]> {
    return allPages<T, number>(PROVIDER, `GET ${path}`, 1, async (page) => {
      const { body } = await this.api.request<Paged>('GET', path, { query: { ...query, per_page: PAGE_SIZE, page } });
      const items = itemsOf<T>(PROVIDER, `GET ${path}`, body, key);
      const next = body.links?.pages?.next;
      const nextPage = next ? Number(new URL(next, 'http://x').searchParams.get('page')) : NaN;
      return { items, next: Number.isInteger(nextPage) && nextPage > page ? nextPage : undefined };
    });
  }

  private async createFirewall(req: CreateRequest): Promise<Firewall> {
    const everywhere = { addresses: ['0.0.0.0/0', '::/0'] };
    const { body } = await this.api.request<{ firewall: Firewall }>('POST', '/v2/firewalls', {
      body: {
        name: firewallName(req.name, req.tunnelId),
        inbound_rules: req.openPorts.map((p) => ({ protocol: 'tcp', ports: String(p), sources: everywhere })),
        // A DigitalOcean firewall drops any outbound traffic it does not allow: the VM needs
        // DNS and the Debian mirror to install Node at boot.
        outbound_rules: (['tcp', 'udp', 'icmp'] as const).map((protocol) => ({ protocol, ports: '0', destinations: everywhere })),
        // Firewalls carry no tags of their own: applying to the tunnel's tag is its mark.
        tags: [tunnelTag(req.tunnelId)],
      },
    });
    if (!body?.firewall?.id) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'POST /v2/firewalls answered without a firewall');
    return body.firewall;
  }

  /** Firewalls that apply to the tunnel's own tag: made for this tunnel and no other. */
  private async deleteFirewalls(tunnelId: string): Promise<void> {
    const all = await this.paged<Firewall>('/v2/firewalls', 'firewalls', {});
    for (const fw of all.filter((f) => f.tags?.includes(tunnelTag(tunnelId)))) {
      await this.api.request('DELETE', `/v2/firewalls/${encodeURIComponent(fw.id)}`, { accept: [404] });
    }
  }

  /**
   * Our tags that nothing carries any more (name, shared and expiry tags outlive their Droplets).
   * Deleting a tag untags everything carrying it, so only tags with no resources go: other
   * tunnels of the same name keep theirs (a create racing this in the same second could lose a
   * shared tag; its tunnel tag, the identity, stays).
   */
  private async deleteUnusedTags(): Promise<void> {
    const tags = await this.paged<{ name: string; resources?: { count?: number } }>('/v2/tags', 'tags', {});
    for (const t of tags.filter((x) => readTags([x.name]).ours || x.name.startsWith(`${SHARED_TAG}:`) || x.name.startsWith(`${SHARED_TAG}-`))) {
      if ((t.resources?.count ?? 1) > 0) continue;
      await this.api.request('DELETE', `/v2/tags/${encodeURIComponent(t.name)}`, { accept: [404] });
    }
  }

  private toHost(d: Droplet, data?: Record<string, string>): Host {
    const ip = d.networks?.v4?.find((n) => n.type === 'public')?.ip_address;
    const marks = readTags(d.tags);
    return {
      name: marks.name ?? d.name,
      tunnelId: marks.tunnelId,
      expiresAt: marks.expiresAt,
      id: String(d.id),
      ip,
      region: d.region?.slug,
      status: mapDropletStatus(d.status),
      providerStatus: d.status,
      createdAt: d.created_at,
      data,
    };
  }
}
