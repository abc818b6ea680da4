/**
 * The exit node as data: the packages, files and commands that templates/exit-node.json describes,
 * with every placeholder filled. Both user-data formats are renderings of one plan, and both parse
 * back into one, so "the cloud-config and the script are equivalent" is a comparison of plans.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { packageRoot, type ServerMode } from '../engine-bundle.js';
import { brotli } from './brotli-cache.js';
import { ACME_DIRECTORY_URL, ACME_EMAIL } from '../../engine/acme/setting-shapes.js';
import { DOMAIN_NAME } from '../../engine/server/host-registry.js';

/** How a file's content is carried inside the user-data (cloud-init's `encoding` words). */
export type FileEncoding = 'text' | 'b64' | 'gz+b64';

export interface PlannedFile {
  /** Absolute path on the exit node. */
  path: string;
  /** `user:group`, as cloud-init's write_files takes it. */
  owner: string;
  /** Octal mode as four digits, e.g. '0600'. */
  permissions: string;
  encoding: FileEncoding;
  content: Buffer;
}

export interface ExitNodePlan {
  /** Distribution packages to install (Debian names). */
  packages: string[];
  files: PlannedFile[];
  /** Commands run last, as argv (no shell). */
  commands: string[][];
}

/**
 * 'https-staged': HTTPS mode whose server does not fit the user-data; it carries only the server's
 * SHA-256 and create delivers the bytes (docs/PROTOCOL.md §15, {@link stagedServer}).
 */
export type TunnelMode = 'tcp' | 'https' | 'https-staged';

/** The exit-node server bundle a tunnel mode runs: HTTPS mode runs the http server. */
export const bundleModeOf = (mode: TunnelMode): ServerMode => (mode === 'tcp' ? 'tcp' : 'http');

/** The bytes a staged node is given (the server as brotli, as the user-data would carry it) and their SHA-256. */
export function stagedServer(engineBundle: Buffer): { bytes: Buffer; sha256: string } {
  const bytes = brotli(engineBundle);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** HTTPS mode's Let's Encrypt settings (create --letsencrypt-*). */
export interface HttpsInput {
  domains: string[];
  email?: string;
  issuer?: 'prod' | 'staging';
  /** Any ACME directory instead of Let's Encrypt's; `caPem` is that server's own CA, if private. */
  url?: string;
  caPem?: string;
  /** The public HTTP and HTTPS ports (default 80 and 443; Let's Encrypt's HTTP-01 checks 80). */
  httpPort?: number;
  httpsPort?: number;
}

/** What the placeholders and sources of templates/exit-node.json are filled with. */
export interface PlanInput {
  mode: TunnelMode;
  /** HTTPS mode only. */
  https?: HttpsInput;
  token: string;
  tls: { certPem: string; keyPem: string };
  controlPort: number;
  engineBundle: Buffer;
  /** ISO 8601 expiry (`create --ttl`): the node powers itself off then. Absent: never. */
  expiresAt?: string;
}

interface FileSpec {
  path: string;
  owner: string;
  permissions: string;
  source?: 'engine-bundle' | 'engine-hash' | 'tls-cert' | 'tls-key' | 'acme-ca';
  /** A mode's file with this set removes the common file of that path. */
  omit?: boolean;
  /** Left out when its source has nothing (acme-ca without a CA). */
  optional?: boolean;
  template?: string;
  /** Compress the content before it is written (the node gets the compressed file). */
  compress?: 'brotli';
  encoding?: FileEncoding;
}

interface ModeSpec {
  files?: FileSpec[];
  commands?: string[][];
}

interface NodeSpec {
  packages: string[];
  files: FileSpec[];
  /** Commands added when the tunnel has an expiry; `{{expiresAt}}` is a systemd calendar time. */
  expiry: { commands: string[][] };
  modes: Record<string, ModeSpec>;
}

/** templates/ in this package. */
export function templatesDir(): string {
  return join(packageRoot(), 'templates');
}

/**
 * A token must survive an EnvironmentFile, YAML and a shell heredoc unquoted: base64url, hex or
 * standard base64 characters, 16 to 512 of them.
 */
const TOKEN_SHAPE = /^[A-Za-z0-9._~+/=-]{16,512}$/;

/** Builds the plan for `input` from templates/ (default: this package's). */
export function buildExitNodePlan(input: PlanInput, dir = templatesDir()): ExitNodePlan {
  if (!TOKEN_SHAPE.test(input.token)) {
    throw new UsageError('the inlets token must be 16-512 characters of A-Z a-z 0-9 . _ ~ + / = -', 'TOKEN_INVALID');
  }
  if (!Number.isInteger(input.controlPort) || input.controlPort < 1 || input.controlPort > 65535) {
    throw new UsageError(`the control port ${input.controlPort} is not a port number`, 'PORT_INVALID');
  }
  const spec = JSON.parse(readFileSync(join(dir, 'exit-node.json'), 'utf8')) as NodeSpec;
  const mode = spec.modes[input.mode];
  if (!mode?.files || !mode.commands) {
    throw new UsageError(`mode "${input.mode}" has no template yet (see templates/exit-node.json)`, 'MODE_UNSUPPORTED');
  }
  if ((input.mode !== 'tcp') !== !!input.https) throw new UsageError('HTTPS mode needs its Let\'s Encrypt settings (domains), and only it takes them', 'TEMPLATE_INVALID');
  const values: Record<string, string> = { token: input.token, controlPort: String(input.controlPort), letsencryptFlags: letsencryptFlags(input.https), httpPorts: httpPorts(input.https) };
  // A mode's file replaces the common one of the same path (or, with omit, removes it).
  const own = new Set(mode.files.map((f) => f.path));
  const chosen = [...spec.files.filter((f) => !own.has(f.path)), ...mode.files].filter((f) => !f.omit && !(f.optional && f.source === 'acme-ca' && !input.https?.caPem));
  const files = chosen.map((f): PlannedFile => {
    let content: Buffer;
    if (f.source === 'engine-bundle') content = input.engineBundle;
    else if (f.source === 'engine-hash') content = Buffer.from(`${stagedServer(input.engineBundle).sha256}\n`);
    else if (f.source === 'acme-ca') content = Buffer.from(withNewline(input.https?.caPem ?? ''));
    else if (f.source === 'tls-cert') content = Buffer.from(withNewline(input.tls.certPem));
    else if (f.source === 'tls-key') content = Buffer.from(withNewline(input.tls.keyPem));
    else if (f.template) content = Buffer.from(fill(readFileSync(join(dir, f.template), 'utf8'), values, f.template));
    else throw new UsageError(`templates/exit-node.json: ${f.path} has neither source nor template`, 'TEMPLATE_INVALID');
    if (f.compress === 'brotli') content = brotli(content);
    else if (f.compress !== undefined) throw new UsageError(`templates/exit-node.json: ${f.path}: unknown compress "${f.compress}"`, 'TEMPLATE_INVALID');
    return { path: f.path, owner: f.owner, permissions: f.permissions, encoding: f.encoding ?? 'text', content };
  });
  const commands = mode.commands.map((c) => [...c]);
  if (input.expiresAt !== undefined) {
    const at = { expiresAt: systemdTime(input.expiresAt) };
    commands.push(...spec.expiry.commands.map((c) => c.map((word) => fill(word, at, 'exit-node.json'))));
  }
  return { packages: [...spec.packages], files, commands };
}

/** The shapes a Let's Encrypt setting may take: the engine's own rules (setting-shapes.ts). */
export const HTTPS_SHAPES = { domain: DOMAIN_NAME, email: ACME_EMAIL, url: ACME_DIRECTORY_URL };

/** ` --letsencrypt-domain D … --letsencrypt-ca FILE` for the unit (empty outside HTTPS mode). */
function letsencryptFlags(h: HttpsInput | undefined): string {
  if (!h) return '';
  if (!h.domains.length || h.domains.some((d) => !HTTPS_SHAPES.domain.test(d))) throw new UsageError(`not a domain name: ${h.domains.join(', ') || '(none)'}`, 'TEMPLATE_INVALID');
  if (h.email !== undefined && !HTTPS_SHAPES.email.test(h.email)) throw new UsageError(`not an e-mail address: ${h.email}`, 'TEMPLATE_INVALID');
  if (h.url !== undefined && !HTTPS_SHAPES.url.test(h.url)) throw new UsageError(`not an ACME directory URL: ${h.url}`, 'TEMPLATE_INVALID');
  const words = h.domains.map((d) => `--letsencrypt-domain ${d}`);
  if (h.email) words.push(`--letsencrypt-email ${h.email}`);
  if (h.issuer === 'staging') words.push('--letsencrypt-issuer staging');
  if (h.url) words.push(`--letsencrypt-url ${h.url}`);
  if (h.caPem) words.push('--letsencrypt-ca /etc/inlets/acme-ca.pem');
  return ` ${words.join(' ')}`;
}

/** ` --port N --tls-port M` for ports other than 80 and 443 (empty outside HTTPS mode). */
function httpPorts(h: HttpsInput | undefined): string {
  const words: string[] = [];
  for (const [flag, value, byDefault] of [['port', h?.httpPort, 80], ['tls-port', h?.httpsPort, 443]] as const) {
    if (value === undefined || value === byDefault) continue;
    if (!Number.isInteger(value) || value < 1 || value > 65535) throw new UsageError(`the public ${flag === 'port' ? 'HTTP' : 'HTTPS'} port ${value} is not a port number`, 'PORT_INVALID');
    words.push(`--${flag} ${value}`);
  }
  return words.length ? ` ${words.join(' ')}` : '';
}

/** `2026-12-06T14:00:00.000Z` → `2026-12-06 14:00:00 UTC`, a form every systemd reads as a calendar time. */
export function systemdTime(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) throw new UsageError(`the expiry "${iso}" is not a time`, 'TEMPLATE_INVALID');
  return `${t.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Replaces `{{name}}`; an unknown name is a template bug, reported as such. */
function fill(text: string, values: Record<string, string>, where: string): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new UsageError(`templates/${where}: unknown placeholder {{${name}}}`, 'TEMPLATE_INVALID');
    return value;
  });
}

function withNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

/** A file of the plan by path, or undefined. */
export function plannedFile(plan: ExitNodePlan, path: string): PlannedFile | undefined {
  return plan.files.find((f) => f.path === path);
}
