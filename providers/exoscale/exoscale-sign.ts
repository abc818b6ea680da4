/**
 * Exoscale's request signature, as documented at
 * https://openapi-v2.exoscale.com/topic/topic-api-request-signature : the message is five lines
 * joined by "\n", every one present even when empty:
 *
 * 1. the method and the URL path (no query), separated by a space: `GET /v2/instance/…`;
 * 2. the request body, as sent;
 * 3. the values of the query parameters, sorted by name and concatenated without separator (their
 *    names go into the header's `signed-query-args=`, separated by semicolons);
 * 4. the values of signed headers (none at the moment: empty);
 * 5. the expiry, as a UNIX timestamp.
 *
 * signature = base64(HMAC-SHA256(secret, message)), sent as
 * `Authorization: EXO2-HMAC-SHA256 credential=<key>[,signed-query-args=a;b],expires=<t>,signature=<s>`.
 * The secret never leaves this function: only the key and the signature go on the wire.
 */
import { createHmac } from 'node:crypto';

/** How long a signature stays valid: Exoscale's own SDKs use ten minutes. */
export const SIGNATURE_TTL_SECONDS = 600;

export interface SignInput {
  method: string;
  /** The URL path as sent (percent-encoded), including the `/v2` prefix. */
  path: string;
  query: URLSearchParams;
  body: string | undefined;
  /** UNIX seconds after which the signature is refused. */
  expires: number;
}

/** The names and values of the query, sorted by name (the order the message and the header use). */
export function sortedQuery(query: URLSearchParams): Array<[string, string]> {
  return [...query.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The message that is signed. */
export function messageToSign(input: SignInput): string {
  const values = sortedQuery(input.query).map(([, v]) => v).join('');
  return [`${input.method.toUpperCase()} ${input.path}`, input.body ?? '', values, '', String(input.expires)].join('\n');
}

/** base64(HMAC-SHA256(secret, message)). */
export function signature(secret: string, message: string): string {
  return createHmac('sha256', secret).update(message, 'utf8').digest('base64');
}

/** The Authorization header value for one request. */
export function authorizationHeader(key: string, secret: string, input: SignInput): string {
  const names = sortedQuery(input.query).map(([k]) => k);
  const signedArgs = names.length > 0 ? `,signed-query-args=${names.join(';')}` : '';
  return `EXO2-HMAC-SHA256 credential=${key}${signedArgs},expires=${input.expires},signature=${signature(secret, messageToSign(input))}`;
}
