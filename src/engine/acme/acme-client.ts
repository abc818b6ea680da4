/**
 * The ACME protocol (RFC 8555), as much as HTTP-01 issuance needs: directory, nonces, an ES256
 * account (JWS with jwk, then kid), an order, its authorizations, the challenge, finalize with a
 * CSR, the certificate. Every request has a time limit; every poll a number of attempts.
 */
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { request } from 'node:https';
import { request as plainRequest } from 'node:http';
import { TunnelError } from '../../errors.js';

export interface AcmeOptions {
  directoryUrl: string;
  /** PEM of a CA to trust for the ACME server itself (a private or test CA); default the system's. */
  ca?: string;
  /** The account key, PEM (P-256). */
  accountKeyPem: string;
  email?: string;
  /** Per HTTP request, in ms (default 30 s). */
  timeoutMs?: number;
  /** Between polls of an authorization or order (default 1 s; Retry-After wins, up to 10 s); at most `polls` of them (default 60). */
  pollMs?: number;
  polls?: number;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');
/** Answers are small JSON documents or a PEM chain; anything larger is not ACME. */
const MAX_BODY = 1 << 20;

/** Retry-After (RFC 9110 §10.2.3: seconds or an HTTP date) as ms from now; undefined when absent or past. */
const retryAfter = (v: unknown): number | undefined => {
  const ms = typeof v !== 'string' ? NaN : /^\d+$/.test(v) ? +v * 1000 : Date.parse(v) - Date.now();
  return ms > 0 ? ms : undefined;
};

/**
 * An ACME request the server refused; `retryAfterMs` is its Retry-After (rate limits, RFC 8555
 * §6.6); `invalid` marks an authorization the CA checked and found invalid (the domain's fault).
 */
export type AcmeFailure = TunnelError & { retryAfterMs?: number; invalid?: boolean };

const fail = (what: string, r: Reply): AcmeFailure => {
  let detail = `HTTP ${r.status}`;
  try {
    const p = JSON.parse(r.body) as { type?: string; detail?: string };
    if (p.type) detail = `${p.type}: ${p.detail ?? ''} (HTTP ${r.status})`;
  } catch {}
  return Object.assign(new TunnelError('ACME_FAILED', `ACME ${what} failed: ${detail}`), { retryAfterMs: retryAfter(r.headers['retry-after']) });
};

export class AcmeClient {
  readonly #key: KeyObject;
  readonly #jwk: Record<string, string>;
  #dir?: Record<string, string>;
  #nonce?: string;
  #kid?: string;

  constructor(readonly opts: AcmeOptions) {
    this.#key = createPrivateKey(opts.accountKeyPem);
    const { crv, kty, x, y } = createPublicKey(this.#key).export({ format: 'jwk' }) as Record<string, string>;
    this.#jwk = { crv, kty, x, y }; // RFC 7638: the members in this order
  }

  /** The HTTP-01 key authorization of `token` (RFC 8555 §8.1). */
  keyAuthorization(token: string): string {
    return `${token}.${b64u(createHash('sha256').update(JSON.stringify(this.#jwk)).digest())}`;
  }

  #http(method: string, url: string, body?: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const headers = body === undefined ? {} : { 'content-type': 'application/jose+json' };
      const req = (url.startsWith('http:') ? plainRequest : request)(url, { method, headers, ca: this.opts.ca, timeout: this.opts.timeoutMs ?? 30_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => ((text += c).length > MAX_BODY && req.destroy(new Error('answer too large'))));
        res.on('end', () => {
          const n = res.headers['replay-nonce'];
          if (typeof n === 'string') this.#nonce = n;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${(this.opts.timeoutMs ?? 30_000) / 1000} s`)));
      req.on('error', (e) => reject(new TunnelError('ACME_FAILED', `ACME server ${new URL(url).host}: ${e.message}`)));
      req.end(body);
    });
  }

  async #directory(): Promise<Record<string, string>> {
    if (this.#dir) return this.#dir;
    const r = await this.#http('GET', this.opts.directoryUrl);
    if (r.status !== 200) throw fail('directory', r);
    return (this.#dir = JSON.parse(r.body));
  }

  /** A signed POST (payload undefined: POST-as-GET); one retry on badNonce (§6.5). */
  async #post(url: string, payload: unknown, retried = false): Promise<Reply> {
    const dir = await this.#directory();
    if (!this.#nonce) await this.#http('HEAD', dir.newNonce);
    const head = { alg: 'ES256', nonce: this.#nonce, url, ...(this.#kid ? { kid: this.#kid } : { jwk: this.#jwk }) };
    this.#nonce = undefined;
    const p = b64u(JSON.stringify(head));
    const body = payload === undefined ? '' : b64u(JSON.stringify(payload));
    const signature = b64u(sign('sha256', Buffer.from(`${p}.${body}`), { key: this.#key, dsaEncoding: 'ieee-p1363' }));
    const r = await this.#http('POST', url, JSON.stringify({ protected: p, payload: body, signature }));
    if (r.status === 400 && !retried && r.body.includes('badNonce')) return this.#post(url, payload, true);
    return r;
  }

  async #account(): Promise<void> {
    if (this.#kid) return;
    const dir = await this.#directory();
    const r = await this.#post(dir.newAccount, { termsOfServiceAgreed: true, ...(this.opts.email && { contact: [`mailto:${this.opts.email}`] }) });
    if (r.status > 201 || !r.headers.location) throw fail('account', r);
    this.#kid = r.headers.location as string;
  }

  /** POST-as-GET `url` until its status leaves pending/processing; the final object. */
  async #poll(url: string, what: string): Promise<Record<string, any>> {
    for (let i = 0; i < (this.opts.polls ?? 60); i++) {
      const r = await this.#post(url, undefined);
      if (r.status !== 200) throw fail(what, r);
      const o = JSON.parse(r.body);
      if (o.status !== 'pending' && o.status !== 'processing') return o;
      await new Promise((w) => setTimeout(w, Math.min(retryAfter(r.headers['retry-after']) ?? this.opts.pollMs ?? 1000, 10_000)));
    }
    throw new TunnelError('ACME_FAILED', `ACME ${what} still pending after ${this.opts.polls ?? 60} checks`);
  }

  /**
   * Orders a certificate for `domains`, answering HTTP-01 through `present(token, keyAuth)` (and
   * `done(token)` afterwards); `csr` is the DER request. Returns the PEM chain.
   */
  async issue(domains: string[], csr: Buffer, present: (token: string, keyAuth: string) => void, done: (token: string) => void): Promise<string> {
    await this.#account();
    const dir = await this.#directory();
    const r = await this.#post(dir.newOrder, { identifiers: domains.map((value) => ({ type: 'dns', value })) });
    if (r.status !== 201) throw fail('order', r);
    const orderUrl = r.headers.location as string;
    const order = JSON.parse(r.body);
    for (const authzUrl of order.authorizations as string[]) {
      const a = await this.#post(authzUrl, undefined);
      if (a.status !== 200) throw fail('authorization', a);
      const authz = JSON.parse(a.body);
      if (authz.status === 'valid') continue;
      const ch = (authz.challenges as { type: string; url: string; token: string }[]).find((c) => c.type === 'http-01');
      if (!ch) throw new TunnelError('ACME_FAILED', `ACME offers no http-01 challenge for ${authz.identifier?.value}`);
      present(ch.token, this.keyAuthorization(ch.token));
      try {
        const c = await this.#post(ch.url, {});
        if (c.status !== 200) throw fail('challenge', c);
        const end = await this.#poll(authzUrl, 'authorization');
        if (end.status !== 'valid') {
          const e = (end.challenges as { error?: { type?: string; detail?: string } }[]).find((x) => x.error)?.error;
          throw Object.assign(new TunnelError('ACME_FAILED', `ACME authorization of ${authz.identifier?.value} is ${end.status}${e ? `: ${e.type}: ${e.detail}` : ''}`), { invalid: true });
        }
      } finally {
        done(ch.token);
      }
    }
    const f = await this.#post(order.finalize, { csr: b64u(csr) });
    if (f.status !== 200) throw fail('finalize', f);
    const final = await this.#poll(orderUrl, 'order');
    if (final.status !== 'valid' || !final.certificate) throw new TunnelError('ACME_FAILED', `ACME order is ${final.status}`);
    const cert = await this.#post(final.certificate, undefined);
    if (cert.status !== 200 || !cert.body.includes('BEGIN CERTIFICATE')) throw fail('certificate download', cert);
    return cert.body;
  }
}
