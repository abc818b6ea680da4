/**
 * The Hetzner Cloud provider: one server per tunnel, and optionally one firewall.
 *
 * Everything carries the labels of providers/shared/marks.ts (`managed-by=inletsctl`,
 * `inletsctl-name`, `inletsctl-tunnel`): delete and clean-up select by the tunnel label only, so a
 * server of the same name made by someone else is never touched. Hetzner answers most changes with
 * actions that finish later and may fail on their own: every response is checked, and so is
 * every action it starts (`status` keeps checking them while the server is not running).
 * API reference: https://docs.hetzner.cloud/
 */
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest, Host, HostRef, HostStatus, Provider, ProviderContext } from '../../src/core/provider.js';
import { RestClient, apiBaseUrl, notRetryable, parseRetryAfter, type CloudErrorInfo } from '../shared/rest-client.js';
import { LABEL, MANAGED_BY_VALUE, labelsFor, readLabels } from '../shared/marks.js';
import { refuseUnmarked, requireIdentity } from '../shared/ownership.js';
import { allPages, itemsOf } from '../shared/pages.js';
import { HETZNER_API_URL_ENV } from './index.js';

const PROVIDER = 'hetzner';
const DEFAULT_API_URL = 'https://api.hetzner.cloud/v1';
/** Largest page the API serves. */
const PAGE_SIZE = 50;
/** The label selector of everything inletsctl made, and of one tunnel. */
const OURS = `${LABEL.managedBy}=${MANAGED_BY_VALUE}`;
const ofTunnel = (tunnelId: string) => `${LABEL.tunnel}=${tunnelId}`;

/** Firewall names are unique in a project: the tunnel id keeps two same-named tunnels apart. */
export function firewallName(name: string, tunnelId: string): string {
  return `inletsctl-${name}-${tunnelId}`;
}

interface Action {
  id: number;
  command: string;
  status: 'running' | 'success' | 'error';
  error: { code: string; message: string } | null;
}

/** The server fields we read. */
interface Server {
  id: number;
  name: string;
  status: string;
  created?: string;
  labels?: Record<string, string>;
  public_net?: { ipv4?: { ip: string } | null };
  datacenter?: { location?: { name?: string } };
}

interface Firewall {
  id: number;
  name: string;
}

interface Pagination {
  meta?: { pagination?: { next_page?: number | null } };
}

/** Hetzner's words for a server's state, in our vocabulary. */
export function mapServerStatus(status: string): HostStatus {
  switch (status) {
    case 'initializing':
    case 'starting':
    case 'rebuilding':
    case 'migrating':
      return 'provisioning';
    case 'running':
      return 'active';
    case 'deleting':
      return 'deleting';
    default: // 'off', 'stopping', 'unknown': a server that will not serve the tunnel
      return 'error';
  }
}

/** Reads Hetzner's error body `{ error: { code, message } }`. */
function readError(_status: number, body: unknown): CloudErrorInfo {
  const e = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const info: CloudErrorInfo = {
    cloudCode: typeof e?.code === 'string' ? e.code : undefined,
    message: typeof e?.message === 'string' ? e.message : undefined,
  };
  if (info.cloudCode === 'resource_limit_exceeded') info.code = 'QUOTA';
  if (info.cloudCode === 'rate_limit_exceeded') info.code = 'RATE_LIMITED';
  return info;
}

/**
 * Retry-After when sent. Otherwise: Hetzner refills one request per second (RateLimit-Reset is
 * when the bucket is FULL again, possibly an hour away), so one second is the right wait.
 */
function retryAfterMs(headers: Headers): number {
  return parseRetryAfter(headers.get('retry-after')) ?? 1000;
}

export function createHetznerProvider(ctx: ProviderContext): Provider {
  const token = ctx.credentials['access-token'];
  if (!token) throw new ProviderError(PROVIDER, 'AUTH', 'no Hetzner Cloud API token: give --access-token, --access-token-file, $INLETS_ACCESS_TOKEN or $HCLOUD_TOKEN');
  const api = new RestClient({ provider: PROVIDER, baseUrl: apiBaseUrl(ctx.apiUrl, HETZNER_API_URL_ENV, DEFAULT_API_URL), token, readError, retryAfterMs });
  return new HetznerProvider(api);
}

class HetznerProvider implements Provider {
  constructor(private readonly api: RestClient) {}

  async create(req: CreateRequest): Promise<Host> {
    const labels = labelsFor(req);
    const { body } = await this.api.request<{ server: Server; action: Action; next_actions?: Action[] }>('POST', '/servers', {
      body: {
        name: req.name,
        server_type: req.plan,
        image: req.image,
        location: req.region,
        user_data: req.userData.toString('utf8'),
        labels,
        start_after_create: true,
        public_net: { enable_ipv4: true, enable_ipv6: true },
      },
    });
    if (!body?.server || typeof body.server.id !== 'number' || !body.action) {
      throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'POST /servers answered without a server and its action', { retryable: false });
    }
    const actions = [body.action, ...(body.next_actions ?? [])];
    const failed = actions.find((a) => a.status === 'error');
    if (failed) throw actionFailed(failed, `server ${body.server.id}`);
    const host = this.toHost(body.server, { actions: actions.map((a) => a.id).join(',') });
    if (req.firewall) {
      try {
        const fw = await this.createFirewall(req, body.server.id, labels);
        host.data = { ...host.data, firewallId: String(fw.id) };
      } catch (err) {
        // The server exists now: the CLI must clean up by tunnel id, not repeat the create.
        throw notRetryable(err, PROVIDER, `server ${body.server.id} was created but its firewall was not`);
      }
    }
    return host;
  }

  async status(ref: HostRef): Promise<Host> {
    let server: Server | undefined;
    if (ref.id) {
      server = (await this.api.request<{ server: Server }>('GET', `/servers/${encodeURIComponent(ref.id)}`)).body?.server;
    } else if (ref.tunnelId) {
      [server] = await this.serversLabelled(ofTunnel(ref.tunnelId));
    }
    if (!server) throw new ProviderError(PROVIDER, 'NOT_FOUND', `no server for tunnel ${ref.name}`);
    const host = this.toHost(server, ref.data);
    if (host.status !== 'active') {
      // An action that failed explains a server that never starts: report it now, not at the timeout.
      for (const id of (ref.data?.actions ?? '').split(',').filter(Boolean)) {
        const action = (await this.api.request<{ action: Action }>('GET', `/actions/${encodeURIComponent(id)}`)).body?.action;
        if (action?.status === 'error') {
          return { ...host, status: 'error', providerStatus: `${action.command} failed: ${action.error?.code ?? 'error'}: ${action.error?.message ?? ''}`.trim() };
        }
      }
    }
    return host;
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    requireIdentity(PROVIDER, ref);
    const servers = await this.serversOf(ref);
    for (const s of servers.filter((s) => s.status !== 'deleting')) {
      const res = await this.api.request<{ action?: Action }>('DELETE', `/servers/${s.id}`, { accept: [404] });
      if (res.status !== 404 && res.body?.action?.status === 'error') throw actionFailed(res.body.action, `deleting server ${s.id}`, 'API_UNAVAILABLE');
    }
    if (servers.length > 0) return 'pending'; // next step: confirm they are gone, then the firewall
    if (!ref.tunnelId) return 'done'; // a host of an older version: its firewall has no tunnel label to go by
    const firewalls = await this.paged<Firewall>('/firewalls', 'firewalls', { label_selector: ofTunnel(ref.tunnelId) });
    for (const fw of firewalls) {
      await this.api.request('DELETE', `/firewalls/${fw.id}`, { accept: [404] });
    }
    return 'done';
  }

  async list(): Promise<Host[]> {
    const servers = await this.serversLabelled(OURS);
    return servers.map((s) => this.toHost(s));
  }

  /** The servers of a tunnel: by its tunnel label, plus `ref.id` when it carries our label. */
  private async serversOf(ref: HostRef): Promise<Server[]> {
    const found = ref.tunnelId ? await this.serversLabelled(ofTunnel(ref.tunnelId)) : [];
    if (ref.id && !found.some((s) => String(s.id) === ref.id)) {
      const res = await this.api.request<{ server: Server }>('GET', `/servers/${encodeURIComponent(ref.id)}`, { accept: [404] });
      const s = res.status === 404 ? undefined : res.body?.server;
      if (s) refuseUnmarked(PROVIDER, `server ${ref.id}`, readLabels(s.labels));
      if (s) found.push(s);
    }
    return found;
  }

  private serversLabelled(selector: string): Promise<Server[]> {
    return this.paged<Server>('/servers', 'servers', { label_selector: selector });
  }

  /** Follows `meta.pagination.next_page`. */
  private paged<T>(path: string, key: string, query: Record<string, string>): Promise<T[]> {
    return allPages<T, number>(PROVIDER, `GET ${path}`, 1, async (page) => {
      const { body } = await this.api.request<Pagination>('GET', path, { query: { ...query, page, per_page: PAGE_SIZE } });
      const next = body?.meta?.pagination?.next_page;
      return { items: itemsOf<T>(PROVIDER, `GET ${path}`, body, key), next: typeof next === 'number' && next > page ? next : undefined };
    });
  }

  private async createFirewall(req: CreateRequest, serverId: number, labels: Record<string, string>): Promise<Firewall> {
    const { body } = await this.api.request<{ firewall: Firewall; actions?: Action[] }>('POST', '/firewalls', {
      body: {
        name: firewallName(req.name, req.tunnelId),
        labels,
        // Only inbound rules: with no outbound rule Hetzner allows all outbound traffic, which the
        // VM needs to install Node at boot.
        rules: req.openPorts.map((p) => ({
          direction: 'in',
          protocol: 'tcp',
          port: String(p),
          source_ips: ['0.0.0.0/0', '::/0'],
          description: p === req.controlPort ? 'inlets control port' : 'inlets data port',
        })),
        apply_to: [{ type: 'server', server: { id: serverId } }],
      },
    });
    if (!body?.firewall || typeof body.firewall.id !== 'number') throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'POST /firewalls answered without a firewall');
    const failed = (body.actions ?? []).find((a) => a.status === 'error');
    if (failed) throw actionFailed(failed, `firewall ${body.firewall.id}`);
    return body.firewall;
  }

  private toHost(s: Server, data?: Record<string, string>): Host {
    const marks = readLabels(s.labels);
    return {
      name: marks.name ?? s.name,
      tunnelId: marks.tunnelId,
      expiresAt: marks.expiresAt,
      id: String(s.id),
      ip: s.public_net?.ipv4?.ip ?? undefined,
      region: s.datacenter?.location?.name,
      status: mapServerStatus(s.status),
      providerStatus: s.status,
      createdAt: s.created,
      data,
    };
  }
}

/** A failed action: final during create; worth another delete step (retryable) during delete. */
function actionFailed(action: Action, what: string, code: 'CREATE_FAILED' | 'API_UNAVAILABLE' = 'CREATE_FAILED'): ProviderError {
  const why = action.error ? `${action.error.code}: ${action.error.message}` : 'no reason given';
  return new ProviderError(PROVIDER, code, `${what}: action ${action.command} (${action.id}) failed: ${why}`, { retryable: code !== 'CREATE_FAILED' });
}
