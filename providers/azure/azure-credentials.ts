/**
 * Which Azure credential to use, from what the CLI resolved for `--access-token` /
 * `--access-token-file` / `$INLETS_ACCESS_TOKEN`:
 *
 * - JSON: a service principal, as printed by `az ad sp create-for-rbac` (`appId`, `password`,
 *   `tenant`) or by its older `--sdk-auth` form (`clientId`, `clientSecret`, `tenantId`, and
 *   optionally `subscriptionId`, `activeDirectoryEndpointUrl`, `resourceManagerEndpointUrl`):
 *   ClientSecretCredential.
 * - Any other text: an ARM access token, for example from `az account get-access-token`; used as
 *   it is until it expires.
 * - Nothing: DefaultAzureCredential (environment variables AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/
 *   AZURE_TENANT_ID, workload identity, managed identity, Azure CLI, …).
 *
 * The authority (token endpoint host) is the file's `activeDirectoryEndpointUrl`, else
 * `$AZURE_AUTHORITY_HOST` (the identity library's own variable), else Microsoft Entra ID's public
 * cloud. Instance discovery (a call to login.microsoftonline.com that validates the authority) is
 * turned off for authorities that are not Microsoft's: Azure Stack Hub, private clouds, test fakes.
 *
 * @azure/identity is imported only when a service principal or the default chain is used.
 */
import type { AccessToken, TokenCredential } from '@azure/identity';
import { ProviderError } from '../../src/errors.js';
import { PROVIDER } from './azure-errors.js';

/** Microsoft's own authority hosts (public cloud, US Government, China). */
const MICROSOFT_AUTHORITIES = new Set(['login.microsoftonline.com', 'login.microsoftonline.us', 'login.chinacloudapi.cn', 'login.partner.microsoftonline.cn']);

/** A service principal read from the file (secret included: never log it). */
export interface ServicePrincipal {
  clientId: string;
  clientSecret: string;
  tenantId: string;
  subscriptionId?: string;
  authorityHost?: string;
  resourceManagerUrl?: string;
}

/** What kind of credential was chosen, for messages and tests. */
export type CredentialKind = 'service-principal' | 'access-token' | 'default';

export interface CredentialChoice {
  kind: CredentialKind;
  servicePrincipal?: ServicePrincipal;
  /** The credential itself, made on first use (the identity library loads then). */
  credential(): Promise<TokenCredential>;
}

/**
 * Chooses the credential for `secret` (the value of --access-token, or the contents of
 * --access-token-file).
 * @throws ProviderError AUTH when the JSON is malformed or lacks a field (naming the field only).
 */
export function chooseCredential(secret: string | undefined, env: NodeJS.ProcessEnv = process.env): CredentialChoice {
  const text = secret?.trim();
  if (!text) {
    return { kind: 'default', credential: once(async () => new (await import('@azure/identity')).DefaultAzureCredential()) };
  }
  if (!text.startsWith('{')) {
    const token = new StaticTokenCredential(text);
    return { kind: 'access-token', credential: async () => token };
  }
  const sp = parseServicePrincipal(text);
  const authorityHost = sp.authorityHost ?? nonEmpty(env.AZURE_AUTHORITY_HOST);
  return {
    kind: 'service-principal',
    servicePrincipal: sp,
    credential: once(async () => {
      const { ClientSecretCredential } = await import('@azure/identity');
      return new ClientSecretCredential(sp.tenantId, sp.clientId, sp.clientSecret, {
        authorityHost,
        disableInstanceDiscovery: authorityHost !== undefined && !isMicrosoftAuthority(authorityHost),
      });
    }),
  };
}

/** Reads a service principal in either of the az CLI's JSON shapes. */
export function parseServicePrincipal(text: string): ServicePrincipal {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ProviderError(PROVIDER, 'AUTH', 'the Azure credential looks like JSON but does not parse; give the output of `az ad sp create-for-rbac` unchanged', { retryable: false });
  }
  const pick = (...keys: string[]): string | undefined => {
    for (const k of keys) {
      const v = raw[k];
      if (typeof v === 'string' && v.trim()) return v.trim();
    }
    return undefined;
  };
  const clientId = pick('appId', 'clientId');
  const clientSecret = pick('password', 'clientSecret');
  const tenantId = pick('tenant', 'tenantId');
  const missing = [!clientId && 'appId (or clientId)', !clientSecret && 'password (or clientSecret)', !tenantId && 'tenant (or tenantId)'].filter(Boolean);
  if (missing.length > 0) {
    throw new ProviderError(PROVIDER, 'AUTH', `the Azure service-principal JSON lacks ${missing.join(', ')}; create it with: az ad sp create-for-rbac --role Contributor --scopes /subscriptions/<id>`, {
      retryable: false,
    });
  }
  return {
    clientId: clientId!,
    clientSecret: clientSecret!,
    tenantId: tenantId!,
    subscriptionId: pick('subscriptionId'),
    authorityHost: pick('activeDirectoryEndpointUrl')?.replace(/\/+$/, ''),
    resourceManagerUrl: pick('resourceManagerEndpointUrl')?.replace(/\/+$/, ''),
  };
}

export function isMicrosoftAuthority(url: string): boolean {
  try {
    return MICROSOFT_AUTHORITIES.has(new URL(url).hostname.toLowerCase());
  } catch {
    return false;
  }
}

/**
 * A bearer token given as it is. Its expiry is read from the token when it is a JWT (without
 * verifying it: Azure does that), else assumed an hour away, as `az account get-access-token` gives.
 */
export class StaticTokenCredential implements TokenCredential {
  private readonly expiresOnTimestamp: number;

  constructor(private readonly token: string) {
    this.expiresOnTimestamp = jwtExpiry(token) ?? Date.now() + 3600_000;
  }

  async getToken(): Promise<AccessToken> {
    return { token: this.token, expiresOnTimestamp: this.expiresOnTimestamp };
  }
}

/** The `exp` claim of a JWT, in milliseconds, or undefined when `token` is not one. */
function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

function nonEmpty(v: string | undefined): string | undefined {
  return v && v.trim() ? v.trim().replace(/\/+$/, '') : undefined;
}
