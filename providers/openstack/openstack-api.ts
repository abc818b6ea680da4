/**
 * The Nova and Neutron calls the OpenStack provider makes, on one Keystone session: lists that
 * follow `*_links` (limit and marker), lookups by name or id, and the shapes we read.
 *
 * Nova: https://docs.openstack.org/api-ref/compute/ ; Neutron: https://docs.openstack.org/api-ref/network/v2/
 */
import { ProviderError } from '../../src/errors.js';
import { RestClient, parseRetryAfter, type RequestOptions, type RestResponse } from '../shared/rest-client.js';
import { allPages, itemsOf } from '../shared/pages.js';
import { readOpenStackError, type Session } from './openstack-auth.js';

/** Page size asked of Nova and Neutron (both cap it at their configured maximum). */
const PAGE_SIZE = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface NovaAddress {
  addr: string;
  version: number;
  'OS-EXT-IPS:type'?: string;
}

export interface NovaServer {
  id: string;
  name: string;
  status: string;
  created?: string;
  metadata?: Record<string, string>;
  addresses?: Record<string, NovaAddress[]>;
  'OS-EXT-STS:task_state'?: string | null;
  'OS-EXT-AZ:availability_zone'?: string;
  fault?: { message?: string };
}

/** A Neutron resource we make (security group, port, floating IP): marks live in the description. */
export interface NeutronResource {
  id: string;
  name?: string;
  description?: string;
  floating_ip_address?: string;
}

/** Ways to reach both services with one token. */
export class OpenStackApi {
  readonly nova: RestClient;
  readonly neutron: RestClient;

  constructor(readonly provider: string, session: Session) {
    const common = {
      provider,
      token: session.token,
      authHeaders: () => ({ 'x-auth-token': session.token }),
      readError: readOpenStackError,
      retryAfterMs: (h: Headers) => parseRetryAfter(h.get('retry-after')),
    };
    this.nova = new RestClient({ ...common, baseUrl: session.compute });
    // Catalogs list Neutron's root; its API lives under /v2.0.
    this.neutron = new RestClient({ ...common, baseUrl: /\/v2\.0$/.test(session.network) ? session.network : `${session.network}/v2.0` });
  }

  /**
   * Every item of a Nova or Neutron list, following `<key>_links` rel=next with `marker`. `limit`
   * is sent only where the API documents it (Nova servers and flavors): Neutron and Nova's image
   * list answer everything unless the deployment caps pages, and then they send the next link.
   */
  async all<T extends { id: string }>(client: RestClient, path: string, key: string, query: Record<string, string> = {}, limit = false): Promise<T[]> {
    const what = `GET ${path}`;
    // The first page has no marker: '' stands for "none" (allPages needs a defined cursor).
    return allPages<T, string>(this.provider, what, '', async (marker) => {
      const { body } = await client.request<Record<string, unknown>>('GET', path, { query: { ...query, limit: limit ? PAGE_SIZE : undefined, marker: marker || undefined } });
      const items = itemsOf<T>(this.provider, what, body, key);
      const links = body[`${key}_links`] as Array<{ rel?: string }> | undefined;
      const last = items[items.length - 1]?.id;
      return { items, next: links?.some((l) => l.rel === 'next') && last ? last : undefined };
    });
  }

  /** A flavor's id from its name (`d2-2`) or id. */
  async flavorId(plan: string): Promise<string> {
    const flavors = await this.all<{ id: string; name: string }>(this.nova, '/flavors', 'flavors', {}, true);
    const hit = flavors.find((f) => f.id === plan) ?? flavors.find((f) => f.name === plan);
    if (!hit) throw new ProviderError(this.provider, 'INVALID', `no flavor "${plan}" in this region (flavors: ${flavors.map((f) => f.name).slice(0, 20).join(', ')})`, { retryable: false });
    return hit.id;
  }

  /** An image's id from its name (`Debian 12`) or id; an id is taken as it is. */
  async imageId(image: string): Promise<string> {
    if (UUID.test(image)) return image;
    const images = await this.all<{ id: string; name: string }>(this.nova, '/images', 'images');
    const hit = images.find((i) => i.name === image);
    if (!hit) throw new ProviderError(this.provider, 'INVALID', `no image named "${image}" in this region`, { retryable: false });
    return hit.id;
  }

  /** A network's id from its name (`Ext-Net`, `public`) or id. */
  async networkId(network: string): Promise<string> {
    if (UUID.test(network)) return network;
    const nets = await this.all<{ id: string; name: string }>(this.neutron, '/networks', 'networks', { name: network });
    const hit = nets.find((n) => n.name === network);
    if (!hit) throw new ProviderError(this.provider, 'INVALID', `no network named "${network}" in this region`, { retryable: false });
    return hit.id;
  }

  /** GET one server; undefined when Nova has none of that id. */
  async server(id: string): Promise<NovaServer | undefined> {
    const res = await this.nova.request<{ server: NovaServer }>('GET', `/servers/${encodeURIComponent(id)}`, { accept: [404] });
    return res.status === 404 ? undefined : res.body?.server;
  }

  /** POST a Neutron resource `{ <kind>: body }` and return what was made. */
  async make(path: string, kind: string, body: Record<string, unknown>): Promise<NeutronResource> {
    const res: RestResponse<Record<string, NeutronResource>> = await this.neutron.request('POST', path, { body: { [kind]: body } });
    const made = res.body?.[kind];
    if (!made?.id) throw new ProviderError(this.provider, 'API_UNAVAILABLE', `POST ${path} answered without a ${kind}`);
    return made;
  }

  /** DELETE, where 404 means already gone; `accept` adds statuses that mean "not yet". */
  async remove(client: RestClient, path: string, opts: RequestOptions = {}): Promise<number> {
    const res = await client.request('DELETE', path, { ...opts, accept: [404, ...(opts.accept ?? [])] });
    return res.status;
  }
}
