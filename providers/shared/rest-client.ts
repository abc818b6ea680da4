/**
 * A small JSON-over-HTTPS client for cloud REST APIs, built on `fetch`: bearer authentication, a
 * per-request timeout, and one mapping of failures onto {@link ProviderError} codes, so every
 * REST provider reports the same way. Each cloud supplies how to read its error bodies and its
 * rate-limit hints.
 *
 * Secrets: the token (or user and password) goes only into the Authorization header. Messages name the method and path
 * and quote the cloud's own error text; they never include request bodies (user-data holds the
 * tunnel token and TLS key).
 */
import { ProviderError, type ProviderErrorCode } from '../../src/errors.js';

/** Environment variable: per-request timeout in milliseconds (default 30000). Tests shorten it. */
export const API_TIMEOUT_ENV = 'INLETSCTL_API_TIMEOUT_MS';

/** What a cloud's error body says, as far as it could be read. */
export interface CloudErrorInfo {
  /** The cloud's own error code or id (`unprocessable_entity`, `resource_limit_exceeded`). */
  cloudCode?: string;
  message?: string;
  /** A code to use instead of the one derived from the HTTP status (for example QUOTA). */
  code?: ProviderErrorCode;
}

export interface RestClientOptions {
  /** Provider name, for errors. */
  provider: string;
  /** Base URL without a trailing slash, e.g. `https://api.digitalocean.com`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` unless `authorization` or `authHeaders` is given. */
  token?: string;
  /** The whole Authorization header value (for example `Basic …`), instead of a bearer token. */
  authorization?: string;
  /**
   * Headers that authenticate a request, instead of the bearer header: a fixed header
   * (`X-Auth-Token` for OpenStack) or a signature over the request (Exoscale). Called per request.
   */
  authHeaders?(req: SignableRequest): Record<string, string>;
  /** Per-request timeout in milliseconds. Default: $INLETSCTL_API_TIMEOUT_MS or 30000. */
  timeoutMs?: number;
  /** Reads the cloud's error body (already parsed as JSON when it was JSON). */
  readError(status: number, body: unknown): CloudErrorInfo;
  /** How long a 429 asks us to wait, in milliseconds (from Retry-After or the cloud's own headers). */
  retryAfterMs(headers: Headers): number | undefined;
}

/** What a request signer sees: the final URL (with query) and the exact body text sent. */
export interface SignableRequest {
  method: string;
  url: URL;
  body: string | undefined;
}

export interface RestResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Statuses that are answers, not errors (for example 404 while deleting). */
  accept?: number[];
  /** Extra request headers (never a secret: use authHeaders for those). */
  headers?: Record<string, string>;
  /**
   * A body sent as it is, instead of JSON (Scaleway's user data is `text/plain`), with this
   * content type; `body` is then ignored.
   */
  text?: { body: string; contentType: string };
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class RestClient {
  private readonly timeoutMs: number;

  constructor(private readonly options: RestClientOptions) {
    const fromEnv = Number(process.env[API_TIMEOUT_ENV]);
    this.timeoutMs = options.timeoutMs ?? (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_TIMEOUT_MS);
  }

  /** Base URL of the API, as configured. */
  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /**
   * Sends one request. 2xx and `accept`ed statuses resolve; anything else throws.
   * @throws ProviderError AUTH (401/403), NOT_FOUND, RATE_LIMITED (429, with retryAfterMs),
   *   INVALID (other 4xx), API_UNAVAILABLE (5xx or a non-JSON answer), NETWORK (no answer in time).
   */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<RestResponse<T>> {
    const url = new URL(this.options.baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const what = `${method} ${url.pathname}`;
    const sent = opts.text ? opts.text.body : opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const auth = this.options.authHeaders
      ? this.options.authHeaders({ method, url, body: sent })
      : { authorization: this.options.authorization ?? `Bearer ${this.options.token ?? ''}` };
    const headers: Record<string, string> = { ...auth, accept: 'application/json', ...opts.headers };
    if (opts.text) headers['content-type'] = opts.text.contentType;
    else if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: sent,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const timedOut = (err as Error)?.name === 'TimeoutError';
      const detail = timedOut ? `no answer within ${this.timeoutMs} ms` : describeNetworkError(err);
      throw new ProviderError(this.options.provider, 'NETWORK', `${what} failed: ${detail}`, { cause: err });
    }
    let body: unknown = undefined;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        if (res.ok) {
          throw new ProviderError(this.options.provider, 'API_UNAVAILABLE', `${what} answered ${res.status} with a body that is not JSON`, { status: res.status });
        }
      }
    }
    if (res.ok || opts.accept?.includes(res.status)) return { status: res.status, body: body as T, headers: res.headers };
    throw this.toError(what, res, body);
  }

  private toError(what: string, res: Response, body: unknown): ProviderError {
    const info = this.options.readError(res.status, body);
    const said = info.message ? `: ${info.message}` : '';
    const cloudCode = info.cloudCode ? ` (${info.cloudCode})` : '';
    const message = `${what} failed with HTTP ${res.status}${cloudCode}${said}`;
    const status = res.status;
    let code: ProviderErrorCode;
    if (info.code) code = info.code;
    else if (status === 401 || status === 403) code = 'AUTH';
    else if (status === 404) code = 'NOT_FOUND';
    else if (status === 429) code = 'RATE_LIMITED';
    else if (status >= 500) code = 'API_UNAVAILABLE';
    else code = 'INVALID';
    const retryAfterMs = code === 'RATE_LIMITED' ? this.options.retryAfterMs(res.headers) : undefined;
    return new ProviderError(this.options.provider, code, message, { status, retryAfterMs });
  }
}

/** Milliseconds from a Retry-After header (seconds or an HTTP date), or undefined. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(at - now, 0);
}

/**
 * The base URL to use: the `--api-url` override, else the provider's environment variable, else
 * the cloud's endpoint; without a trailing slash.
 */
export function apiBaseUrl(override: string | undefined, envName: string, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = override || env[envName] || fallback;
  return chosen.replace(/\/+$/, '');
}

/**
 * Marks an error as final: used once a create has made something, because repeating the whole
 * create then would make a second VM (the CLI repeats a create only when told RATE_LIMITED).
 * The original error is NOT kept as `cause`: a refused connection in the cause chain tells core
 * "nothing was made" (src/core/reachability.ts), which is no longer true here.
 */
export function notRetryable(err: unknown, provider: string, context: string): ProviderError {
  if (err instanceof ProviderError) {
    return new ProviderError(err.provider, err.code as ProviderErrorCode, `${context}: ${err.message}`, { status: err.status, retryable: false });
  }
  return new ProviderError(provider, 'API_UNAVAILABLE', `${context}: ${err instanceof Error ? err.message : String(err)}`, { retryable: false });
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  if (cause?.message) return cause.message; // fetch's own refusals ("bad port") carry no code
  return err instanceof Error ? err.message : String(err);
}
