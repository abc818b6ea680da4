/**
 * The Linode API v4 as this provider uses it: the shared REST client with Linode's error body
 * (`{ errors: [{ field?, reason }] }`), its rate-limit hints (Retry-After, else X-RateLimit-Reset)
 * and its paginated lists (`{ data, page, pages, results }`, `page` and `page_size` in the query,
 * an optional `X-Filter` header). API reference: https://techdocs.akamai.com/linode-api/reference/api
 */
import { ProviderError } from '../../src/errors.js';
import { RestClient, parseRetryAfter, type CloudErrorInfo } from '../shared/rest-client.js';
import { allPages, itemsOf } from '../shared/pages.js';

export const PROVIDER = 'linode';
export const DEFAULT_API_URL = 'https://api.linode.com/v4';
/** Items asked for per page: the reference allows 25 to 500 (default 100). */
export const PAGE_SIZE = 100;

/**
 * Reads Linode's error body `{ errors: [{ field?, reason }] }`: every reason, each after its field
 * when it names one. Linode sends no error code of its own; a reason about an account limit is QUOTA.
 */
export function readLinodeError(status: number, body: unknown): CloudErrorInfo {
  const list = (body as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(list)) return {};
  const reasons = list
    .map((e) => e as { field?: unknown; reason?: unknown })
    .filter((e) => typeof e?.reason === 'string' && e.reason)
    .map((e) => (typeof e.field === 'string' && e.field ? `${e.field}: ${String(e.reason)}` : String(e.reason)));
  const info: CloudErrorInfo = { message: reasons.length ? reasons.join('; ') : undefined };
  // A 429 says "rate limit": that is RATE_LIMITED, never QUOTA.
  if (status !== 429 && reasons.some((r) => /limit (reached|exceeded)|quota|account limit/i.test(r))) info.code = 'QUOTA';
  return info;
}

/** Retry-After when sent; else the wait until X-RateLimit-Reset (epoch seconds); else one second. */
export function linodeRetryAfterMs(headers: Headers, now = Date.now()): number {
  const after = parseRetryAfter(headers.get('retry-after'), now);
  if (after !== undefined) return after;
  const reset = Number(headers.get('x-ratelimit-reset'));
  if (Number.isFinite(reset) && reset > 0) return Math.max(reset * 1000 - now, 0);
  return 1000;
}

/** A page of a Linode list. */
interface Paged {
  page?: unknown;
  pages?: unknown;
}

/** Every page of `GET path`, optionally filtered with an X-Filter object. */
export function linodeList<T>(rest: RestClient, path: string, filter?: Record<string, unknown>): Promise<T[]> {
  const what = `GET ${path}`;
  return allPages<T, number>(PROVIDER, what, 1, async (page) => {
    const headers = filter ? { 'x-filter': JSON.stringify(filter) } : undefined;
    const { body } = await rest.request<Paged>('GET', path, { query: { page, page_size: PAGE_SIZE }, headers });
    const items = itemsOf<T>(PROVIDER, what, body, 'data');
    const pages = typeof body?.pages === 'number' ? body.pages : 1;
    return { items, next: page < pages && items.length > 0 ? page + 1 : undefined };
  });
}

/** A path segment, or a path of segments such as an image id (`linode/debian12`), each encoded. */
export function pathOf(id: string): string {
  return id.split('/').map(encodeURIComponent).join('/');
}

/** Linode answers times without a zone (`2025-01-01T00:01:01`): they are UTC. */
export function isoTime(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value) return undefined;
  const t = Date.parse(/Z$|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** An object answer without a numeric id is the cloud's fault. */
export function requireId(what: string, body: unknown): number {
  const id = (body as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'number' || !Number.isInteger(id)) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `${what} answered without an id`, { retryable: false });
  return id;
}
