/**
 * `create`'s tunnel mode from its flags: TCP (the default, as in the Go inletsctl) or HTTPS when
 * `--letsencrypt-domain` is given. Every mistake is a usage error before anything is made.
 */
import { UsageError } from '../../errors.js';
import { HTTPS_SHAPES, type HttpsInput } from '../../core/user-data/exit-node-plan.js';
import { MAX_HOSTS } from '../../engine/server/host-registry.js';
import { certificateFile, portFlag } from './flag-values.js';

export type ModeChoice = { mode: 'tcp' } | { mode: 'https'; https: HttpsInput & { httpPort: number; httpsPort: number } };

const HTTPS_ONLY = ['letsencrypt-email', 'letsencrypt-issuer', 'letsencrypt-url', 'letsencrypt-ca', 'http-port', 'https-port'] as const;

const given = (v: unknown) => v !== undefined && v !== false;
const one = (args: Record<string, unknown>, flag: string): string | undefined => {
  const v = args[flag];
  // A repeated single-valued flag is a mistake to name, not to resolve silently.
  if (Array.isArray(v)) throw new UsageError(`--${flag} is given ${v.length} times; give it once`, 'CONFLICTING_FLAGS');
  return v === undefined ? undefined : String(v);
};

/** @param controlPort the control port (no public port may take it) */
export function modeFromArgs(args: Record<string, unknown>, controlPort: number, dataPorts: number[]): ModeChoice {
  const raw = args['letsencrypt-domain'];
  const list = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((v) => String(v).split(',')).map((s) => s.trim()).filter(Boolean);
  if (!list.length) {
    if (raw !== undefined) throw new UsageError('--letsencrypt-domain needs a domain name, like blog.example.com', 'BAD_DOMAIN');
    const stray = HTTPS_ONLY.filter((f) => given(args[f]));
    if (stray.length) throw new UsageError(`${stray.map((f) => `--${f}`).join(', ')} belong${stray.length === 1 ? 's' : ''} to HTTPS mode: add --letsencrypt-domain D`, 'CONFLICTING_FLAGS');
    if (args.tcp === false) throw new UsageError('--no-tcp leaves no mode: HTTPS mode is chosen with --letsencrypt-domain D', 'CONFLICTING_FLAGS');
    return { mode: 'tcp' };
  }
  if (args.tcp === true) throw new UsageError('--tcp and --letsencrypt-domain choose different modes: drop one (TCP mode forwards ports, HTTPS mode routes by domain)', 'CONFLICTING_FLAGS');

  const domains = [...new Set(list.map((d) => d.toLowerCase().replace(/\.$/, '')))];
  for (const d of domains) {
    if (d.includes('*')) throw new UsageError(`--letsencrypt-domain "${d}": wildcard certificates need DNS-01, and HTTP-01 is what the exit node answers; list each name`, 'BAD_DOMAIN');
    if (!HTTPS_SHAPES.domain.test(d)) throw new UsageError(`--letsencrypt-domain "${d}" is not a DNS name such as blog.example.com`, 'BAD_DOMAIN');
  }
  if (domains.length > MAX_HOSTS) throw new UsageError(`--letsencrypt-domain: ${domains.length} domains, at most ${MAX_HOSTS}`, 'BAD_DOMAIN');

  const email = one(args, 'letsencrypt-email');
  if (email !== undefined && !HTTPS_SHAPES.email.test(email)) throw new UsageError(`--letsencrypt-email "${email}" is not an e-mail address`, 'BAD_EMAIL');
  const issuer = one(args, 'letsencrypt-issuer');
  if (issuer !== undefined && issuer !== 'prod' && issuer !== 'staging') throw new UsageError(`--letsencrypt-issuer "${issuer}" is not prod or staging`, 'BAD_ISSUER');
  const url = one(args, 'letsencrypt-url');
  if (url !== undefined) {
    if (issuer !== undefined) throw new UsageError('--letsencrypt-url and --letsencrypt-issuer both name the ACME server: give one', 'CONFLICTING_FLAGS');
    if (!HTTPS_SHAPES.url.test(url)) throw new UsageError(`--letsencrypt-url "${url}" is not an http(s) URL of an ACME directory`, 'BAD_URL');
  }
  const caFile = one(args, 'letsencrypt-ca');
  if (caFile !== undefined && url === undefined) throw new UsageError('--letsencrypt-ca is for an ACME server of your own: it needs --letsencrypt-url (Let\'s Encrypt\'s own certificate is publicly trusted)', 'CONFLICTING_FLAGS');
  const caPem = caFile === undefined ? undefined : certificateFile(caFile, 'letsencrypt-ca');
  const httpPort = portFlag(one(args, 'http-port') ?? 80, 'http-port');
  const httpsPort = portFlag(one(args, 'https-port') ?? 443, 'https-port');
  const taken = new Map<number, string>([[controlPort, 'the control port']]);
  for (const p of dataPorts) taken.set(p, '--ports');
  for (const [flag, p] of [['http-port', httpPort], ['https-port', httpsPort]] as const) {
    const other = taken.get(p);
    if (other) throw new UsageError(`--${flag} ${p} is also ${other}: each public port serves one thing`, 'BAD_PORT');
    taken.set(p, `--${flag}`);
  }
  return {
    mode: 'https',
    https: {
      domains,
      ...(email !== undefined && { email }),
      ...(issuer !== undefined && { issuer }),
      ...(url !== undefined && { url }),
      ...(caPem !== undefined && { caPem }),
      httpPort,
      httpsPort,
    },
  };
}
