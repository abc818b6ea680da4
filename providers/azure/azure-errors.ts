/**
 * One mapping of everything the Azure SDKs throw onto {@link ProviderError} codes: RestError from
 * the ARM clients (HTTP status, Azure's error code and message), AbortError from our per-request
 * timeout, the identity library's authentication errors, and a failed long-running operation.
 *
 * Messages quote Azure's own code and text and name the call; never a request (its Authorization
 * header), a body (customData holds the tunnel token and TLS key) or a credential. No `cause` is
 * attached, so nothing downstream can print the SDK's request object.
 */
import { ProviderError, type ProviderErrorCode } from '../../src/errors.js';
import { parseRetryAfter } from '../shared/rest-client.js';

export const PROVIDER = 'azure';

/** Azure error codes that mean an account or regional limit, not a malformed request. */
const QUOTA_CODES = new Set(['QuotaExceeded', 'OperationNotAllowed', 'PublicIPCountLimitReached', 'SkuNotAvailable', 'ResourceQuotaExceeded', 'SubscriptionNotRegistered']);

/** The parts of an SDK error we read (RestError, AbortError, identity errors, core-lro errors). */
interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  statusCode?: number;
  response?: { headers?: { get?(name: string): string | undefined } | Record<string, unknown>; bodyAsText?: string | null };
  details?: unknown;
}

/** Azure's `{ error: { code, message } }` (also accepted bare), as far as it can be read. */
export function readAzureError(body: unknown): { code?: string; message?: string } {
  const outer = (body ?? {}) as { error?: unknown; code?: unknown; message?: unknown };
  const e = (typeof outer.error === 'object' && outer.error !== null ? outer.error : outer) as { code?: unknown; message?: unknown };
  return {
    code: typeof e.code === 'string' ? e.code : undefined,
    message: typeof e.message === 'string' ? e.message : undefined,
  };
}

/** A header of an SDK response, whichever header shape the SDK generation uses (get() or a record). */
export function responseHeader(headers: { get?(name: string): string | undefined } | Record<string, unknown> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof headers.get === 'function') return (headers as { get(n: string): string | undefined }).get(name) ?? undefined;
  const found = Object.entries(headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  return typeof found === 'string' ? found : undefined;
}

/** Milliseconds a 429 asks us to wait: Retry-After (seconds or date), or x-ms-retry-after-ms. */
export function retryAfterOf(get: (name: string) => string | undefined | null): number | undefined {
  const ms = Number(get('x-ms-retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  return parseRetryAfter(get('retry-after') ?? null);
}

/** The ProviderError code for an HTTP status and Azure error code. */
export function codeFor(status: number, azureCode?: string): ProviderErrorCode {
  if (azureCode && QUOTA_CODES.has(azureCode) && status !== 429) return 'QUOTA';
  if (status === 401 || status === 403) return 'AUTH';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'RATE_LIMITED';
  if (status >= 500) return 'API_UNAVAILABLE';
  return 'INVALID';
}

/** An error for an HTTP answer we read ourselves (status, headers, body text). */
export function httpError(what: string, status: number, get: (name: string) => string | undefined | null, bodyText: string | undefined): ProviderError {
  let body: unknown;
  try {
    body = bodyText ? JSON.parse(bodyText) : undefined;
  } catch {
    body = undefined;
  }
  const { code, message } = readAzureError(body);
  const kind = codeFor(status, code);
  return new ProviderError(PROVIDER, kind, `${what} failed with HTTP ${status}${code ? ` (${code})` : ''}${message ? `: ${message}` : ''}`, {
    status,
    retryAfterMs: kind === 'RATE_LIMITED' ? retryAfterOf(get) : undefined,
  });
}

/**
 * `err` as a ProviderError naming `what` ("PUT virtualNetworks/inletsctl-x").
 * @param timeoutMs the per-request timeout, for the message when a call timed out
 */
export function azureError(err: unknown, what: string, timeoutMs: number): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = (err ?? {}) as SdkError;
  const name = e.name ?? '';
  if (name === 'AbortError') {
    return new ProviderError(PROVIDER, 'NETWORK', `${what} failed: no answer within ${timeoutMs} ms`);
  }
  if (name === 'AuthenticationError' || name === 'CredentialUnavailableError' || name === 'AggregateAuthenticationError' || name === 'AuthenticationRequiredError') {
    return new ProviderError(PROVIDER, 'AUTH', `${what}: could not get an Azure token: ${firstLine(e.message)}`, { retryable: false });
  }
  if (typeof e.statusCode === 'number') {
    let azureCode = e.code;
    let message = e.message;
    if ((!azureCode || !message) && e.response?.bodyAsText) {
      const fromBody = readAzureError(safeJson(e.response.bodyAsText));
      azureCode ??= fromBody.code;
      message ||= fromBody.message;
    }
    const kind = codeFor(e.statusCode, azureCode);
    return new ProviderError(PROVIDER, kind, `${what} failed with HTTP ${e.statusCode}${azureCode ? ` (${azureCode})` : ''}: ${firstLine(message)}`, {
      status: e.statusCode,
      retryAfterMs: kind === 'RATE_LIMITED' ? retryAfterOf((n) => responseHeader(e.response?.headers, n)) : undefined,
    });
  }
  if (name === 'RestError' || (e.code && /^E[A-Z]+$|^REQUEST_SEND_ERROR$|^UND_ERR/.test(e.code))) {
    return new ProviderError(PROVIDER, 'NETWORK', `${what} failed: ${e.code ?? 'network error'}${e.message ? ` (${firstLine(e.message)})` : ''}`);
  }
  // A long-running operation that ended Failed (core-lro) carries Azure's code and message.
  if (e.code && e.message) {
    return new ProviderError(PROVIDER, 'CREATE_FAILED', `${what}: Azure reported ${e.code}: ${firstLine(e.message)}`, { retryable: false });
  }
  return new ProviderError(PROVIDER, 'API_UNAVAILABLE', `${what} failed: ${firstLine(e.message ?? String(err))}`);
}

/** True for the error of a resource (or its group) that does not exist. */
export function isNotFound(err: unknown): boolean {
  return (err as SdkError | undefined)?.statusCode === 404 || (err instanceof ProviderError && err.code === 'NOT_FOUND');
}

/** Azure's error code of an SDK error, when it has one. */
export function azureCodeOf(err: unknown): string | undefined {
  return (err as SdkError | undefined)?.code;
}

function firstLine(text: string | undefined): string {
  const line = (text ?? '').split('\n')[0].trim();
  return line.length > 400 ? `${line.slice(0, 400)}…` : line;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
