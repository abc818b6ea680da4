/**
 * The two npm registry calls `download --version` needs: the package document ("packument", the
 * registry's JSON about every version of a package) and one version's tarball. Plain `fetch` with a
 * timeout and a size bound; credentials go only where {@link NpmConfig.authHeaderFor} allows.
 * URLs in messages have any user:password and query string removed.
 */
import { CodedError } from '../../errors.js';
import type { NpmConfig } from './npm-config.js';

/** Largest packument or tarball we accept, in bytes. Our tarball is well under 10 MiB. */
export const MAX_RESPONSE_BYTES = 200 * 1024 * 1024;

/** What we read of one version in a packument. */
export interface VersionInfo {
  version: string;
  tarball: string;
  integrity?: string;
  shasum?: string;
}

export interface RegistryOptions {
  config: NpmConfig;
  /** Per request, in milliseconds. Default 120 000. */
  timeoutMs?: number;
  userAgent?: string;
}

/** `https://user:secret@host/x?sig=…` → `https://host/x`, for messages (signed URLs carry secrets too). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '(an invalid URL)';
  }
}

async function get(url: string, accept: string, opts: RegistryOptions): Promise<Buffer> {
  const headers: Record<string, string> = { accept, 'user-agent': opts.userAgent ?? 'inletsctl' };
  const auth = opts.config.authHeaderFor(url);
  if (auth) headers.authorization = auth;
  let res: Response;
  try {
    res = await fetch(url, { headers, redirect: 'follow', signal: AbortSignal.timeout(opts.timeoutMs ?? 120_000) });
  } catch (err) {
    throw new CodedError('DOWNLOAD_NETWORK', `cannot reach ${redactUrl(url)} (${networkReason(err)})`, { cause: err });
  }
  if (!res.ok) {
    await res.body?.cancel();
    if (res.status === 404) throw new CodedError('DOWNLOAD_NOT_FOUND', `${redactUrl(url)} answered 404 Not Found`);
    if (res.status === 401 || res.status === 403) {
      throw new CodedError(
        'DOWNLOAD_REGISTRY_AUTH',
        `${redactUrl(url)} refused access (HTTP ${res.status})${auth ? ' with the credentials from your npm config' : '; log in with: npm login --registry ' + redactUrl(opts.config.registry)}`,
      );
    }
    throw new CodedError('DOWNLOAD_REGISTRY_ERROR', `${redactUrl(url)} answered HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_RESPONSE_BYTES) {
    await res.body?.cancel();
    throw new CodedError('DOWNLOAD_REGISTRY_ERROR', `${redactUrl(url)} is ${declared} bytes, more than the ${MAX_RESPONSE_BYTES} we accept`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body ?? []) {
      total += chunk.length;
      if (total > MAX_RESPONSE_BYTES) throw new CodedError('DOWNLOAD_REGISTRY_ERROR', `${redactUrl(url)} is larger than the ${MAX_RESPONSE_BYTES} bytes we accept`);
      chunks.push(Buffer.from(chunk));
    }
  } catch (err) {
    if (err instanceof CodedError) throw err;
    throw new CodedError('DOWNLOAD_NETWORK', `reading ${redactUrl(url)} failed (${(err as Error).name})`, { cause: err });
  }
  return Buffer.concat(chunks);
}

/**
 * Why fetch failed, in one line: fetch throws a bare "TypeError: fetch failed" and keeps the reason
 * (ECONNREFUSED, ENOTFOUND, "bad port", a timeout) in `cause`, sometimes as an AggregateError.
 */
export function networkReason(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: unknown };
  if (e?.name === 'TimeoutError') return 'timed out';
  const cause = e?.cause as { code?: string; message?: string; errors?: { code?: string; message?: string }[] } | undefined;
  const inner = cause?.errors?.[0] ?? cause;
  const text = inner?.code ?? inner?.message ?? e?.message ?? String(err);
  return text.split('\n')[0];
}

/** The packument URL: the registry plus the name, with a scope's slash escaped as npm does. */
export function packumentUrl(registry: string, name: string): string {
  return registry + encodeURIComponent(name).replace(/^%40/, '@');
}

/**
 * Finds `version` (or a dist-tag such as `latest`) of `name`. Throws CodedError
 * `DOWNLOAD_PACKAGE_NOT_FOUND` or `DOWNLOAD_VERSION_NOT_FOUND` (listing the newest versions).
 */
export async function resolveVersion(name: string, version: string, opts: RegistryOptions): Promise<VersionInfo> {
  const url = packumentUrl(opts.config.registry, name);
  let body: Buffer;
  try {
    // The abbreviated ("corgi") document is much smaller and has everything we need.
    body = await get(url, 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8', opts);
  } catch (err) {
    if (err instanceof CodedError && err.code === 'DOWNLOAD_NOT_FOUND') {
      throw new CodedError('DOWNLOAD_PACKAGE_NOT_FOUND', `package ${name} is not in the registry ${redactUrl(opts.config.registry)}`);
    }
    throw err;
  }
  let doc: { versions?: Record<string, { dist?: { tarball?: string; integrity?: string; shasum?: string } }>; 'dist-tags'?: Record<string, string> };
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new CodedError('DOWNLOAD_REGISTRY_ERROR', `${redactUrl(url)} did not answer JSON`, { cause: err });
  }
  const versions = doc.versions ?? {};
  const wanted = doc['dist-tags']?.[version] ?? version.replace(/^v(?=\d)/, '');
  const entry = Object.hasOwn(versions, wanted) ? versions[wanted] : undefined;
  if (!entry) {
    const known = Object.keys(versions);
    const newest = known.slice(-5).join(', ');
    throw new CodedError(
      'DOWNLOAD_VERSION_NOT_FOUND',
      `${name}@${version} is not in the registry ${redactUrl(opts.config.registry)}` + (known.length ? ` (it has ${known.length} versions; newest: ${newest})` : ' (it has no versions)'),
    );
  }
  if (!entry.dist?.tarball) throw new CodedError('DOWNLOAD_REGISTRY_ERROR', `${name}@${wanted}: the registry gives no tarball URL`);
  return { version: wanted, tarball: entry.dist.tarball, integrity: entry.dist.integrity, shasum: entry.dist.shasum };
}

/** Downloads a tarball (bounded by {@link MAX_RESPONSE_BYTES}). Verify it before use. */
export async function fetchTarball(info: VersionInfo, opts: RegistryOptions): Promise<Buffer> {
  return get(info.tarball, 'application/octet-stream', opts);
}
