/**
 * OpenStack authentication: the settings from flags, the standard `OS_*` environment variables and
 * clouds.yaml (`--os-cloud` / $OS_CLOUD), then one Keystone v3 token issue, whose answer carries the
 * service catalog: the compute and network endpoints of the region are picked from it.
 *
 * Keystone v3 token issue: https://docs.openstack.org/api-ref/identity/v3/#password-authentication-with-scoped-authorization
 * and application credentials: https://docs.openstack.org/api-ref/identity/v3/#authenticating-with-an-application-credential
 */
import { ProviderError } from '../../src/errors.js';
import type { ProviderContext } from '../../src/core/provider.js';
import { RestClient, parseRetryAfter, type CloudErrorInfo } from '../shared/rest-client.js';
import { readCloudEntry, type YamlMap } from './clouds-yaml.js';

/** Everything needed to ask Keystone for a token. Secrets stay in this object only. */
export interface OpenStackAuth {
  authUrl: string;
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  applicationCredentialSecret?: string;
  username?: string;
  userId?: string;
  password?: string;
  userDomainName: string;
  projectId?: string;
  projectName?: string;
  projectDomainName: string;
  interface: string;
}

/** One catalog endpoint, as Keystone v3 lists it. */
interface CatalogEntry {
  type: string;
  endpoints?: Array<{ interface?: string; region?: string; region_id?: string; url?: string }>;
}

export interface Session {
  token: string;
  compute: string;
  network: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

/**
 * The settings, each from the first place that has it: flag (or its env var, which the CLI
 * resolves), the `OS_*` variable, then the clouds.yaml entry named by --os-cloud / $OS_CLOUD.
 * @param defaultAuthUrl the cloud's Keystone when nothing names one (OVHcloud's), else undefined
 * @throws ProviderError AUTH when no auth URL or no usable credential is found
 */
export function resolveAuth(provider: string, ctx: ProviderContext, defaultAuthUrl: string | undefined, env: NodeJS.ProcessEnv = process.env): OpenStackAuth {
  const o = ctx.options;
  const cloudName = str(o['os-cloud']) ?? str(env.OS_CLOUD);
  const entry: YamlMap = cloudName ? (readCloudEntry(cloudName, env) ?? {}) : {};
  if (cloudName && Object.keys(entry).length === 0) throw new ProviderError(provider, 'AUTH', `no cloud "${cloudName}" in clouds.yaml (looked in ./clouds.yaml, ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml)`, { retryable: false });
  const a = (typeof entry.auth === 'object' ? entry.auth : {}) as YamlMap;
  const pick = (flag: string, envName: string, key: string, from: YamlMap = a): string | undefined => str(o[flag]) ?? str(env[envName]) ?? str(from[key]);
  const authUrl = ctx.apiUrl ?? pick('auth-url', 'OS_AUTH_URL', 'auth_url') ?? defaultAuthUrl;
  if (!authUrl) throw new ProviderError(provider, 'AUTH', 'no Keystone URL: give --auth-url, $OS_AUTH_URL or --os-cloud with a clouds.yaml entry', { retryable: false });
  const auth: OpenStackAuth = {
    authUrl: keystoneV3(authUrl),
    applicationCredentialId: pick('application-credential-id', 'OS_APPLICATION_CREDENTIAL_ID', 'application_credential_id'),
    applicationCredentialName: pick('application-credential-name', 'OS_APPLICATION_CREDENTIAL_NAME', 'application_credential_name'),
    applicationCredentialSecret: str(ctx.credentials['application-credential-secret']) ?? str(env.OS_APPLICATION_CREDENTIAL_SECRET) ?? str(a.application_credential_secret),
    username: pick('username', 'OS_USERNAME', 'username'),
    userId: str(env.OS_USER_ID) ?? str(a.user_id),
    password: str(ctx.credentials.password) ?? str(env.OS_PASSWORD) ?? str(a.password),
    userDomainName: pick('user-domain-name', 'OS_USER_DOMAIN_NAME', 'user_domain_name') ?? str(env.OS_DOMAIN_NAME) ?? 'Default',
    projectId: str(o['project-id']) ?? str(env.OS_PROJECT_ID) ?? str(env.OS_TENANT_ID) ?? str(a.project_id),
    projectName: pick('project-name', 'OS_PROJECT_NAME', 'project_name') ?? str(env.OS_TENANT_NAME),
    projectDomainName: pick('project-domain-name', 'OS_PROJECT_DOMAIN_NAME', 'project_domain_name') ?? 'Default',
    interface: pick('interface', 'OS_INTERFACE', 'interface', entry) ?? 'public',
  };
  const appCred = (auth.applicationCredentialId || auth.applicationCredentialName) && auth.applicationCredentialSecret;
  const password = (auth.username || auth.userId) && auth.password && (auth.projectId || auth.projectName);
  if (!appCred && !password) {
    throw new ProviderError(
      provider,
      'AUTH',
      'no OpenStack credential: give an application credential (--application-credential-id with --application-credential-secret, or $OS_APPLICATION_CREDENTIAL_ID and $OS_APPLICATION_CREDENTIAL_SECRET), or a user, password and project ($OS_USERNAME, $OS_PASSWORD, $OS_PROJECT_ID or $OS_PROJECT_NAME), or --os-cloud with clouds.yaml',
      { retryable: false },
    );
  }
  return auth;
}

/** Keystone's v3 root: `https://auth.example/` and `…/v3/` both become `…/v3`. */
export function keystoneV3(url: string): string {
  const u = url.replace(/\/+$/, '');
  return /\/v3$/.test(u) ? u : `${u}/v3`;
}

/** The body of POST /v3/auth/tokens for these settings (application credential first). */
export function tokenRequest(auth: OpenStackAuth): unknown {
  if ((auth.applicationCredentialId || auth.applicationCredentialName) && auth.applicationCredentialSecret) {
    const credential = auth.applicationCredentialId
      ? { id: auth.applicationCredentialId, secret: auth.applicationCredentialSecret }
      : { name: auth.applicationCredentialName, secret: auth.applicationCredentialSecret, user: auth.userId ? { id: auth.userId } : { name: auth.username, domain: { name: auth.userDomainName } } };
    // An application credential is bound to its project: Keystone refuses a scope beside it.
    return { auth: { identity: { methods: ['application_credential'], application_credential: credential } } };
  }
  const user = auth.userId ? { id: auth.userId, password: auth.password } : { name: auth.username, domain: { name: auth.userDomainName }, password: auth.password };
  const project = auth.projectId ? { id: auth.projectId } : { name: auth.projectName, domain: { name: auth.projectDomainName } };
  return { auth: { identity: { methods: ['password'], password: { user } }, scope: { project } } };
}

/** Reads the error bodies of Keystone (`error`), Nova (`{ badRequest: {…} }`) and Neutron (`NeutronError`). */
export function readOpenStackError(status: number, body: unknown): CloudErrorInfo {
  const b = (body ?? {}) as Record<string, unknown>;
  let info: CloudErrorInfo = {};
  const keystone = b.error as { message?: unknown; title?: unknown } | undefined;
  const neutron = b.NeutronError as { type?: unknown; message?: unknown } | undefined;
  if (keystone && typeof keystone === 'object') info = { cloudCode: str(keystone.title), message: str(keystone.message) };
  else if (neutron && typeof neutron === 'object') info = { cloudCode: str(neutron.type), message: str(neutron.message) };
  else {
    // Nova wraps the error in one key naming its kind: badRequest, itemNotFound, forbidden, overLimit…
    const [kind] = Object.keys(b);
    const inner = kind ? (b[kind] as { message?: unknown } | undefined) : undefined;
    if (inner && typeof inner === 'object') info = { cloudCode: kind, message: str(inner.message) };
  }
  if ((status === 403 || status === 413 || status === 409) && info.message && /quota/i.test(info.message)) info.code = 'QUOTA';
  // Nova's rate limiting answers 413 overLimit with Retry-After.
  else if (status === 413 && info.cloudCode === 'overLimit') info.code = 'RATE_LIMITED';
  return info;
}

/**
 * Issues a token and picks the compute and network endpoints of `region` from its catalog.
 * @throws ProviderError AUTH (refused), INVALID when the catalog lacks the service in the region
 */
export async function openSession(provider: string, auth: OpenStackAuth, region: string): Promise<Session> {
  const keystone = new RestClient({
    provider, baseUrl: auth.authUrl, token: '', readError: readOpenStackError, authHeaders: () => ({}), retryAfterMs: (h) => parseRetryAfter(h.get('retry-after')),
  });
  const res = await keystone.request<{ token?: { catalog?: CatalogEntry[] } }>('POST', '/auth/tokens', { body: tokenRequest(auth) });
  const token = res.headers.get('x-subject-token');
  if (!token) throw new ProviderError(provider, 'API_UNAVAILABLE', 'POST /v3/auth/tokens answered without X-Subject-Token');
  const catalog = res.body?.token?.catalog ?? [];
  const endpoint = (type: string): string => {
    const service = catalog.find((c) => c.type === type);
    const e = service?.endpoints?.find((x) => x.interface === auth.interface && (x.region_id === region || x.region === region));
    if (!e?.url) {
      const regions = [...new Set((service?.endpoints ?? []).map((x) => x.region_id ?? x.region))].join(', ') || 'none';
      throw new ProviderError(provider, 'INVALID', `the service catalog has no ${auth.interface} ${type} endpoint in region ${region} (regions with one: ${regions})`, { retryable: false });
    }
    return e.url.replace(/\/+$/, '');
  };
  return { token, compute: endpoint('compute'), network: endpoint('network') };
}
