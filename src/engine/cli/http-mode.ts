/**
 * `inlets http server`'s own flags → TunnelServerOptions.http, with Let's Encrypt (ACME HTTP-01)
 * when `--letsencrypt-domain` is given. Shared by the full program and the exit node's build.
 */
import { UsageError } from '../../errors.js';
import { CertManager, directoryFor } from '../acme/cert-manager.js';
import { HttpFront } from '../server/http-front.js';
import { DOMAIN_NAME } from '../server/host-registry.js';
import { ACME_DIRECTORY_URL, ACME_EMAIL } from '../acme/setting-shapes.js';
import { FULL_EXTRAS, secondsFlag, serverCommandWith, type HttpCommandMode } from './server-command.js';
import { readFlagFile } from './shared-flags.js';

const portOf = (text: string | undefined, flag: string, byDefault: number): number => {
  if (text === undefined) return byDefault;
  if (!/^\d{1,5}$/.test(text) || +text < 1 || +text > 65535) throw new UsageError(`--${flag}: "${text}" is not a port (1-65535)`);
  return +text;
};

/**
 * HTTP mode's own flags (`inlets http server`): the public ports and Let's Encrypt (PROTOCOL.md
 * §6.2). Certificates and the ACME account key live in --state-dir, which the exit node's build
 * has here too.
 */
const HTTP_FLAGS = {
  port: ['PORT'],
  'tls-port': ['PORT'],
  'letsencrypt-domain': ['DOMAIN', '*'],
  'letsencrypt-email': ['EMAIL'],
  'letsencrypt-issuer': ['prod|staging'],
  'letsencrypt-url': ['URL'],
  'letsencrypt-ca': ['FILE'],
  'renew-before': ['DAYS'],
  'http-head-timeout': ['SECONDS'],
  'http-max-head': ['KIB'],
  'idle-timeout': ['SECONDS'],
  'state-dir': ['DIR'],
} as const;

/** `inlets http server`'s part: HTTP_FLAGS → HttpFront and the CertManager. */
export const httpMode: HttpCommandMode = {
  flags: HTTP_FLAGS,
  summary: 'Accepts tunnel clients on the control port and routes public HTTP(S) requests to them by host name.',
  options: async (v, stateDir, log) => {
    const domains = ((v['letsencrypt-domain'] ?? []) as string[]).map((d) => d.toLowerCase());
    for (const d of domains) if (!DOMAIN_NAME.test(d)) throw new UsageError(`--letsencrypt-domain: "${d}" is not a DNS name such as blog.example.com`);
    const one = (k: keyof typeof v) => v[k] as string | undefined;
    const issuer = one('letsencrypt-issuer') ?? 'prod';
    if (issuer !== 'prod' && issuer !== 'staging') throw new UsageError(`--letsencrypt-issuer: "${issuer}" is not prod or staging`);
    const url = one('letsencrypt-url');
    if (url !== undefined && !ACME_DIRECTORY_URL.test(url)) throw new UsageError(`--letsencrypt-url: "${url}" is not an http(s) URL of an ACME directory`);
    const email = one('letsencrypt-email');
    if (email !== undefined && !ACME_EMAIL.test(email)) throw new UsageError(`--letsencrypt-email: "${email}" is not an e-mail address`);
    const acmeOnly = ['letsencrypt-email', 'letsencrypt-issuer', 'letsencrypt-url', 'letsencrypt-ca', 'renew-before'].filter((k) => v[k as keyof typeof v] !== undefined);
    if (!domains.length && acmeOnly.length) throw new UsageError(`--${acmeOnly[0]} needs --letsencrypt-domain`);
    const head = one('http-max-head');
    if (head !== undefined && !(/^\d+$/.test(head) && +head >= 1 && +head <= 1024)) throw new UsageError(`--http-max-head: "${head}" is not a number of KiB (1-1024)`);
    const days = one('renew-before');
    if (days !== undefined && !(+days > 0 && +days <= 3650)) throw new UsageError(`--renew-before: "${days}" is not a number of days (1-3650)`);
    const ca = one('letsencrypt-ca') && (await readFlagFile('letsencrypt-ca', one('letsencrypt-ca')!));
    const certs = domains.length
      ? new CertManager({ domains, email, directoryUrl: directoryFor(issuer, url), ca: ca || undefined, stateDir, renewBeforeMs: days ? +days * 864e5 : undefined, logger: log })
      : undefined;
    return {
      options: new HttpFront({
        port: portOf(one('port'), 'port', 80),
        tlsPort: portOf(one('tls-port'), 'tls-port', 443),
        certs,
        addr: v['data-addr'] as string | undefined,
        domains,
        certStatus: certs && (() => certs.status()),
        headTimeoutMs: secondsFlag(one('http-head-timeout'), 'http-head-timeout'),
        maxHeadBytes: head ? +head * 1024 : undefined,
        idleTimeoutMs: secondsFlag(one('idle-timeout'), 'idle-timeout'),
      }),
      start: () => certs?.start(),
      stop: () => certs?.stop(),
    };
  },
};

/** The full `inlets http server`. */
export const httpServerCommand = /* @__PURE__ */ serverCommandWith(FULL_EXTRAS, httpMode);
