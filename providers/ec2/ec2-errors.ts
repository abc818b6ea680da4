/**
 * EC2 failures as {@link ProviderError}s: the SDK's service exceptions (named after EC2's error
 * code, with the HTTP status in `$metadata`), its network and timeout errors, and its credential
 * errors. Messages name the action and quote EC2's own code and message; they never contain a
 * credential (the SDK's messages do not, and no request is ever quoted).
 * Error codes: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
 */
import { ProviderError, type ProviderErrorCode } from '../../src/errors.js';

const PROVIDER = 'ec2';

/** What the SDK's errors carry (service exceptions, network errors, credential errors). */
interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const AUTH_CODES = new Set([
  'AuthFailure', 'UnauthorizedOperation', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'OptInRequired', 'PendingVerification',
  'Blocked', 'ExpiredToken', 'RequestExpired', 'MissingAuthenticationToken', 'AccessDenied', 'IncompleteSignature',
]);
const RATE_CODES = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'RequestThrottled']);
const UNAVAILABLE_CODES = new Set(['InternalError', 'InternalFailure', 'ServiceUnavailable', 'Unavailable', 'InsufficientInstanceCapacity']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const CREDENTIAL_ERRORS = new Set(['CredentialsProviderError', 'TokenProviderError']);

/**
 * EC2's own error code ("InvalidGroup.NotFound") of a service error: of the SDK's exception, or of
 * the one a {@link ProviderError} from {@link toProviderError} was made from.
 */
export function ec2ErrorCode(err: unknown): string | undefined {
  const e = (err instanceof ProviderError ? err.cause : err) as SdkError | null | undefined;
  return e?.$metadata?.httpStatusCode !== undefined ? e.name : undefined;
}

/**
 * Maps an error thrown by the SDK during `action` (EC2's action name, for messages).
 * @param timeoutMs the per-call limit, for the message of a call that got no answer
 */
export function toProviderError(err: unknown, action: string, timeoutMs: number): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = (err ?? {}) as SdkError;
  const message = oneLine(e.message ?? String(err));
  if (e.name && CREDENTIAL_ERRORS.has(e.name)) {
    return new ProviderError(
      PROVIDER,
      'AUTH',
      `${action}: no usable AWS credentials (${message}); give --access-token and --secret-key, set $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY, or name a profile with --profile or $AWS_PROFILE`,
    );
  }
  const status = e.$metadata?.httpStatusCode;
  if (status === undefined) {
    if (e.name === 'AbortError' || (e.name === 'TimeoutError' && e.code === 'ETIMEDOUT')) {
      return new ProviderError(PROVIDER, 'NETWORK', `${action} failed: no answer within ${timeoutMs} ms`);
    }
    if (e.name === 'TimeoutError' || (e.code && NETWORK_CODES.has(e.code))) {
      return new ProviderError(PROVIDER, 'NETWORK', `${action} failed: ${e.code ?? e.name} (${message})`);
    }
    return new ProviderError(PROVIDER, 'API_UNAVAILABLE', `${action} failed: ${message}`);
  }
  const code = e.name ?? 'Unknown';
  const kind = classify(code, status);
  // The SDK's service exceptions hold EC2's code, message and request id: never a credential.
  return new ProviderError(PROVIDER, kind, `${action} failed with HTTP ${status} (${code}): ${message}`, { status, cause: err });
}

function classify(code: string, status: number): ProviderErrorCode {
  if (AUTH_CODES.has(code)) return 'AUTH';
  if (RATE_CODES.has(code)) return 'RATE_LIMITED';
  if (UNAVAILABLE_CODES.has(code)) return 'API_UNAVAILABLE';
  if (/LimitExceeded$/.test(code)) return 'QUOTA'; // InstanceLimitExceeded, VcpuLimitExceeded, SecurityGroupLimitExceeded…
  if (/NotFound$/.test(code)) return 'NOT_FOUND'; // InvalidInstanceID.NotFound, InvalidGroup.NotFound…
  if (status === 401 || status === 403) return 'AUTH';
  if (status === 429) return 'RATE_LIMITED';
  if (status >= 500) return 'API_UNAVAILABLE';
  return 'INVALID';
}

/** Long messages (UnauthorizedOperation carries an encoded blob) cut to something readable. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 600 ? `${flat.slice(0, 600)}…` : flat;
}
