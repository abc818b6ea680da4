/**
 * The UpCloud provider: one server per tunnel (its storage cloned from the Debian template), with
 * the server's own firewall rules opening only the tunnel's ports.
 *
 * Identity: the server carries the labels of providers/shared/marks.ts; delete and clean-up find
 * servers by the `inletsctl-tunnel` label only. UpCloud deletes only stopped servers, so delete is
 * a step: stop a started server, wait (by answering 'pending') while it is in maintenance, delete a
 * stopped one with its storages. API reference: https://developers.upcloud.com/1.3/
 */
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest, Host, HostRef, HostStatus, Provider, ProviderContext } from '../../src/core/provider.js';
import { LABEL, MANAGED_BY_VALUE, labelsFor, readLabels } from '../shared/marks.js';
import { RestClient, apiBaseUrl, notRetryable, parseRetryAfter, type CloudErrorInfo } from '../shared/rest-client.js';
import { UPCLOUD_API_URL_ENV } from './index.js';
import { firewallComplete, firewallRules, type FirewallRule } from './upcloud-firewall.js';

const PROVIDER = 'upcloud';
const DEFAULT_API_URL = 'https://api.upcloud.com/1.3';
/** Largest page of a list the API serves (`limit`). */
export const PAGE_LIMIT = 100;
/** Size of the cloned system disk in GB: what the default plan includes (smaller would be billed apart). */
const DISK_GB = 25;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Label {
  key: string;
  value: string;
}

/** The server fields we read (list entries have no ip_addresses; details do). */
interface Server {
  uuid: string;
  title?: string;
  hostname?: string;
  state: string;
  zone?: string;
  created?: number;
  firewall?: string;
  labels?: { label?: Label[] };
  ip_addresses?: { ip_address?: Array<{ access?: string; address?: string; family?: string }> };
}

interface Storage {
  uuid: string;
  title: string;
}

/** UpCloud's words for a server's state, in our vocabulary. */
export function mapServerState(state: string): HostStatus {
  if (state === 'started') return 'active';
  if (state === 'maintenance') return 'provisioning';
  return 'error'; // 'stopped' or 'error': a server that will not serve the tunnel
}

/** Reads `{ error: { error_code, error_message } }`, or an RFC 7807 problem body. */
function readError(_status: number, body: unknown): CloudErrorInfo {
  const b = body as { error?: { error_code?: unknown; error_message?: unknown }; type?: unknown; title?: unknown } | undefined;
  const e = b?.error;
  const info: CloudErrorInfo = {
    cloudCode: typeof e?.error_code === 'string' ? e.error_code : typeof b?.type === 'string' ? b.type : undefined,
    message: typeof e?.error_message === 'string' ? e.error_message : typeof b?.title === 'string' ? b.title : undefined,
  };
  if (info.cloudCode && /INSUFFICIENT_CREDITS|_LIMIT_REACHED|RESOURCE_LIMIT/.test(info.cloudCode)) info.code = 'QUOTA';
  return info;
}

/** Retry-After when sent; else one second (UpCloud sends no other rate-limit header we know). */
function retryAfterMs(headers: Headers): number {
  return parseRetryAfter(headers.get('retry-after')) ?? 1000;
}

/** The labels as a map. */
function labelMap(s: Server): Record<string, string> {
  return Object.fromEntries((s.labels?.label ?? []).map((l) => [l.key, l.value]));
}

export function createUpcloudProvider(ctx: ProviderContext): Provider {
  const token = ctx.credentials['access-token'];
  const user = typeof ctx.options['upcloud-username'] === 'string' ? ctx.options['upcloud-username'] : undefined;
  const password = ctx.credentials['upcloud-password'];
  let authorization: string;
  if (token) authorization = `Bearer ${token}`;
  else if (user && password) authorization = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
  else {
    const half = user
      ? ' (a user name was given, but no password: --upcloud-password, --upcloud-password-file or $UPCLOUD_PASSWORD)'
      : password ? ' (a password was given, but no user name: --upcloud-username or $UPCLOUD_USERNAME)' : '';
    throw new ProviderError(
      PROVIDER,
      'AUTH',
      `no UpCloud credentials: give an API token (--access-token, --access-token-file, $INLETS_ACCESS_TOKEN or $UPCLOUD_TOKEN) or an API user and password ($UPCLOUD_USERNAME and $UPCLOUD_PASSWORD)${half}`,
    );
  }
  const api = new RestClient({ provider: PROVIDER, baseUrl: apiBaseUrl(ctx.apiUrl, UPCLOUD_API_URL_ENV, DEFAULT_API_URL), authorization, readError, retryAfterMs });
  return new UpcloudProvider(api);
}

class UpcloudProvider implements Provider {
  constructor(private readonly api: RestClient) {}

  async create(req: CreateRequest): Promise<Host> {
    const template = await this.template(req.image);
    const labels = Object.entries(labelsFor(req)).map(([key, value]) => ({ key, value }));
    const { body } = await this.api.request<{ server?: Server }>('POST', '/server', {
      body: {
        server: {
          zone: req.region,
          title: req.name,
          hostname: req.name,
          plan: req.plan,
          metadata: 'yes', // cloud-init reads user_data from the metadata service
          user_data: req.userData.toString('utf8'),
          firewall: 'on',
          password_delivery: 'none',
          labels: { label: labels },
          storage_devices: { storage_device: [{ action: 'clone', storage: template, title: `${req.name}-disk`, size: DISK_GB, tier: 'maxiops' }] },
          networking: { interfaces: { interface: [{ type: 'public', ip_addresses: { ip_address: [{ family: 'IPv4' }] } }] } },
        },
      },
    });
    const server = body?.server;
    if (!server || typeof server.uuid !== 'string') {
      throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'POST /server answered without a server', { retryable: false });
    }
    try {
      // One batch: the rules exist all together or not at all, which status checks.
      await this.api.request('PUT', `/server/${server.uuid}/firewall_rule`, { body: { firewall_rules: { firewall_rule: firewallRules(req.openPorts) } } });
    } catch (err) {
      throw notRetryable(err, PROVIDER, `server ${server.uuid} was created but its firewall rules were not`);
    }
    return { ...this.toHost(server), name: req.name, tunnelId: req.tunnelId, status: 'provisioning' };
  }

  async status(ref: HostRef): Promise<Host> {
    let server: Server | undefined;
    if (ref.id) server = await this.details(ref.id);
    else if (ref.tunnelId) {
      const [found] = await this.serversLabelled(`${LABEL.tunnel}=${ref.tunnelId}`);
      if (found) server = await this.details(found.uuid);
    }
    if (!server) throw new ProviderError(PROVIDER, 'NOT_FOUND', `no server for tunnel ${ref.name}`);
    const host = this.toHost(server);
    if (host.status === 'active') {
      // A create interrupted between the server and its rules leaves a server open to nothing we
      // asked for: never call it ready (the caller then deletes it).
      const rules = (await this.api.request<{ firewall_rules?: { firewall_rule?: FirewallRule[] } }>('GET', `/server/${server.uuid}/firewall_rule`)).body;
      if (server.firewall !== 'on' || !firewallComplete(rules?.firewall_rules?.firewall_rule ?? [])) {
        return { ...host, status: 'error', providerStatus: 'started, but its firewall rules were never set (an interrupted create)' };
      }
    }
    return host;
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    const servers = await this.serversOf(ref);
    for (const s of servers) {
      if (s.state === 'started' || s.state === 'maintenance') {
        // In maintenance (starting, stopping) the API may refuse a stop with 409: the next step looks again.
        await this.api.request('POST', `/server/${s.uuid}/stop`, { body: { stop_server: { stop_type: 'hard', timeout: '60' } }, accept: [404, 409] });
      } else if (s.state === 'stopped' || s.state === 'error') {
        await this.api.request('DELETE', `/server/${s.uuid}`, { query: { storages: 1 }, accept: [404, 409] });
      }
    }
    return servers.length > 0 ? 'pending' : 'done';
  }

  async list(): Promise<Host[]> {
    const servers = await this.serversLabelled(`${LABEL.managedBy}=${MANAGED_BY_VALUE}`);
    const hosts: Host[] = [];
    for (const s of servers) {
      // The list has no addresses; `delete --ip` finds a tunnel through them.
      const full = await this.details(s.uuid);
      if (full) hosts.push(this.toHost(full));
    }
    return hosts;
  }

  /** The servers of a tunnel: by its tunnel-id label, plus `ref.id` when it carries our shared mark. */
  private async serversOf(ref: HostRef): Promise<Server[]> {
    const found = ref.tunnelId ? await this.serversLabelled(`${LABEL.tunnel}=${ref.tunnelId}`) : [];
    if (ref.id && !found.some((s) => s.uuid === ref.id)) {
      const s = await this.details(ref.id);
      if (s && !readLabels(labelMap(s)).ours) {
        throw new ProviderError(PROVIDER, 'FORBIDDEN', `server ${ref.id} was not created by inletsctl (no ${LABEL.managedBy}=${MANAGED_BY_VALUE} label); not deleting it`, { retryable: false });
      }
      if (s) found.push(s);
    }
    return found;
  }

  /** GET /server/{uuid}, or undefined when it is gone. */
  private async details(uuid: string): Promise<Server | undefined> {
    const res = await this.api.request<{ server?: Server }>('GET', `/server/${encodeURIComponent(uuid)}`, { accept: [404] });
    return res.status === 404 ? undefined : res.body?.server;
  }

  private serversLabelled(selector: string): Promise<Server[]> {
    return this.paged<Server>('/server', (b) => (b as { servers?: { server?: Server[] } })?.servers?.server, { label: selector });
  }

  /** The uuid of the storage template `image` (a uuid, or a public template's exact title). */
  private async template(image: string): Promise<string> {
    if (UUID.test(image)) return image;
    const templates = await this.paged<Storage>('/storage/template', (b) => (b as { storages?: { storage?: Storage[] } })?.storages?.storage, {});
    const match = templates.find((t) => t.title === image);
    if (!match) {
      const debian = templates.filter((t) => /debian/i.test(t.title)).map((t) => `"${t.title}"`).join(', ');
      throw new ProviderError(PROVIDER, 'INVALID', `no storage template titled "${image}"${debian ? `; Debian templates: ${debian}` : ''}`, { retryable: false });
    }
    return match.uuid;
  }

  /**
   * Pages with `limit` and `offset` until a page comes back empty (a short page alone does not
   * prove the end: the API may serve fewer than asked).
   */
  private async paged<T>(path: string, items: (body: unknown) => T[] | undefined, query: Record<string, string>): Promise<T[]> {
    const out: T[] = [];
    for (let guard = 0; guard < 1000; guard++) {
      const { body } = await this.api.request('GET', path, { query: { ...query, limit: PAGE_LIMIT, offset: out.length } });
      const page = items(body);
      if (!Array.isArray(page)) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `GET ${path} answered without a list`);
      if (page.length === 0) return out;
      out.push(...page);
    }
    throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `GET ${path}: too many pages`);
  }

  private toHost(s: Server): Host {
    const marks = readLabels(labelMap(s));
    const ip = s.ip_addresses?.ip_address?.find((a) => a.access === 'public' && a.family === 'IPv4')?.address;
    return {
      name: marks.name ?? s.title ?? s.hostname ?? s.uuid,
      tunnelId: marks.tunnelId,
      expiresAt: marks.expiresAt,
      id: s.uuid,
      ip,
      region: s.zone,
      status: mapServerState(s.state),
      providerStatus: s.state,
      createdAt: typeof s.created === 'number' ? new Date(s.created * 1000).toISOString() : undefined,
    };
  }
}
