/**
 * Compute Engine failures as {@link ProviderError}s: errors the SDK throws (HTTP errors in
 * Google's format `{ error: { code, message, errors: [{ reason }], status } }`, transport
 * failures, credential failures) and errors inside long-running operations
 * (`Operation.error.errors[]`, for example QUOTA_EXCEEDED or ZONE_RESOURCE_POOL_EXHAUSTED).
 *
 * Messages name the call and quote Google's own words; they never include request bodies (the
 * startup script holds the tunnel token and TLS key) nor the SDK's request config (it holds the
 * Authorization header), so no error keeps the SDK's error as its cause.
 */
import { ProviderError, type ProviderErrorCode } from '../../src/errors.js';
import type { GceOperation } from './gce-api.js';

const PROVIDER = 'gce';
const reasons = new WeakMap<ProviderError, string>();

/** Google's `errors[0].reason` of an API error (`alreadyExists`, `resourceNotReady`…), if any. */
export function reasonOf(err: unknown): string | undefined {
  return err instanceof ProviderError ? reasons.get(err) : undefined;
}

interface GoogleErrorBody {
  code?: number;
  message?: string;
  status?: string;
  errors?: Array<{ reason?: string; message?: string }>;
}

/** gRPC codes (what the SDK reports when it decoded an error itself) as HTTP statuses. */
const GRPC_TO_HTTP: Record<number, number> = { 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 13: 500, 14: 503, 16: 401 };

/** An SDK failure of call `what` as a ProviderError. */
export function toProviderError(err: unknown, what: string, timeoutMs: number): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = (err ?? {}) as { status?: unknown; code?: unknown; message?: unknown; name?: unknown; error?: { type?: string }; cause?: { code?: string; message?: string } };
  const message = typeof e.message === 'string' ? e.message : String(err);
  const body = googleErrorBody(message);
  let status = typeof e.status === 'number' ? e.status : undefined;
  if (status === undefined && body?.code) status = body.code;
  if (status === undefined && typeof e.code === 'number' && e.name !== 'GaxiosError') status = GRPC_TO_HTTP[e.code] ?? 500;
  if (status === undefined) return transportError(e, message, what, timeoutMs);

  const reason = body?.errors?.[0]?.reason;
  const said = body?.message ?? (body ? undefined : message);
  const text = `${what} failed with HTTP ${status}${reason ? ` (${reason})` : ''}${said ? `: ${said}` : ''}`;
  const out = new ProviderError(PROVIDER, codeFor(status, reason), text, { status });
  if (reason) reasons.set(out, reason);
  return out;
}

function codeFor(status: number, reason: string | undefined): ProviderErrorCode {
  if (reason === 'rateLimitExceeded' || reason === 'userRateLimitExceeded' || status === 429) return 'RATE_LIMITED';
  if (reason === 'quotaExceeded' || reason === 'QUOTA_EXCEEDED') return 'QUOTA';
  if (status === 401 || status === 403) return 'AUTH';
  if (status === 404) return 'NOT_FOUND';
  if (status >= 500) return 'API_UNAVAILABLE';
  return 'INVALID';
}

/** No HTTP answer: a timeout, a dropped connection, or a credential that could not be used. */
function transportError(e: { name?: unknown; code?: unknown; error?: { type?: string }; cause?: { code?: string; message?: string } }, message: string, what: string, timeoutMs: number): ProviderError {
  if (e.error?.type === 'aborted' || e.name === 'AbortError' || e.name === 'TimeoutError' || /operation was aborted/i.test(message)) {
    return new ProviderError(PROVIDER, 'NETWORK', `${what} failed: no answer within ${timeoutMs} ms`);
  }
  const code = typeof e.code === 'string' ? e.code : e.cause?.code;
  if (code && /^E[A-Z_]+$/.test(code)) return new ProviderError(PROVIDER, 'NETWORK', `${what} failed: ${code}`);
  if (/default credentials|credential|private key|client_email|invalid_grant|unauthorized_client|token/i.test(message) && !/fetch failed|socket|network/i.test(message)) {
    return new ProviderError(PROVIDER, 'AUTH', `${what} failed: Google credentials could not be used: ${firstLine(message)}`, { retryable: false });
  }
  if (e.name === 'SyntaxError') return new ProviderError(PROVIDER, 'API_UNAVAILABLE', `${what} failed: the answer is not JSON`);
  return new ProviderError(PROVIDER, 'NETWORK', `${what} failed: ${firstLine(message)}`);
}

/** Google's error object from a body text, when the text is one. */
function googleErrorBody(text: string): GoogleErrorBody | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(text) as { error?: GoogleErrorBody };
    return parsed.error && typeof parsed.error === 'object' ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0].slice(0, 300);
}

/**
 * The error of a finished operation, or undefined when it has none. `what` names the work
 * (`creating instance x`). Quota errors are QUOTA; the rest `fallback` (CREATE_FAILED for inserts).
 * Never retryable: the operation is over.
 */
export function operationError(op: GceOperation, what: string, fallback: ProviderErrorCode = 'CREATE_FAILED'): ProviderError | undefined {
  const errors = (op.error?.errors ?? []).filter((x) => x.code || x.message);
  if (errors.length === 0) return undefined;
  const codes = errors.map((x) => x.code ?? '');
  const code: ProviderErrorCode = codes.some((c) => /QUOTA/.test(c)) ? 'QUOTA' : fallback;
  const detail = errors.map((x) => `${x.code ?? 'ERROR'}: ${x.message ?? ''}`.trim()).join('; ');
  const http = op.httpErrorStatusCode ? ` (HTTP ${op.httpErrorStatusCode}${op.httpErrorMessage ? ` ${op.httpErrorMessage}` : ''})` : '';
  return new ProviderError(PROVIDER, code, `${what} failed${http}: ${detail}`, { status: op.httpErrorStatusCode ?? undefined, retryable: false });
}
