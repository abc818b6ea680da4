/**
 * The Vultr API v2 as this provider uses it: the shared REST client with Vultr's error body and
 * rate-limit hint, and its cursor pagination.
 *
 * - Errors: "All 4xx errors will return a JSON response object with an `error` attribute
 *   explaining the error"; the answers also carry `status` (`{ "error": "...", "status": 400 }`).
 *   5xx answers may have no JSON body: then only the status speaks.
 * - Rate limit: "If your application sends more than 30 requests per second, the API may return
 *   HTTP status code 429" (per source IP). Vultr documents no rate-limit headers: Retry-After when
 *   sent, else one second, after which the 30-per-second window has passed.
 * - Pagination: lists answer `meta: { total, links: { next, prev } }`; `next` is the `cursor` of
 *   the next page, empty on the last. `per_page` defaults to 100, at most 500.
 * API reference: https://www.vultr.com/api/ ("Response Codes", "Meta and Pagination")
 */
import { ProviderError } from '../../src/errors.js';
import { RestClient, parseRetryAfter, type CloudErrorInfo } from '../shared/rest-client.js';
import { allPages, itemsOf } from '../shared/pages.js';

export const PROVIDER = 'vultr';
export const DEFAULT_API_URL = 'https://api.vultr.com/v2';
/** Items asked for per page: the documented maximum. */
export const PAGE_SIZE = 500;
/** Wait after a 429 without Retry-After: the documented limit is per second. */
export const DEFAULT_RETRY_AFTER_MS = 1000;

/** Reads `{ error, status }`. Account limits (instances, monthly fee) become QUOTA. */
export function readVultrError(status: number, body: unknown): CloudErrorInfo {
  const b = (body ?? {}) as { error?: unknown; status?: unknown };
  const message = typeof b.error === 'string' && b.error ? b.error : undefined;
  const info: CloudErrorInfo = { message };
  if (status !== 429 && status < 500 && message && /(maximum|limit reached|exceed(s|ed)? .*limit|quota)/i.test(message)) info.code = 'QUOTA';
  return info;
}

/** Retry-After when sent; else one second. */
export function vultrRetryAfterMs(headers: Headers): number {
  return parseRetryAfter(headers.get('retry-after')) ?? DEFAULT_RETRY_AFTER_MS;
}

interface Meta {
  meta?: { total?: number; links?: { next?: string; prev?: string } };
}

/**
 * Every item of a cursor-paginated list: `key` names the array (`instances`, `firewall_groups`).
 * Follows `meta.links.next` until it is empty; allPages bounds the walk and refuses a repeated cursor.
 */
export function listAll<T>(rest: RestClient, path: string, key: string, query: Record<string, string> = {}): Promise<T[]> {
  const what = `GET ${path}`;
  return allPages<T, string>(PROVIDER, what, '', async (cursor) => {
    const { body } = await rest.request<Meta>('GET', path, { query: { ...query, per_page: PAGE_SIZE, cursor: cursor || undefined } });
    const items = itemsOf<T>(PROVIDER, what, body, key);
    const next = body?.meta?.links?.next;
    if (next !== undefined && typeof next !== 'string') throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `${what} answered a next cursor that is not a string`);
    return { items, next: next ? next : undefined };
  });
}
