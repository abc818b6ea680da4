/**
 * The Compute Engine API through the official SDK, `@google-cloud/compute` (its REST transport):
 * the clients inletsctl uses, their credentials and endpoint, and one wrapper per call that turns
 * every failure into a {@link ProviderError}.
 *
 * Credentials, in order: a service-account key (JSON) or an OAuth 2 access token given as the
 * secret (`--access-token-file key.json`, `--access-token`, `$GOOGLE_OAUTH_ACCESS_TOKEN`); else
 * Application Default Credentials. A service-account key signs its own JWTs (Google's
 * "self-signed JWT" for GAPIC clients), so it needs no token endpoint at all.
 *
 * Endpoint: `--api-url`/`$GCE_API_URL` (`http(s)://host[:port]`, no path: the SDK adds
 * `/compute/v1/...`), else compute.googleapis.com. Every request has a timeout
 * ($INLETSCTL_API_TIMEOUT_MS, default 30 s) and the SDK's own retries are off: the shared poller
 * decides what to repeat.
 *
 * The SDK is loaded with a computed specifier and typed here by the few fields we use: its type
 * declarations are 32 MB and would add seconds and ~600 MB to every type-check of the project.
 */
import { API_TIMEOUT_ENV } from '../shared/rest-client.js';
import { ProviderError } from '../../src/errors.js';
import { toProviderError } from './gce-errors.js';

const PROVIDER = 'gce';
const DEFAULT_TIMEOUT_MS = 30_000;
/** No SDK retries: one call is one request. */
const CALL_OPTIONS = { maxRetries: 0, autoPaginate: false };

/** Fields of a compute v1 Operation that we read. */
export interface GceOperation {
  name?: string | null;
  status?: string | null;
  targetId?: string | null;
  zone?: string | null;
  region?: string | null;
  operationType?: string | null;
  httpErrorStatusCode?: number | null;
  httpErrorMessage?: string | null;
  error?: { errors?: Array<{ code?: string | null; message?: string | null }> | null } | null;
}

export interface GceInstance {
  id?: string | null;
  name?: string | null;
  status?: string | null;
  zone?: string | null;
  labels?: Record<string, string> | null;
  creationTimestamp?: string | null;
  networkInterfaces?: Array<{ accessConfigs?: Array<{ natIP?: string | null }> | null }> | null;
}

export interface GceFirewall {
  name?: string | null;
  description?: string | null;
  targetTags?: string[] | null;
}

export interface GceAddress {
  name?: string | null;
  address?: string | null;
  status?: string | null;
  labels?: Record<string, string> | null;
}

interface Lro {
  latestResponse: GceOperation;
}
type Call<Req, Res> = (request: Req, options: typeof CALL_OPTIONS) => Promise<[Res, ...unknown[]]>;
type Where = { project: string };

interface InstancesClient {
  insert: Call<Where & { zone: string; instanceResource: Record<string, unknown> }, Lro>;
  get: Call<Where & { zone: string; instance: string }, GceInstance>;
  delete: Call<Where & { zone: string; instance: string }, Lro>;
  aggregatedListAsync(request: Where & { filter?: string; maxResults?: number }, options: typeof CALL_OPTIONS): AsyncIterable<[string, { instances?: GceInstance[] | null }]>;
}
interface FirewallsClient {
  insert: Call<Where & { firewallResource: Record<string, unknown> }, Lro>;
  get: Call<Where & { firewall: string }, GceFirewall>;
  delete: Call<Where & { firewall: string }, Lro>;
}
interface AddressesClient {
  insert: Call<Where & { region: string; addressResource: Record<string, unknown> }, Lro>;
  get: Call<Where & { region: string; address: string }, GceAddress>;
  delete: Call<Where & { region: string; address: string }, Lro>;
}
interface OperationsClient<Scope> {
  get: Call<Where & Scope & { operation: string }, GceOperation>;
  wait: Call<Where & Scope & { operation: string }, GceOperation>;
}
interface AuthLike {
  getProjectId(): Promise<string>;
}

/** Where an operation lives, to look it up again. */
export type OperationScope = { kind: 'zone'; zone: string } | { kind: 'region'; region: string } | { kind: 'global' };

export interface GceApiOptions {
  /** The secret: a JSON key (service account, or any ADC JSON) or an OAuth 2 access token. */
  secret?: string;
  /** `--project-id` / $GOOGLE_CLOUD_PROJECT. */
  projectId?: string;
  /** API base URL override. */
  apiUrl?: string;
  timeoutMs?: number;
}

/** The clients, made on first use (loading the SDK takes about a second). */
export class GceApi {
  private clients?: Promise<{ instances: InstancesClient; firewalls: FirewallsClient; addresses: AddressesClient; zoneOps: OperationsClient<{ zone: string }>; regionOps: OperationsClient<{ region: string }>; globalOps: OperationsClient<object>; auth: AuthLike }>;
  private project?: Promise<string>;
  readonly timeoutMs: number;

  constructor(private readonly options: GceApiOptions) {
    const fromEnv = Number(process.env[API_TIMEOUT_ENV]);
    this.timeoutMs = options.timeoutMs ?? (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_TIMEOUT_MS);
    endpointOptions(options.apiUrl); // a bad URL fails now, not at the first call
  }

  /** The project every call names. */
  projectId(): Promise<string> {
    this.project ??= this.findProject();
    this.project.catch(() => (this.project = undefined)); // a failed lookup may be retried
    return this.project;
  }

  async insertInstance(zone: string, instanceResource: Record<string, unknown>): Promise<GceOperation> {
    return this.call('instances.insert', async (c, project) => (await c.instances.insert({ project, zone, instanceResource }, CALL_OPTIONS))[0].latestResponse);
  }
  async getInstance(zone: string, instance: string): Promise<GceInstance | undefined> {
    return this.orNotFound(this.call('instances.get', async (c, project) => (await c.instances.get({ project, zone, instance }, CALL_OPTIONS))[0]));
  }
  async deleteInstance(zone: string, instance: string): Promise<GceOperation> {
    return this.call('instances.delete', async (c, project) => (await c.instances.delete({ project, zone, instance }, CALL_OPTIONS))[0].latestResponse);
  }
  /** Instances matching `filter` in every zone, with their zone names. */
  async listInstances(filter: string): Promise<Array<{ zone: string; instance: GceInstance }>> {
    return this.call('instances.aggregatedList', async (c, project) => {
      const out: Array<{ zone: string; instance: GceInstance }> = [];
      for await (const [scope, list] of c.instances.aggregatedListAsync({ project, filter, maxResults: 500 }, CALL_OPTIONS)) {
        for (const instance of list.instances ?? []) out.push({ zone: scope.replace(/^zones\//, ''), instance });
      }
      return out;
    });
  }
  async insertFirewall(firewallResource: Record<string, unknown>): Promise<GceOperation> {
    return this.call('firewalls.insert', async (c, project) => (await c.firewalls.insert({ project, firewallResource }, CALL_OPTIONS))[0].latestResponse);
  }
  async getFirewall(firewall: string): Promise<GceFirewall | undefined> {
    return this.orNotFound(this.call('firewalls.get', async (c, project) => (await c.firewalls.get({ project, firewall }, CALL_OPTIONS))[0]));
  }
  async deleteFirewall(firewall: string): Promise<GceOperation> {
    return this.call('firewalls.delete', async (c, project) => (await c.firewalls.delete({ project, firewall }, CALL_OPTIONS))[0].latestResponse);
  }
  async insertAddress(region: string, addressResource: Record<string, unknown>): Promise<GceOperation> {
    return this.call('addresses.insert', async (c, project) => (await c.addresses.insert({ project, region, addressResource }, CALL_OPTIONS))[0].latestResponse);
  }
  async getAddress(region: string, address: string): Promise<GceAddress | undefined> {
    return this.orNotFound(this.call('addresses.get', async (c, project) => (await c.addresses.get({ project, region, address }, CALL_OPTIONS))[0]));
  }
  async deleteAddress(region: string, address: string): Promise<GceOperation> {
    return this.call('addresses.delete', async (c, project) => (await c.addresses.delete({ project, region, address }, CALL_OPTIONS))[0].latestResponse);
  }
  /** The operation now (never waits for it: `wait` would hold the CLI for up to two minutes). */
  async getOperation(scope: OperationScope, operation: string): Promise<GceOperation> {
    if (scope.kind === 'zone') return this.call('zoneOperations.get', async (c, project) => (await c.zoneOps.get({ project, zone: scope.zone, operation }, CALL_OPTIONS))[0]);
    if (scope.kind === 'region') return this.call('regionOperations.get', async (c, project) => (await c.regionOps.get({ project, region: scope.region, operation }, CALL_OPTIONS))[0]);
    return this.call('globalOperations.get', async (c, project) => (await c.globalOps.get({ project, operation }, CALL_OPTIONS))[0]);
  }

  /**
   * regionOperations.wait: Compute Engine answers when the operation is DONE or after about two
   * minutes (then still RUNNING); one call, bounded by the per-call limit, never a loop here.
   */
  waitRegionOperation(region: string, operation: string): Promise<GceOperation> {
    return this.call('regionOperations.wait', async (c, project) => (await c.regionOps.wait({ project, region, operation }, CALL_OPTIONS))[0]);
  }

  private async call<T>(what: string, run: (clients: Awaited<NonNullable<GceApi['clients']>>, project: string) => Promise<T>): Promise<T> {
    const project = await this.projectId();
    const clients = await this.load();
    try {
      return await run(clients, project);
    } catch (err) {
      throw toProviderError(err, what, this.timeoutMs);
    }
  }

  private async orNotFound<T>(p: Promise<T>): Promise<T | undefined> {
    try {
      return await p;
    } catch (err) {
      if (err instanceof ProviderError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  private async findProject(): Promise<string> {
    if (this.options.projectId) return this.options.projectId;
    const key = parseJsonSecret(this.options.secret);
    const fromKey = key?.project_id ?? key?.quota_project_id;
    if (typeof fromKey === 'string' && fromKey) return fromKey;
    if (this.options.secret && !key) {
      throw new ProviderError(PROVIDER, 'AUTH', 'no Google Cloud project: an access token does not name one; give --project-id or set $GOOGLE_CLOUD_PROJECT', { retryable: false });
    }
    const { auth } = await this.load();
    try {
      // Application Default Credentials: $GOOGLE_CLOUD_PROJECT, the credentials file, gcloud's
      // configuration, or the metadata server, in google-auth-library's order.
      return await auth.getProjectId();
    } catch (err) {
      throw new ProviderError(PROVIDER, 'AUTH', `no Google Cloud project: give --project-id or set $GOOGLE_CLOUD_PROJECT (${(err as Error)?.message ?? String(err)})`, { retryable: false });
    }
  }

  private load(): NonNullable<GceApi['clients']> {
    this.clients ??= loadClients(this.options, this.timeoutMs);
    return this.clients;
  }
}

/** Builds the SDK clients, sharing one credential. */
async function loadClients(options: GceApiOptions, timeoutMs: number) {
  // Computed specifiers: see the file comment. google-gax is the SDK's own runtime (it re-exports
  // google-auth-library), so the credential classes are the very ones the clients use.
  const v1 = '@google-cloud/compute/build/src/v1/';
  const load = (file: string) => import(/* @vite-ignore */ `${v1}${file}`) as Promise<Record<string, new (opts: object) => unknown>>;
  const gaxName = 'google-gax';
  const gax = (await import(/* @vite-ignore */ gaxName)) as unknown as GaxModule;
  const [instances, firewalls, addresses, zoneOps, regionOps, globalOps] = await Promise.all([
    load('instances_client.js'), load('firewalls_client.js'), load('addresses_client.js'),
    load('zone_operations_client.js'), load('region_operations_client.js'), load('global_operations_client.js'),
  ]);
  const clientOptions = { transporterOptions: { timeout: timeoutMs } };
  const key = parseJsonSecret(options.secret);
  let auth: AuthLike & object;
  let authOption: object;
  if (key) {
    auth = new gax.GoogleAuth({ credentials: key, clientOptions });
    authOption = { auth };
  } else if (options.secret) {
    const client = new gax.googleAuthLibrary.OAuth2Client(clientOptions);
    client.setCredentials({ access_token: options.secret });
    auth = { getProjectId: () => Promise.reject(new Error('an access token names no project')) };
    authOption = { authClient: client };
  } else {
    auth = new gax.GoogleAuth({ clientOptions });
    authOption = { auth };
  }
  const common = { ...endpointOptions(options.apiUrl), ...authOption, fallback: true };
  const make = <T>(mod: Record<string, new (opts: object) => unknown>, name: string): T => new mod[name](common) as T;
  return {
    instances: make<InstancesClient>(instances, 'InstancesClient'),
    firewalls: make<FirewallsClient>(firewalls, 'FirewallsClient'),
    addresses: make<AddressesClient>(addresses, 'AddressesClient'),
    zoneOps: make<OperationsClient<{ zone: string }>>(zoneOps, 'ZoneOperationsClient'),
    regionOps: make<OperationsClient<{ region: string }>>(regionOps, 'RegionOperationsClient'),
    globalOps: make<OperationsClient<object>>(globalOps, 'GlobalOperationsClient'),
    auth,
  };
}

interface GaxModule {
  GoogleAuth: new (opts: object) => AuthLike;
  googleAuthLibrary: { OAuth2Client: new (opts: object) => { setCredentials(c: { access_token: string }): void } };
}

/** The SDK's endpoint options for an API URL override, or none for the real endpoint. */
export function endpointOptions(apiUrl: string | undefined): Record<string, unknown> {
  if (!apiUrl) return {};
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new ProviderError(PROVIDER, 'INVALID', `the API URL "${apiUrl}" is not a URL`, { retryable: false });
  }
  if (!/^https?:$/.test(url.protocol) || (url.pathname !== '/' && url.pathname !== '') || url.search) {
    throw new ProviderError(PROVIDER, 'INVALID', `the API URL must be http(s)://host[:port] without a path (the SDK adds /compute/v1/...), not "${apiUrl}"`, { retryable: false });
  }
  const protocol = url.protocol.slice(0, -1);
  return { apiEndpoint: url.hostname, port: Number(url.port || (protocol === 'https' ? 443 : 80)), protocol };
}

/** The secret as a JSON credential, when it is one. */
export function parseJsonSecret(secret: string | undefined): Record<string, unknown> | undefined {
  if (!secret || !secret.trimStart().startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(secret) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through: never echo the secret
  }
  throw new ProviderError(PROVIDER, 'AUTH', 'the Google credential looks like JSON but does not parse as a key file', { retryable: false });
}
