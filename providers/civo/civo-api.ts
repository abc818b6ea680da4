/**
 * The Civo API v2 as this provider uses it: the shared REST client with Civo's error body
 * (`{ code, reason }`), its regional calls (every call names its region: a query parameter on GET
 * and DELETE, a body field on POST, as the reference asks) and its paginated instance list.
 * API reference: https://www.civo.com/api
 */
import { ProviderError } from '../../src/errors.js';
import { RestClient, parseRetryAfter, type CloudErrorInfo, type RequestOptions, type RestResponse } from '../shared/rest-client.js';
import { allPages, itemsOf } from '../shared/pages.js';

export const PROVIDER = 'civo';
export const DEFAULT_API_URL = 'https://api.civo.com/v2';
/**
 * Instances asked for per page. The reference gives no maximum (its default is 20); 100 keeps
 * answers small and pages few.
 */
export const PAGE_SIZE = 100;

/**
 * Reads Civo's error body `{ code, reason, details? }` (older answers: `{ result }`). The
 * reference warns that 4xx/5xx answers may not be JSON at all: then only the status speaks.
 */
export function readCivoError(_status: number, body: unknown): CloudErrorInfo {
  const b = (body ?? {}) as { code?: unknown; reason?: unknown; details?: unknown; result?: unknown };
  const code = typeof b.code === 'string' ? b.code : typeof b.result === 'string' ? b.result : undefined;
  const reason = typeof b.reason === 'string' ? b.reason : undefined;
  const details = typeof b.details === 'string' && b.details ? b.details : undefined;
  const info: CloudErrorInfo = { cloudCode: code, message: reason && details ? `${reason}, ${details}` : (reason ?? details) };
  if (code === 'quota_limit_reached' || /quota/i.test(code ?? '')) info.code = 'QUOTA';
  return info;
}

/** Retry-After when sent; Civo documents no rate-limit headers of its own, so the poller's backoff decides otherwise. */
export function civoRetryAfterMs(headers: Headers): number | undefined {
  return parseRetryAfter(headers.get('retry-after'));
}

/** A page of `GET /instances`: `{ page, per_page, pages, items }`. */
interface Paged {
  page?: number;
  pages?: number;
}

/** The REST client with Civo's region placement. */
export class CivoApi {
  constructor(readonly rest: RestClient) {}

  /** GET or DELETE with `region` in the query. */
  call<T>(method: 'GET' | 'DELETE', path: string, region: string, opts: Omit<RequestOptions, 'body'> = {}): Promise<RestResponse<T>> {
    return this.rest.request<T>(method, path, { ...opts, query: { ...opts.query, region } });
  }

  /** POST with `region` in the body. */
  post<T>(path: string, region: string, body: Record<string, unknown>): Promise<RestResponse<T>> {
    return this.rest.request<T>('POST', path, { body: { ...body, region } });
  }

  /** A list that Civo answers as one JSON array (networks, disk images, firewalls). */
  async array<T>(path: string, region: string): Promise<T[]> {
    const { body } = await this.call<unknown>('GET', path, region);
    if (!Array.isArray(body)) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `GET ${path} answered without a list`);
    return body as T[];
  }

  /** Every page of `GET /instances` in `region`, optionally filtered by one tag. */
  instances<T>(region: string, tag?: string): Promise<T[]> {
    return allPages<T, number>(PROVIDER, 'GET /instances', 1, async (page) => {
      const { body } = await this.call<Paged>('GET', '/instances', region, { query: { tags: tag, page, per_page: PAGE_SIZE } });
      const items = itemsOf<T>(PROVIDER, 'GET /instances', body, 'items');
      const pages = typeof body?.pages === 'number' ? body.pages : 1;
      return { items, next: page < pages && items.length > 0 ? page + 1 : undefined };
    });
  }
}
