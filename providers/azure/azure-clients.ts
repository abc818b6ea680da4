/**
 * The Azure Resource Manager clients, made the same way for every subscription:
 *
 * - endpoint: `--api-url` / `$AZURE_RESOURCE_MANAGER_URL`, else the service principal's
 *   `resourceManagerEndpointUrl`, else https://management.azure.com; token scope: that host's
 *   `/.default` for Azure's own hosts, the public cloud's for anything else (a proxy in front of it);
 * - the SDKs' own retries off (`maxRetries: 0`): inletsctl's shared poller is the one place that
 *   waits and honours Retry-After, and a provider call never sleeps;
 * - a per-request timeout ($INLETSCTL_API_TIMEOUT_MS, default 30 s): the SDKs have none.
 *
 * Plain http is refused, except to a loopback address (a local fake or recording proxy). The SDKs
 * refuse to send a bearer token over http at all, so for loopback only their bearer policy is
 * swapped for one that sends the same token and itself refuses any host that is not loopback.
 * Real endpoints always go through the SDKs' unmodified pipeline.
 */
import { ComputeManagementClient } from '@azure/arm-compute';
import { NetworkManagementClient } from '@azure/arm-network';
import { ResourceManagementClient } from '@azure/arm-resources';
import { createPipelineRequest, type Pipeline, type PipelinePolicy } from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/identity';
import { ProviderError } from '../../src/errors.js';
import type { ProviderContext } from '../../src/core/provider.js';
import { API_TIMEOUT_ENV } from '../shared/rest-client.js';
import { azureError, httpError, PROVIDER, readAzureError } from './azure-errors.js';
import { chooseCredential, type CredentialChoice } from './azure-credentials.js';
import { AZURE_API_URL_ENV } from './index.js';

const PUBLIC_ARM = 'https://management.azure.com';
/** Azure's Resource Manager hosts, whose tokens are scoped to themselves. */
const ARM_HOSTS = new Set(['management.azure.com', 'management.usgovcloudapi.net', 'management.chinacloudapi.cn']);
/** Subscriptions - List (a documented stable version). */
const SUBSCRIPTIONS_API_VERSION = '2022-12-01';
const DEFAULT_TIMEOUT_MS = 30_000;

export interface AzureSettings {
  /** ARM base URL, without a trailing slash. */
  endpoint: string;
  /** Token scope for ARM. */
  scope: string;
  /** True for an http:// endpoint on a loopback address. */
  insecureLoopback: boolean;
  credential: CredentialChoice;
  /** From --subscription-id / $AZURE_SUBSCRIPTION_ID, or the service principal's file. */
  subscriptionId?: string;
  /** Per-request timeout, in milliseconds. */
  timeoutMs: number;
}

/** The clients of one subscription. */
export interface AzureClients {
  subscriptionId: string;
  resources: ResourceManagementClient;
  network: NetworkManagementClient;
  compute: ComputeManagementClient;
}

/** Reads the settings from the provider context. @throws ProviderError INVALID / AUTH */
export function azureSettings(ctx: ProviderContext, env: NodeJS.ProcessEnv = process.env): AzureSettings {
  const credential = chooseCredential(ctx.credentials['access-token'], env);
  const sp = credential.servicePrincipal;
  const chosen = (ctx.apiUrl || env[AZURE_API_URL_ENV] || sp?.resourceManagerUrl || PUBLIC_ARM).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(chosen);
  } catch {
    throw new ProviderError(PROVIDER, 'INVALID', `the Azure API URL "${chosen}" is not a URL`, { retryable: false });
  }
  const insecureLoopback = url.protocol === 'http:' && isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !insecureLoopback) {
    throw new ProviderError(PROVIDER, 'INVALID', `the Azure API URL must use https (plain http only to a loopback address): ${url.origin}`, { retryable: false });
  }
  const fromOption = ctx.options['subscription-id'];
  const timeout = Number(env[API_TIMEOUT_ENV]);
  return {
    endpoint: chosen,
    scope: ARM_HOSTS.has(url.hostname.toLowerCase()) ? `${url.origin}/.default` : `${PUBLIC_ARM}/.default`,
    insecureLoopback,
    credential,
    subscriptionId: (typeof fromOption === 'string' && fromOption.trim()) || sp?.subscriptionId || undefined,
    timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : DEFAULT_TIMEOUT_MS,
  };
}

/** Makes the three ARM clients of `subscriptionId`. */
export async function makeClients(settings: AzureSettings, subscriptionId: string): Promise<AzureClients> {
  const credential = await settings.credential.credential();
  const common = clientOptions(settings);
  const resources = new ResourceManagementClient(credential, subscriptionId, { ...common, $host: settings.endpoint, endpoint: settings.endpoint, credentialScopes: [settings.scope] });
  const network = new NetworkManagementClient(credential, subscriptionId, { ...common, $host: settings.endpoint, endpoint: settings.endpoint, credentialScopes: [settings.scope] });
  const compute = new ComputeManagementClient(credential, subscriptionId, { ...common, endpoint: settings.endpoint, credentials: { scopes: [settings.scope] } });
  if (settings.insecureLoopback) {
    for (const pipeline of [resources.pipeline, network.pipeline, compute.pipeline]) useLoopbackBearer(pipeline, credential, settings.scope);
  }
  return { subscriptionId, resources, network, compute };
}

/**
 * The subscription to use when none was given: the only enabled one the credential can see.
 * @throws ProviderError INVALID listing them when there are several, or none.
 */
export async function discoverSubscription(settings: AzureSettings): Promise<string> {
  const credential = await settings.credential.credential();
  const client = new ResourceManagementClient(credential, { ...clientOptions(settings), $host: settings.endpoint, endpoint: settings.endpoint, credentialScopes: [settings.scope] });
  if (settings.insecureLoopback) useLoopbackBearer(client.pipeline, credential, settings.scope);
  const found: Array<{ subscriptionId: string; displayName?: string; state?: string }> = [];
  let next: string | undefined = `${settings.endpoint}/subscriptions?api-version=${SUBSCRIPTIONS_API_VERSION}`;
  for (let page = 0; next && page < 100; page++) {
    const body = (await getJson(client, next, settings, 'GET /subscriptions')) as { value?: typeof found; nextLink?: string };
    found.push(...(body.value ?? []).filter((s) => typeof s?.subscriptionId === 'string'));
    next = body.nextLink || undefined;
  }
  const enabled = found.filter((s) => (s.state ?? 'Enabled') === 'Enabled');
  if (enabled.length === 1) return enabled[0].subscriptionId;
  const names = enabled.map((s) => `${s.subscriptionId}${s.displayName ? ` (${s.displayName})` : ''}`).join(', ');
  throw new ProviderError(
    PROVIDER,
    'INVALID',
    enabled.length === 0
      ? 'the Azure credential sees no enabled subscription; give --subscription-id or $AZURE_SUBSCRIPTION_ID, and grant the principal a role on it'
      : `the Azure credential sees ${enabled.length} subscriptions; choose one with --subscription-id or $AZURE_SUBSCRIPTION_ID: ${names}`,
    { retryable: false },
  );
}

/**
 * GETs an ARM URL (a long-running operation's status, a page of subscriptions) through a client's
 * pipeline, so authentication and timeouts are the same as for the typed calls.
 */
export async function getJson(client: { sendRequest: ResourceManagementClient['sendRequest'] }, url: string, settings: AzureSettings, what: string): Promise<unknown> {
  const r = await requestJson(client, 'GET', url, undefined, settings, what);
  if (r.status === 404) throw httpError(what, 404, () => undefined, JSON.stringify(r.body));
  return r.body;
}

/**
 * Sends one ARM request with a JSON body (or none) through a client's pipeline. Answers 2xx and 404
 * (with Azure's error code, so callers tell a missing group from a missing resource).
 * @throws ProviderError for any other status, or when the call failed
 */
export async function requestJson(
  client: { sendRequest: ResourceManagementClient['sendRequest'] },
  method: 'GET' | 'PUT',
  url: string,
  body: unknown,
  settings: AzureSettings,
  what: string,
): Promise<{ status: number; body: Record<string, unknown>; code?: string }> {
  let response;
  try {
    const request = createPipelineRequest({ url, method, allowInsecureConnection: settings.insecureLoopback, timeout: settings.timeoutMs });
    if (body !== undefined) {
      request.headers.set('Content-Type', 'application/json');
      request.body = JSON.stringify(body);
    }
    response = await client.sendRequest(request);
  } catch (err) {
    throw azureError(err, what, settings.timeoutMs);
  }
  const text = response.bodyAsText ?? '';
  if ((response.status < 200 || response.status > 299) && response.status !== 404) throw httpError(what, response.status, (n) => response.headers.get(n), text);
  let parsed: Record<string, unknown>;
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `${what} answered ${response.status} with a body that is not JSON`, { status: response.status });
  }
  return { status: response.status, body: parsed, code: response.status === 404 ? readAzureError(parsed).code : undefined };
}

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

function clientOptions(settings: AzureSettings) {
  return {
    retryOptions: { maxRetries: 0 },
    allowInsecureConnection: settings.insecureLoopback,
    userAgentOptions: { userAgentPrefix: 'inletsctl' },
    additionalPolicies: [{ policy: timeoutPolicy(settings.timeoutMs), position: 'perCall' as const }],
  };
}

/** Gives every request a timeout (the SDKs' default is none: a hung call would hang forever). */
function timeoutPolicy(timeoutMs: number): PipelinePolicy {
  return {
    name: 'inletsctlRequestTimeout',
    sendRequest(request, next) {
      if (!request.timeout) request.timeout = timeoutMs;
      return next(request);
    },
  };
}

/** Replaces the SDK's bearer policy for an http loopback endpoint (see the file comment). */
function useLoopbackBearer(pipeline: Pipeline, credential: TokenCredential, scope: string): void {
  pipeline.removePolicy({ name: 'bearerTokenAuthenticationPolicy' });
  pipeline.addPolicy(
    {
      name: 'inletsctlLoopbackBearer',
      async sendRequest(request, next) {
        const url = new URL(request.url);
        if (url.protocol !== 'https:' && !isLoopbackHost(url.hostname)) {
          throw new ProviderError(PROVIDER, 'INVALID', `refusing to send an Azure token over plain http to ${url.host}`, { retryable: false });
        }
        const token = await credential.getToken(scope, { abortSignal: request.abortSignal });
        if (!token) throw new ProviderError(PROVIDER, 'AUTH', 'the Azure credential returned no token', { retryable: false });
        request.headers.set('Authorization', `Bearer ${token.token}`);
        return next(request);
      },
    },
    { phase: 'Sign' },
  );
}
