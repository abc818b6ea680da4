/**
 * AWS Signature Version 4, as the EC2 fake checks it: the Authorization header's form, the
 * credential scope (date, region, service "ec2"), the payload hash, and, when the fake knows the
 * secret of the access key, the signature itself (recomputed from the canonical request).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Credentials the fake accepts; when none are configured, any well-formed signature passes. */
export interface FakeAwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, the request must carry it in X-Amz-Security-Token. */
  sessionToken?: string;
}

export type SigV4Result = { ok: true; accessKeyId: string; region: string } | { ok: false; reason: string; region?: string };

const AUTH_RE = /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/**
 * Checks the signature of a request with `method`, `path`, `headers` and `body`.
 * @param known the accepted credentials (empty: accept any key, checking form only)
 */
export function verifySigV4(method: string, path: string, headers: IncomingHttpHeaders, body: string, known: FakeAwsCredentials[]): SigV4Result {
  const m = AUTH_RE.exec(String(headers.authorization ?? ''));
  if (!m) return { ok: false, reason: 'no AWS4-HMAC-SHA256 Authorization header' };
  const [, accessKeyId, date, region, service, signedList, signature] = m;
  const amzDate = String(headers['x-amz-date'] ?? '');
  if (service !== 'ec2') return { ok: false, reason: `credential scope names service ${service}, not ec2`, region };
  if (!amzDate.startsWith(date)) return { ok: false, reason: 'X-Amz-Date does not match the credential scope date', region };
  const signed = signedList.split(';');
  for (const required of ['host', 'x-amz-date']) {
    if (!signed.includes(required)) return { ok: false, reason: `${required} is not a signed header`, region };
  }
  const payloadHash = sha256(body);
  const declared = headers['x-amz-content-sha256'];
  if (declared !== undefined && declared !== payloadHash) return { ok: false, reason: 'X-Amz-Content-Sha256 does not match the body', region };
  if (known.length === 0) return { ok: true, accessKeyId, region };

  const creds = known.find((c) => c.accessKeyId === accessKeyId);
  if (!creds) return { ok: false, reason: 'unknown access key', region };
  if (creds.sessionToken !== undefined && headers['x-amz-security-token'] !== creds.sessionToken) {
    return { ok: false, reason: 'missing or wrong session token', region };
  }
  const [pathname, query = ''] = path.split('?');
  const canonicalHeaders = signed.map((h) => `${h}:${headerValue(headers[h])}\n`).join('');
  const canonicalRequest = [method, pathname || '/', canonicalQuery(query), canonicalHeaders, signedList, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${creds.secretAccessKey}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const expected = Buffer.from(hmac(key, stringToSign).toString('hex'));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'signature does not match', region };
  return { ok: true, accessKeyId, region };
}

function headerValue(v: string | string[] | undefined): string {
  const joined = Array.isArray(v) ? v.join(',') : (v ?? '');
  return joined.trim().replace(/\s+/g, ' ');
}

function canonicalQuery(query: string): string {
  if (!query) return '';
  return query
    .split('&')
    .map((p) => p.split('='))
    .sort(([a, x], [b, y]) => (a === b ? (x ?? '').localeCompare(y ?? '') : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v ?? ''}`)
    .join('&');
}

function sha256(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}
