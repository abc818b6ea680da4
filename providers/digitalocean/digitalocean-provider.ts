/**
 * The DigitalOcean provider: one Droplet per tunnel, and optionally one cloud firewall.
 *
 * Everything carries the tunnel's name so `delete({ name })` finds it after an interrupted create:
 * the Droplet has the tags `inletsctl` and `inletsctl:<name>`; the firewall is named
 * `inletsctl-<name>` and applies to that tag. API reference: https://docs.digitalocean.com/reference/api/
 */
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest, Host, HostRef, HostStatus, Provider, ProviderContext } from '../../src/core/provider.js';
import { RestClient, apiBaseUrl, notRetryable, parseRetryAfter, type CloudErrorInfo } from '../shared/rest-client.js';
import { DIGITALOCEAN_API_URL_ENV } from './index.js';
import { readTags, tagsFor } from '../shared/marks.js';

const PROVIDER = 'digitalocean';
const DEFAULT_API_URL = 'https://api.digitalocean.com';
/** The tag on everything inletsctl creates; `list` filters on it. */
export const SHARED_TAG = 'inletsctl';
/** Largest page the API serves (droplets_list per_page maximum). */
const PAGE_SIZE = 200;

/** The tag naming one tunnel. Names are [a-z0-9-], all allowed in tags. */
export function nameTag(name: string): string {
  return `${SHARED_TAG}:${name}`;
}

export function firewallName(name: string): string {
  return `inletsctl-${name}`;
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
        // With --ttl, the expiry mark of providers/shared/marks.ts too, so prune finds the Droplet.
        tags: [SHARED_TAG, nameTag(req.name), ...tagsFor(req).filter((t) => readTags([t]).expiresAt)],
      },
    });
    const droplet = body?.droplet;
    if (!droplet || typeof droplet.id !== 'number') {
      throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'POST /v2/droplets answered without a droplet', { retryable: false });
    }
    const host = this.toHost(droplet, req.name);
    if (req.firewall) {
      try {
        const fw = await this.createFirewall(req);
        host.data = { firewallId: fw.id };
      } catch (err) {
        // The Droplet exists now: the CLI must clean up by name, not repeat the create.
        throw notRetryable(err, PROVIDER, `droplet ${droplet.id} was created but its firewall was not`);
      }
    }
    return host;
  }

  async status(ref: HostRef): Promise<Host> {
    if (ref.id) {
      const { body } = await this.api.request<{ droplet: Droplet }>('GET', `/v2/droplets/${encodeURIComponent(ref.id)}`);
      return this.toHost(body.droplet, ref.name, ref.data);
    }
    const [droplet] = await this.dropletsTagged(nameTag(ref.name));
    if (!droplet) throw new ProviderError(PROVIDER, 'NOT_FOUND', `no droplet tagged ${nameTag(ref.name)}`);
    return this.toHost(droplet, ref.name, ref.data);
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    const droplets = await this.dropletsOf(ref);
    for (const d of droplets) {
      await this.api.request('DELETE', `/v2/droplets/${d.id}`, { accept: [404] });
    }
    if (droplets.length > 0) return 'pending'; // next step: confirm they are gone, then the rest
    await this.deleteFirewalls(ref.name);
    await this.api.request('DELETE', `/v2/tags/${encodeURIComponent(nameTag(ref.name))}`, { accept: [404] });
    await this.deleteSharedTagIfUnused();
    return 'done';
  }

  async list(): Promise<Host[]> {
    const droplets = await this.dropletsTagged(SHARED_TAG);
    return droplets.map((d) => this.toHost(d, tunnelNameOf(d)));
  }

  /** The Droplets of a tunnel: by its tag, plus `ref.id` when it carries our tag. */
  private async dropletsOf(ref: HostRef): Promise<Droplet[]> {
    const found = await this.dropletsTagged(nameTag(ref.name));
    if (ref.id && !found.some((d) => String(d.id) === ref.id)) {
      const res = await this.api.request<{ droplet: Droplet }>('GET', `/v2/droplets/${encodeURIComponent(ref.id)}`, { accept: [404] });
      const d = res.status === 404 ? undefined : res.body.droplet;
      if (d && !d.tags?.includes(SHARED_TAG)) {
        throw new ProviderError(PROVIDER, 'INVALID', `droplet ${ref.id} was not created by inletsctl (no "${SHARED_TAG}" tag); not deleting it`, { retryable: false });
      }
      if (d) found.push(d);
    }
    return found.filter((d) => d.status !== 'archive');
  }

  private async dropletsTagged(tag: string): Promise<Droplet[]> {
    return this.paged<Droplet>('/v2/droplets', 'droplets', { tag_name: tag });
  }

  /** Follows `links.pages.next` (its query, applied to our own base URL, so overrides hold). */
  private async paged<T>(path: string, key: string, query: Record<string, string>): Promise<T[]> {
    const out: T[] = [];
    let page = 1;
    for (let guard = 0; guard < 1000; guard++) {
      const { body } = await this.api.request<Paged & Record<string, unknown>>('GET', path, { query: { ...query, per_page: PAGE_SIZE, page } });
      const items = body?.[key];
      if (!Array.isArray(items)) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `GET ${path} answered without "${key}"`);
      out.push(...(items as T[]));
      const next = body.links?.pages?.next;
      const nextPage = next ? Number(new URL(next, 'http://x').searchParams.get('page')) : NaN;
      if (!Number.isInteger(nextPage) || nextPage <= page) return out;
      page = nextPage;
    }
    throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `GET ${path}: too many pages`);
  }

  private async createFirewall(req: CreateRequest): Promise<Firewall> {
    const everywhere = { addresses: ['0.0.0.0/0', '::/0'] };
    const ports = [req.controlPort, ...req.ports.filter((p) => p !== req.controlPort)];
    const { body } = await this.api.request<{ firewall: Firewall }>('POST', '/v2/firewalls', {
      body: {
        name: firewallName(req.name),
        inbound_rules: ports.map((p) => ({ protocol: 'tcp', ports: String(p), sources: everywhere })),
        // A DigitalOcean firewall drops any outbound traffic it does not allow: the VM needs
        // DNS and the Debian mirror to install Node at boot.
        outbound_rules: (['tcp', 'udp', 'icmp'] as const).map((protocol) => ({ protocol, ports: '0', destinations: everywhere })),
        tags: [nameTag(req.name)],
      },
    });
    if (!body?.firewall?.id) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'POST /v2/firewalls answered without a firewall');
    return body.firewall;
  }

  private async deleteFirewalls(name: string): Promise<void> {
    const all = await this.paged<Firewall>('/v2/firewalls', 'firewalls', {});
    for (const fw of all.filter((f) => f.name === firewallName(name))) {
      await this.api.request('DELETE', `/v2/firewalls/${encodeURIComponent(fw.id)}`, { accept: [404] });
    }
  }

  /**
   * Deleting a tag untags everything carrying it, so the shared tag goes only when nothing has it
   * (a create racing this check in the same second could lose the shared tag; its own tag stays).
   */
  private async deleteSharedTagIfUnused(): Promise<void> {
    const res = await this.api.request<{ tag?: { resources?: { count?: number } } }>('GET', `/v2/tags/${SHARED_TAG}`, { accept: [404] });
    if (res.status === 404 || (res.body?.tag?.resources?.count ?? 1) > 0) return;
    await this.api.request('DELETE', `/v2/tags/${SHARED_TAG}`, { accept: [404] });
  }

  private toHost(d: Droplet, name: string, data?: Record<string, string>): Host {
    const ip = d.networks?.v4?.find((n) => n.type === 'public')?.ip_address;
    return {
      name,
      id: String(d.id),
      ip,
      region: d.region?.slug,
      status: mapDropletStatus(d.status),
      providerStatus: d.status,
      createdAt: d.created_at,
      expiresAt: readTags(d.tags).expiresAt,
      data,
    };
  }
}

/** The tunnel name from a Droplet's `inletsctl:<name>` tag, else its own name. */
function tunnelNameOf(d: Droplet): string {
  const tag = d.tags?.find((t) => t.startsWith(`${SHARED_TAG}:`));
  return tag ? tag.slice(SHARED_TAG.length + 1) : d.name;
}
