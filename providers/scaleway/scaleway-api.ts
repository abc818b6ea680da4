/**
 * The Scaleway APIs as this provider uses them: the shared REST client with Scaleway's
 * authentication (`X-Auth-Token: <secret key>`), its error body (`{ message, type, … }`), its
 * rate-limit hints, and its page-numbered lists (`page`, `per_page`, the `X-Total-Count` header).
 * References: https://www.scaleway.com/en/developers/api/instance/ and
 * https://www.scaleway.com/en/developers/api/marketplace/
 */
import { ProviderError } from '../../src/errors.js';
import { RestClient, parseRetryAfter, type CloudErrorInfo, type RequestOptions, type RestResponse } from '../shared/rest-client.js';
import { allPages, itemsOf } from '../shared/pages.js';

export const PROVIDER = 'scaleway';
export const DEFAULT_API_URL = 'https://api.scaleway.com';
/** Items asked for per page: the Instance API's largest `per_page` (and the Marketplace's `page_size`). */
export const PAGE_SIZE = 100;

/**
 * Reads Scaleway's error body: `{ message, type }` plus, by type, `fields` (invalid_arguments:
 * field → messages), `details` (quotas_exceeded: one entry per quota), `resource`/`resource_id`
 * (not_found) or `help_message`. Only the cloud's words are quoted: a request body is never.
 */
export function readScalewayError(_status: number, body: unknown): CloudErrorInfo {
  const b = (body ?? {}) as { message?: unknown; type?: unknown; fields?: unknown; details?: unknown; help_message?: unknown; resource?: unknown; resource_id?: unknown };
  const type = typeof b.type === 'string' ? b.type : undefined;
  const parts: string[] = [];
  if (typeof b.message === 'string' && b.message) parts.push(b.message);
  if (b.fields && typeof b.fields === 'object') {
    for (const [field, said] of Object.entries(b.fields as Record<string, unknown>)) {
      const words = Array.isArray(said) ? said.filter((x): x is string => typeof x === 'string').join('; ') : typeof said === 'string' ? said : '';
      if (words) parts.push(`${field}: ${words}`);
    }
  }
  if (Array.isArray(b.details)) {
    for (const d of b.details as Array<Record<string, unknown>>) {
      if (d && typeof d.resource === 'string') parts.push(`${d.resource}${typeof d.quota === 'number' ? ` (quota ${d.quota}${typeof d.current === 'number' ? `, using ${d.current}` : ''})` : ''}`);
    }
  }
  if (typeof b.help_message === 'string' && b.help_message) parts.push(b.help_message);
  const info: CloudErrorInfo = { cloudCode: type, message: parts.length ? parts.join(', ') : undefined };
  if (type === 'quotas_exceeded') info.code = 'QUOTA';
  if (type === 'out_of_stock') info.message = `${info.message ?? 'out of stock'} (this type is sold out in the zone: try another --region or --plan DEV1-S)`;
  return info;
}

/**
 * How long a 429 asks us to wait: Retry-After when sent; else the `X-RateLimit-Reset` header
 * (assumed, as Scaleway documents no figures: seconds until the window resets, or an epoch time
 * in seconds when it is that large); else the poller's own backoff decides.
 */
export function scalewayRetryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const after = parseRetryAfter(headers.get('retry-after'), now);
  if (after !== undefined) return after;
  const reset = Number(headers.get('x-ratelimit-reset'));
  if (!Number.isFinite(reset) || reset <= 0) return undefined;
  return reset > 1e9 ? Math.max(reset * 1000 - now, 0) : Math.round(reset * 1000);
}

/** The REST client with Scaleway's zonal paths and paged lists. */
export class ScalewayApi {
  constructor(readonly rest: RestClient) {}

  /** A call to `/instance/v1/zones/{zone}{path}`. */
  zonal<T>(method: string, zone: string, path: string, opts: RequestOptions = {}): Promise<RestResponse<T>> {
    return this.rest.request<T>(method, `/instance/v1/zones/${encodeURIComponent(zone)}${path}`, opts);
  }

  /** Every page of a zonal list (`servers`, `security_groups`…), with `query` filters. */
  list<T>(zone: string, path: string, key: string, query: Record<string, string | undefined> = {}): Promise<T[]> {
    const what = `GET /instance/v1/zones/${zone}${path}`;
    let seen = 0;
    return allPages<T, number>(PROVIDER, what, 1, async (page) => {
      const res = await this.zonal<unknown>('GET', zone, path, { query: { ...query, page, per_page: PAGE_SIZE } });
      const items = itemsOf<T>(PROVIDER, what, res.body, key);
      seen += items.length;
      return { items, next: items.length > 0 && seen < totalCount(res.headers, seen) ? page + 1 : undefined };
    });
  }

  /** Every page of the Marketplace's local images with `query` (`image_label`, `zone`…). */
  localImages<T>(query: Record<string, string>): Promise<T[]> {
    const what = 'GET /marketplace/v2/local-images';
    let seen = 0;
    return allPages<T, number>(PROVIDER, what, 1, async (page) => {
      const res = await this.rest.request<{ total_count?: unknown }>('GET', '/marketplace/v2/local-images', { query: { ...query, page, page_size: PAGE_SIZE } });
      const items = itemsOf<T>(PROVIDER, what, res.body, 'local_images');
      seen += items.length;
      const total = typeof res.body?.total_count === 'number' ? res.body.total_count : seen;
      return { items, next: items.length > 0 && seen < total ? page + 1 : undefined };
    });
  }
}

/** `X-Total-Count`, or `fallback` when absent (then the page read is taken as the last). */
function totalCount(headers: Headers, fallback: number): number {
  const n = Number(headers.get('x-total-count'));
  return headers.get('x-total-count') !== null && Number.isInteger(n) && n >= 0 ? n : fallback;
}

/** A call that answered without the object it should hold. */
export function missing(what: string, key: string): ProviderError {
  return new ProviderError(PROVIDER, 'API_UNAVAILABLE', `${what} answered without "${key}"`);
}
