/**
 * The Exoscale API v2 as this provider uses it: the shared REST client with Exoscale's request
 * signature (exoscale-sign.ts), one endpoint per zone (`https://api-{zone}.exoscale.com/v2`, or
 * the override for every zone), its error bodies, and its asynchronous operations.
 *
 * Every change (create, delete, add a rule) answers an operation `{ id, state, reference, reason,
 * message }`; `state` is pending, success, failure or timeout. Nothing here waits for one: create
 * reads the state it was answered with, and `status` reads the instance's create operation again
 * (GET /operation/{id}) through the shared poller's calls.
 * API reference: https://openapi-v2.exoscale.com/
 */
import { ProviderError, type ProviderErrorCode } from '../../src/errors.js';
import { RestClient, parseRetryAfter, type CloudErrorInfo, type RequestOptions, type RestResponse } from '../shared/rest-client.js';
import { SIGNATURE_TTL_SECONDS, authorizationHeader } from './exoscale-sign.js';
import { EXOSCALE_API_URL_ENV } from './index.js';

export const PROVIDER = 'exoscale';

/** The endpoint of one zone. */
export function zoneUrl(zone: string): string {
  return `https://api-${zone}.exoscale.com/v2`;
}

/** An asynchronous operation, as every change answers it. */
export interface Operation {
  id?: string;
  state?: 'pending' | 'success' | 'failure' | 'timeout';
  reason?: string;
  message?: string;
  reference?: { id?: string; link?: string; command?: string };
}

/**
 * Reads Exoscale's error bodies: `{ message }` (errors of the compute API), or an RFC 9457 problem
 * `{ type, title, status, detail }` (the description's `error-response`, used by newer endpoints).
 * Quota refusals are QUOTA.
 */
export function readExoscaleError(_status: number, body: unknown): CloudErrorInfo {
  const b = (body ?? {}) as { message?: unknown; errors?: unknown; title?: unknown; detail?: unknown; type?: unknown };
  const message = typeof b.message === 'string' && b.message ? b.message
    : typeof b.detail === 'string' && b.detail ? (typeof b.title === 'string' && b.title ? `${b.title}: ${b.detail}` : b.detail)
    : typeof b.title === 'string' ? b.title
    : undefined;
  const info: CloudErrorInfo = { message, cloudCode: typeof b.type === 'string' && b.type !== 'about:blank' ? b.type : undefined };
  if (message && /quota/i.test(message)) info.code = 'QUOTA';
  return info;
}

/** Retry-After when sent; Exoscale documents no rate-limit headers of its own, so the poller's backoff decides otherwise. */
export function exoscaleRetryAfterMs(headers: Headers): number | undefined {
  return parseRetryAfter(headers.get('retry-after'));
}

/**
 * Checks an operation answer: it must be an operation, and one that did not fail.
 * @param what names the change for the message (`POST /instance`)
 * @throws ProviderError `code` (default API_UNAVAILABLE) quoting the operation's reason and message
 */
export function checkOperation(body: unknown, what: string, code: ProviderErrorCode = 'API_UNAVAILABLE'): Operation {
  const op = body as Operation | undefined;
  if (!op || typeof op !== 'object' || typeof op.state !== 'string') throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `${what} answered without an operation`);
  if (op.state === 'failure' || op.state === 'timeout') throw new ProviderError(PROVIDER, code, operationFailure(op, what), { retryable: false });
  return op;
}

/** The sentence for a failed operation, with Exoscale's reason and message. */
export function operationFailure(op: Operation, what: string): string {
  const reason = op.reason ? ` (${op.reason})` : '';
  return `${what}: operation ${op.id ?? '?'} ended in ${op.state}${reason}${op.message ? `: ${op.message}` : ''}`;
}

/** The signed REST clients, one per zone endpoint. */
export class ExoscaleApi {
  private readonly clients = new Map<string, RestClient>();

  constructor(
    private readonly key: string,
    private readonly secret: string,
    /** The --api-url override (or $EXOSCALE_API_URL): one endpoint for every zone. */
    readonly override: string | undefined,
  ) {}

  /** Whether one endpoint serves every zone (an override): then a zone walk is one call. */
  get singleEndpoint(): boolean {
    return this.override !== undefined;
  }

  request<T>(zone: string, method: string, path: string, opts: RequestOptions = {}): Promise<RestResponse<T>> {
    return this.client(zone).request<T>(method, path, opts);
  }

  private client(zone: string): RestClient {
    const baseUrl = this.override ?? zoneUrl(zone);
    let c = this.clients.get(baseUrl);
    if (!c) {
      const { key, secret } = this;
      c = new RestClient({
        provider: PROVIDER,
        baseUrl,
        authHeaders: ({ method, url, body }) => ({
          authorization: authorizationHeader(key, secret, { method, path: url.pathname, query: url.searchParams, body, expires: Math.floor(Date.now() / 1000) + SIGNATURE_TTL_SECONDS }),
        }),
        readError: readExoscaleError,
        retryAfterMs: exoscaleRetryAfterMs,
      });
      this.clients.set(baseUrl, c);
    }
    return c;
  }
}

/** The override to use: `--api-url`, else $EXOSCALE_API_URL, else none (the zone's endpoint). */
export function apiOverride(apiUrl: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = apiUrl || env[EXOSCALE_API_URL_ENV];
  return chosen ? chosen.replace(/\/+$/, '') : undefined;
}
