/**
 * Keeps a Let's Encrypt (or any ACME CA's) certificate for each domain of `inlets http server`:
 * one order per domain, so a domain whose DNS is not ready yet does not hold the others back;
 * renewal well before expiry, served without a restart; failures retried with exponential backoff
 * (each retry rehearsed first at Let's Encrypt's staging when the CA is its prod)
 * and reported in `status()`, never thrown at the server. Files in the state directory, 0600,
 * written atomically: the account key, and `<domain>.crt` / `<domain>.key`.
 */
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { silentLogger, type Logger } from '../log.js';
import type { CertificateInfo } from '../server/status-info.js';
import { AcmeClient, type AcmeFailure } from './acme-client.js';
import { certificateRequest } from './csr.js';

export const LETSENCRYPT = {
  prod: 'https://acme-v02.api.letsencrypt.org/directory',
  staging: 'https://acme-staging-v02.api.letsencrypt.org/directory',
};

/** The directory URL: an explicit one wins over the issuer's. */
export const directoryFor = (issuer: 'prod' | 'staging', url?: string): string => url ?? LETSENCRYPT[issuer];

/** Where attempts after a failure rehearse: Let's Encrypt's staging for its prod, else nowhere. */
export const rehearsalFor = (directoryUrl: string): AcmeDirectory | undefined => (directoryUrl === LETSENCRYPT.prod ? { url: LETSENCRYPT.staging } : undefined);

export interface AcmeDirectory {
  url: string;
  /** PEM of a CA to trust for this ACME server's own HTTPS (private or test CA). */
  ca?: string;
}

export interface CertManagerOptions {
  domains: string[];
  email?: string;
  directoryUrl: string;
  /** PEM of a CA to trust for the ACME server's own HTTPS (private or test CA). */
  ca?: string;
  /**
   * After a failure, each attempt first runs a whole order here and goes to `directoryUrl` only
   * once that succeeds, so a domain whose DNS is not ready fails against the rehearsal CA's limits
   * rather than the real one's (Let's Encrypt allows 5 failed validations per domain per hour).
   * Default: {@link rehearsalFor}.
   */
  rehearsal?: AcmeDirectory | null;
  stateDir: string;
  /**
   * Renew this long before expiry, in ms. Default: 30 days, or the last third of a certificate's
   * life when that is shorter (short-lived certificates). A window given here is taken as it is,
   * so a test can force renewal; even then a certificate is re-ordered at most every
   * MIN_RENEW_GAP_MS after the last one was obtained.
   */
  renewBeforeMs?: number;
  /** Look at each certificate again at least this often, in ms (default 12 h). */
  checkIntervalMs?: number;
  /**
   * Backoff after a failure: from retryMinMs (default 15 s), doubling to retryMaxMs (default 6 h);
   * a longer Retry-After from the CA is honoured, up to retryMaxMs.
   */
  retryMinMs?: number;
  retryMaxMs?: number;
  requestTimeoutMs?: number;
  logger?: Logger;
}

interface Domain {
  info: CertificateInfo;
  ctx?: SecureContext;
  /** When the certificate in use is due for renewal (ms since the epoch). */
  renewAt?: number;
  failures: number;
  timer?: NodeJS.Timeout;
}

/** The shortest time between obtaining a certificate and re-ordering it: a window longer than the life must not loop. */
const MIN_RENEW_GAP_MS = 10_000;

/** setTimeout takes at most 2^31-1 ms. */
const MAX_TIMER = 2 ** 31 - 1;

export class CertManager {
  readonly #d = new Map<string, Domain>();
  readonly #challenges = new Map<string, string>();
  readonly #log: Logger;
  readonly #clients = new Map<string, Promise<AcmeClient>>();
  readonly #rehearsal: AcmeDirectory | null | undefined;
  #accountKey?: Promise<string>;
  #stopped = false;

  constructor(readonly opts: CertManagerOptions) {
    this.#rehearsal = opts.rehearsal === undefined ? rehearsalFor(opts.directoryUrl) : opts.rehearsal;
    this.#log = opts.logger ?? silentLogger;
    for (const domain of opts.domains) this.#d.set(domain, { info: { domain, state: 'waiting' }, failures: 0 });
  }

  /** Loads what the state directory holds, then issues or renews each domain as needed. */
  start(): void {
    this.#stopped = false;
    for (const [name, d] of this.#d) void this.#load(name, d).then(() => this.#run(name, d));
  }

  stop(): void {
    this.#stopped = true;
    for (const d of this.#d.values()) clearTimeout(d.timer);
  }

  /** The key authorization for a pending HTTP-01 token (answered on port 80). */
  challenge(token: string): string | undefined {
    return this.#challenges.get(token);
  }

  /** The certificate for an SNI name, exactly (case-insensitive); undefined before it is issued. */
  secureContext(servername: string): SecureContext | undefined {
    return this.#d.get(servername.toLowerCase())?.ctx;
  }

  status(): CertificateInfo[] {
    return [...this.#d.values()].map((d) => ({ ...d.info }));
  }

  #paths(name: string): [string, string] {
    return [join(this.opts.stateDir, `${name}.crt`), join(this.opts.stateDir, `${name}.key`)];
  }

  /** @param obtainedAt when it was issued here (0: loaded from the state directory) */
  #use(name: string, d: Domain, cert: string, key: string, obtainedAt = 0): void {
    const x = new X509Certificate(cert);
    const [from, to] = [Date.parse(x.validFrom), Date.parse(x.validTo)];
    const window = this.opts.renewBeforeMs ?? Math.min(30 * 864e5, (to - from) / 3);
    if (window >= to - from) this.#log.warn(`certificate for ${name}: the renewal window is longer than its life, so it is renewed every time (${MIN_RENEW_GAP_MS / 1000} s apart at least)`);
    d.renewAt = Math.max(to - window, obtainedAt + MIN_RENEW_GAP_MS);
    d.ctx = createSecureContext({ cert, key });
    d.info = { domain: name, state: 'issued', expiresAt: new Date(to).toISOString(), renewsAt: new Date(d.renewAt).toISOString() };
  }

  async #load(name: string, d: Domain): Promise<void> {
    try {
      const [c, k] = this.#paths(name);
      this.#use(name, d, await readFile(c, 'utf8'), await readFile(k, 'utf8'));
    } catch {} // nothing usable yet: issue
  }

  /** One account key for every domain and directory, made once and kept. */
  #key(): Promise<string> {
    return (this.#accountKey ??= (async () => {
      const path = join(this.opts.stateDir, 'acme-account.key');
      let pem = await readFile(path, 'utf8').catch(() => '');
      if (!pem) {
        pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
        await writeFileAtomic(path, pem, 0o600);
      }
      return pem;
    })().catch((e) => ((this.#accountKey = undefined), Promise.reject(e))));
  }

  /** Orders a certificate for `name` at `at`: the PEM chain and its key. */
  async #order(at: AcmeDirectory, name: string): Promise<{ cert: string; keyPem: string }> {
    let client = this.#clients.get(at.url);
    if (!client) {
      client = this.#key().then((pem) => new AcmeClient({ directoryUrl: at.url, ca: at.ca, accountKeyPem: pem, email: this.opts.email, timeoutMs: this.opts.requestTimeoutMs }));
      this.#clients.set(at.url, client);
      client.catch(() => this.#clients.delete(at.url));
    }
    const { der, keyPem } = certificateRequest([name]);
    return { cert: await (await client).issue([name], der, (t, k) => this.#challenges.set(t, k), (t) => this.#challenges.delete(t)), keyPem };
  }

  /** Issues when due, then schedules the next look: the renewal time, a check, or a retry. */
  async #run(name: string, d: Domain): Promise<void> {
    if (this.#stopped) return;
    const renewAt = d.renewAt ?? 0;
    let wait: number;
    if (Date.now() < renewAt) {
      wait = Math.min(renewAt - Date.now(), this.opts.checkIntervalMs ?? 12 * 36e5);
    } else {
      try {
        const rehearsal = this.#rehearsal;
        if (d.failures && rehearsal) {
          const host = new URL(rehearsal.url).host;
          this.#log.info(`rehearsing the certificate for ${name} at ${host} (the last attempt failed)`);
          // Only a failed validation stops the attempt: a rehearsal CA that is down or busy must
          // not keep the real one from issuing.
          await this.#order(rehearsal, name).catch((e: AcmeFailure) => {
            if (e.invalid) throw Object.assign(e, { message: `rehearsal at ${host}: ${e.message}` });
            this.#log.warn(`certificate for ${name}: the rehearsal at ${host} could not be run (${e.message}); going on`);
          });
        }
        this.#log.info(`requesting a certificate for ${name} from ${new URL(this.opts.directoryUrl).host}`);
        const { cert, keyPem } = await this.#order({ url: this.opts.directoryUrl, ca: this.opts.ca }, name);
        const [c, k] = this.#paths(name);
        await writeFileAtomic(k, keyPem, 0o600);
        await writeFileAtomic(c, cert, 0o600);
        this.#use(name, d, cert, keyPem, Date.now());
        d.failures = 0;
        this.#log.info(`certificate for ${name} issued, valid until ${d.info.expiresAt}`);
        return this.#run(name, d);
      } catch (e) {
        const max = this.opts.retryMaxMs ?? 6 * 36e5;
        // The CA's own Retry-After (a rate limit) wins over the backoff when longer, up to the cap.
        wait = Math.max(Math.min((this.opts.retryMinMs ?? 15_000) * 2 ** d.failures++, max), Math.min((e as AcmeFailure).retryAfterMs ?? 0, max));
        const message = (e as Error).message;
        // a certificate still valid keeps being served while renewal is retried
        d.info = { ...d.info, state: d.ctx ? 'issued' : 'error', lastError: message, nextAttemptAt: new Date(Date.now() + wait).toISOString() };
        this.#log.warn(`certificate for ${name}: ${message}; next attempt in ${Math.round(wait / 1000)} s`);
      }
    }
    if (!this.#stopped) d.timer = setTimeout(() => void this.#run(name, d), Math.min(wait, MAX_TIMER));
  }
}
