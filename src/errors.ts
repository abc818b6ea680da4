/**
 * Errors with stable codes. Callers branch on `code`, never on message text; only the CLI entry
 * points turn these into messages and exit codes. Messages must never contain a secret.
 */
export class CodedError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Tunnel engine errors: protocol, transport, TLS, authentication. */
export class TunnelError extends CodedError {}

/** A cloud API failed. `status` is the HTTP status when there was one. */
export class ProviderError extends CodedError {
  readonly provider: string;
  readonly status?: number;
  /** When the API asked us to wait (429 Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;
  /** True when trying the same call again may succeed (429, 5xx, network). */
  readonly retryable: boolean;
  constructor(
    provider: string,
    code: ProviderErrorCode,
    message: string,
    options: { status?: number; retryAfterMs?: number; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, { cause: options.cause });
    this.provider = provider;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.retryable = options.retryable ?? (code === 'RATE_LIMITED' || code === 'API_UNAVAILABLE' || code === 'NETWORK');
  }
}

export type ProviderErrorCode =
  | 'AUTH' // credentials missing or refused
  | 'NOT_FOUND'
  | 'RATE_LIMITED' // 429
  | 'QUOTA' // account limits
  | 'INVALID' // the cloud refused our request as malformed (4xx)
  | 'API_UNAVAILABLE' // 5xx
  | 'NETWORK' // connection refused, reset, timeout
  | 'CREATE_FAILED' // the cloud reported the instance failed
  | 'FORBIDDEN' // refused by us: the resource does not carry our mark (never touch what we did not make)
  | 'UNSUPPORTED';

/** The user's input is wrong: a flag, a missing value, a bad combination. */
export class UsageError extends CodedError {
  constructor(message: string, code = 'USAGE') {
    super(code, message);
  }
}
