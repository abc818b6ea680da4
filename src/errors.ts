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

/**
 * Every code a TunnelError carries: one name per cause (no synonyms). Fatal codes (reconnecting
 * cannot fix them) are listed in FATAL_TUNNEL_CODES.
 */
export type TunnelErrorCode =
  | 'TOKEN_EMPTY' // the token is empty: refused before anything is sent
  | 'CONNECT_FAILED' // TCP connect refused, reset or closed during the TLS handshake
  | 'TIMEOUT' // a dial or request did not finish within its limit
  | 'ABORTED' // cancelled by the caller
  | 'TLS_HANDSHAKE_FAILED'
  | 'TLS_VERIFY_FAILED' // the certificate does not verify against the CA (or system CAs)
  | 'TLS_PIN_MISMATCH' // the server key is not the pinned one
  | 'HANDSHAKE_FAILED' // the websocket upgrade failed; `httpStatus` when the server answered
  | 'BAD_HEADER' // a header value we were asked to send is malformed
  | 'HTTP_FAILED' // a control-port HTTP request (status, metrics) failed
  | 'STATUS_FAILED' // GET /status answered something other than 200 with JSON
  | 'AUTH_FAILED' // 401: wrong or missing token
  | 'VERSION_UNSUPPORTED' // 426: no protocol version in common
  | 'NOT_INLETS' // the server is someone else's service
  | 'PORTS_REFUSED' // the server refused every advertised port
  | 'REPLACED' // GOAWAY REPLACED: another session with this client id took over
  | 'GOAWAY' // a GOAWAY was sent or received: the session opens no streams and ends
  | 'SESSION_CLOSED' // the session is closed (also: it ended without an error)
  | 'CONNECTION_LOST' // the transport ended or failed without a GOAWAY
  | 'KEEPALIVE_TIMEOUT' // nothing arrived within the keepalive timeout
  | 'PROTOCOL_ERROR' // the peer broke docs/PROTOCOL.md
  | 'LIMIT_EXCEEDED' // the peer exceeded a bound of PROTOCOL.md sections 13 and 14
  | 'FRAME_TOO_LARGE' // something this side was asked to send does not fit a frame
  | 'STREAM_RESET' // the peer reset the stream
  | 'ACME_FAILED' // the ACME server (Let's Encrypt) refused or failed a step; retried with backoff
  | 'INTERNAL'; // a bug on this side

/** Codes after which a client stops instead of reconnecting. */
const FATAL_TUNNEL_CODES: readonly TunnelErrorCode[] = [
  'TOKEN_EMPTY',
  'AUTH_FAILED',
  'VERSION_UNSUPPORTED',
  'TLS_PIN_MISMATCH',
  'TLS_VERIFY_FAILED',
  'PORTS_REFUSED',
  'REPLACED',
  'NOT_INLETS',
];

/** True when reconnecting cannot fix `code` (decided from the code alone). */
export function isFatalTunnelCode(code: TunnelErrorCode): boolean {
  return FATAL_TUNNEL_CODES.includes(code);
}

/** Tunnel engine errors: protocol, transport, TLS, authentication. */
export class TunnelError extends CodedError {
  declare readonly code: TunnelErrorCode;
  /** Websocket close status to send when this error ends a websocket (1002, 1008, 1009…). */
  readonly closeStatus?: number;
  /** The HTTP status the server answered, for HANDSHAKE_FAILED and HTTP_FAILED. */
  readonly httpStatus?: number;
  constructor(code: TunnelErrorCode, message: string, options: { cause?: unknown; closeStatus?: number; httpStatus?: number } = {}) {
    super(code, message, { cause: options.cause });
    this.closeStatus = options.closeStatus;
    this.httpStatus = options.httpStatus;
  }
}

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
