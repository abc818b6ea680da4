/**
 * A stateful fake of the Hetzner Cloud API v1 (the calls inletsctl makes: servers, firewalls,
 * actions; primary IPs to check nothing is left), on 127.0.0.1.
 *
 * Hetzner publishes its OpenAPI description only on its site, under no stated licence, so none is
 * shipped here: this fake follows Hetzner's public API documentation (https://docs.hetzner.cloud/)
 * as written from knowledge of it, and checks requests against hand-written schemas of the same
 * (see hetzner-schemas.ts). Mismatches are recorded in `mismatches`; tests fail on any.
 *
 * Behaviour modelled: servers start `initializing` with a primary IPv4 (a loopback address) at once,
 * turn `running` after `activeAfterPolls` observations (their user-data booted there) and finish
 * their `create_server` and `start_server` actions; DELETE answers a `delete_server` action, the
 * server is `deleting` for one observation, then gone with its auto-delete primary IPs. Lists are
 * paginated (`meta.pagination`, at most 50 a page); errors use `{ error: { code, message, details } }`;
 * every answer carries RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset.
 */
import { FakeCloudServer, type FakeCloudOptions, type FakeReply, type FakeRequest, type Holdings } from './fake-cloud-server.js';
import { InstanceBooter, allocateLoopbackAddress, type InstanceBooterOptions } from './instance-booter.js';
import { checkHetznerRequest, hetznerOperation } from './hetzner-schemas.js';

export interface HetznerFakeOptions extends FakeCloudOptions, InstanceBooterOptions {
  /** Observations before a new server is running. Default 2. */
  activeAfterPolls?: number;
  /** Largest page served, whatever per_page asks. Default 50 (Hetzner's maximum). */
  maxPerPage?: number;
  /** Servers that exist before the test, not made by inletsctl; they must survive it. Default 0. */
  foreignServers?: number;
  /**
   * Make the create_server action of every new server fail, already in the create answer
   * ('at-once') or on the first look at the server after it ('later'); the server stays initializing.
   */
  failCreateAction?: 'at-once' | 'later';
}

interface Action {
  id: number;
  command: string;
  status: 'running' | 'success' | 'error';
  progress: number;
  started: string;
  finished: string | null;
  resources: Array<{ id: number; type: string }>;
  error: { code: string; message: string } | null;
}

interface ServerRecord {
  id: number;
  name: string;
  status: 'initializing' | 'running' | 'deleting';
  labels: Record<string, string>;
  serverType: string;
  image: string;
  location: string;
  userData: Buffer;
  created: string;
  polls: number;
  primaryIpv4?: number;
  primaryIpv6?: number;
  actions: number[];
  foreign: boolean;
  failed: boolean;
}

interface PrimaryIp {
  id: number;
  ip: string;
  type: 'ipv4' | 'ipv6';
  assigneeId: number | null;
  autoDelete: boolean;
  created: string;
}

interface FirewallRecord {
  id: number;
  name: string;
  labels: Record<string, string>;
  rules: unknown[];
  appliedTo: number[];
  created: string;
}

const SERVER_TYPES: Record<string, { id: number; cores: number; memory: number; disk: number; cpu_type: string; architecture: string; locations: string[]; eur: string }> = {
  cx23: { id: 104, cores: 2, memory: 4, disk: 40, cpu_type: 'shared', architecture: 'x86', locations: ['fsn1', 'nbg1', 'hel1'], eur: '3.9900' },
  cax11: { id: 45, cores: 2, memory: 4, disk: 40, cpu_type: 'shared', architecture: 'arm', locations: ['fsn1', 'nbg1', 'hel1'], eur: '4.4900' },
  cpx11: { id: 22, cores: 2, memory: 2, disk: 40, cpu_type: 'shared', architecture: 'x86', locations: ['fsn1', 'nbg1', 'hel1', 'ash', 'hil', 'sin'], eur: '5.4900' },
};
const IMAGES: Record<string, { id: number; os_version: string }> = {
  'debian-12': { id: 114_690_387, os_version: '12' },
  'debian-13': { id: 310_557_660, os_version: '13' },
};
const LOCATIONS: Record<string, { id: number; city: string; country: string; zone: string }> = {
  fsn1: { id: 1, city: 'Falkenstein', country: 'DE', zone: 'eu-central' },
  nbg1: { id: 2, city: 'Nuremberg', country: 'DE', zone: 'eu-central' },
  hel1: { id: 3, city: 'Helsinki', country: 'FI', zone: 'eu-central' },
  ash: { id: 4, city: 'Ashburn, VA', country: 'US', zone: 'us-east' },
  hil: { id: 5, city: 'Hillsboro, OR', country: 'US', zone: 'us-west' },
  sin: { id: 6, city: 'Singapore', country: 'SG', zone: 'ap-southeast' },
};

export class HetznerFake extends FakeCloudServer {
  private readonly servers = new Map<number, ServerRecord>();
  private readonly primaryIps = new Map<number, PrimaryIp>();
  private readonly firewalls = new Map<number, FirewallRecord>();
  private readonly actions = new Map<number, Action>();
  private readonly booter: InstanceBooter;
  private nextId = 40_000_001;
  private neverActiveAll = false;
  private readonly neverActiveNames = new Set<string>();
  private readonly foreignCount: number;

  constructor(private readonly options: HetznerFakeOptions = {}) {
    super(options);
    this.remaining = 3600;
    this.booter = new InstanceBooter(options, (m) => this.problems.push(m));
    this.foreignCount = options.foreignServers ?? 0;
    for (let i = 0; i < this.foreignCount; i++) {
      const s = this.newServer(`db-${i + 1}`, { env: 'prod' }, 'cpx11', 'debian-12', 'nbg1', Buffer.alloc(0), true);
      s.status = 'running';
    }
  }

  protected pathPrefix(): string {
    return '/v1';
  }

  holdings(): Holdings {
    const own = [...this.servers.values()].filter((s) => !s.foreign);
    const foreign = [...this.servers.values()].filter((s) => s.foreign);
    const foreignIps = new Set(foreign.flatMap((s) => [s.primaryIpv4, s.primaryIpv6]));
    return {
      servers: own.length,
      firewalls: this.firewalls.size,
      primaryIps: [...this.primaryIps.values()].filter((p) => !foreignIps.has(p.id)).length,
      floatingIps: 0,
      volumes: 0,
      running: this.booter.count(),
      foreignServersMissing: this.foreignCount - foreign.length,
    };
  }

  neverActive(name?: string): void {
    if (name === undefined) this.neverActiveAll = true;
    else this.neverActiveNames.add(name);
  }

  protected async shutdown(): Promise<void> {
    await this.booter.stopAll();
  }

  protected operationOf(req: FakeRequest): string | undefined {
    return hetznerOperation(req.method, req.pathname)?.op;
  }

  protected checkRequest(req: FakeRequest): string[] {
    return checkHetznerRequest(req);
  }

  protected checkReply(_req: FakeRequest, reply: FakeReply): string[] {
    if (reply.status >= 400) {
      const e = (reply.body as { error?: { code?: unknown; message?: unknown } })?.error;
      if (typeof e?.code !== 'string' || typeof e.message !== 'string') return ['error body is not { error: { code, message } }'];
    }
    return [];
  }

  protected errorReply(status: number, code: string, message: string): FakeReply {
    const codes: Record<number, string> = { 401: 'unauthorized', 404: 'not_found', 429: 'rate_limit_exceeded', 500: 'server_error' };
    return { status, body: { error: { code: codes[status] ?? code, message, details: {} } } };
  }

  protected rateLimitHeaders(limited: boolean): Record<string, string> {
    const remaining = limited ? 0 : this.remaining;
    return {
      'ratelimit-limit': '3600',
      'ratelimit-remaining': String(remaining),
      // When the bucket is full again: one request comes back every second.
      'ratelimit-reset': String(Math.floor(Date.now() / 1000) + (3600 - remaining)),
    };
  }

  protected handle(req: FakeRequest, op: string): FakeReply {
    const id = Number(hetznerOperation(req.method, req.pathname)?.id);
    switch (op) {
      case 'servers.create':
        return this.createServer(req.body as Record<string, unknown>);
      case 'servers.list': {
        const items = this.select([...this.servers.values()], req.query, (s) => s.labels, (s) => s.name);
        return this.page(req.query, 'servers', items, (s) => {
          this.observe(s);
          return this.serverJson(s);
        });
      }
      case 'servers.get': {
        const s = this.servers.get(id);
        if (!s) return this.notFound('server', id);
        this.observe(s);
        if (!this.servers.has(id)) return this.notFound('server', id); // deletion finished on this look
        return { status: 200, body: { server: this.serverJson(s) } };
      }
      case 'servers.delete': {
        const s = this.servers.get(id);
        if (!s) return this.notFound('server', id);
        s.status = 'deleting';
        s.polls = 0;
        void this.booter.stop(String(s.id));
        const action = this.newAction('delete_server', [{ id: s.id, type: 'server' }]);
        s.actions.push(action.id);
        return { status: 200, body: { action } };
      }
      case 'actions.get': {
        const a = this.actions.get(id);
        return a ? { status: 200, body: { action: a } } : this.notFound('action', id);
      }
      case 'firewalls.create':
        return this.createFirewall(req.body as Record<string, unknown>);
      case 'firewalls.list': {
        const items = this.select([...this.firewalls.values()], req.query, (f) => f.labels, (f) => f.name);
        return this.page(req.query, 'firewalls', items, (f) => this.firewallJson(f));
      }
      case 'firewalls.get': {
        const f = this.firewalls.get(id);
        return f ? { status: 200, body: { firewall: this.firewallJson(f) } } : this.notFound('firewall', id);
      }
      case 'firewalls.delete': {
        const f = this.firewalls.get(id);
        if (!f) return this.notFound('firewall', id);
        if (f.appliedTo.some((sid) => this.servers.has(sid))) {
          return { status: 422, body: { error: { code: 'resource_in_use', message: 'firewall is still applied to a resource', details: {} } } };
        }
        this.firewalls.delete(id);
        return { status: 204 };
      }
      case 'primary_ips.list':
        return this.page(req.query, 'primary_ips', [...this.primaryIps.values()], (p) => this.primaryIpJson(p));
      default:
        this.problems.push(`the fake does not implement ${op}`);
        return { status: 404, body: { error: { code: 'not_found', message: `${req.method} ${req.pathname} is not a known endpoint`, details: {} } } };
    }
  }

  private createServer(body: Record<string, unknown>): FakeReply {
    const name = String(body.name);
    const type = SERVER_TYPES[String(body.server_type)];
    if (!type) return this.invalid('server_type', 'server type not found');
    if (!IMAGES[String(body.image)]) return this.invalid('image', 'image not found');
    const location = String(body.location ?? 'fsn1');
    if (!LOCATIONS[location]) return this.invalid('location', 'location not found');
    if (!type.locations.includes(location)) {
      return { status: 412, body: { error: { code: 'resource_unavailable', message: `server type ${String(body.server_type)} is unavailable in ${location}`, details: {} } } };
    }
    if ([...this.servers.values()].some((s) => s.name === name)) {
      return { status: 409, body: { error: { code: 'uniqueness_error', message: 'server name is already used', details: { fields: [{ name: 'name' }] } } } };
    }
    const userData = Buffer.from(typeof body.user_data === 'string' ? body.user_data : '', 'utf8');
    if (userData.length > 32 * 1024) return this.invalid('user_data', 'user_data must not exceed 32 KiB');
    const s = this.newServer(name, (body.labels as Record<string, string>) ?? {}, String(body.server_type), String(body.image), location, userData, false);
    const create = this.newAction('create_server', [{ id: s.id, type: 'server' }]);
    const start = this.newAction('start_server', [{ id: s.id, type: 'server' }]);
    s.actions.push(create.id, start.id);
    if (this.options.failCreateAction) s.failed = true;
    if (this.options.failCreateAction === 'at-once') this.failAction(create);
    return { status: 201, body: { server: this.serverJson(s), action: create, next_actions: [start], root_password: null } };
  }

  /**
   * A running server as another inletsctl made it (see FakeEntry.seedHost): our labels, the tunnel
   * label only when a tunnel id is given. Server names are unique here, so a taken name gets a suffix.
   */
  seedServer(host: { name: string; tunnelId?: string }): string {
    const labels: Record<string, string> = { 'managed-by': 'inletsctl', 'inletsctl-name': host.name, ...(host.tunnelId ? { 'inletsctl-tunnel': host.tunnelId } : {}) };
    const taken = (n: string) => [...this.servers.values()].some((x) => x.name === n);
    let name = host.name;
    for (let i = 2; taken(name); i++) name = `${host.name}-${i}`;
    const s = this.newServer(name, labels, 'cx23', 'debian-12', 'fsn1', Buffer.alloc(0), false);
    s.status = 'running';
    return String(s.id);
  }

  private newServer(name: string, labels: Record<string, string>, serverType: string, image: string, location: string, userData: Buffer, foreign: boolean): ServerRecord {
    const id = this.nextId++;
    const v4 = this.newPrimaryIp('ipv4', id, foreign ? `192.0.2.${(id % 200) + 10}` : allocateLoopbackAddress());
    const v6 = this.newPrimaryIp('ipv6', id, `2001:db8:${(id % 65535).toString(16)}::/64`);
    const s: ServerRecord = {
      id, name, status: 'initializing', labels, serverType, image, location, userData, created: isoNow(), polls: 0,
      primaryIpv4: v4.id, primaryIpv6: v6.id, actions: [], foreign, failed: false,
    };
    this.servers.set(id, s);
    return s;
  }

  private newPrimaryIp(type: 'ipv4' | 'ipv6', assigneeId: number, ip: string): PrimaryIp {
    const p: PrimaryIp = { id: this.nextId++, ip, type, assigneeId, autoDelete: true, created: isoNow() };
    this.primaryIps.set(p.id, p);
    return p;
  }

  private newAction(command: string, resources: Array<{ id: number; type: string }>): Action {
    const a: Action = { id: this.nextId++, command, status: 'running', progress: 0, started: isoNow(), finished: null, resources, error: null };
    this.actions.set(a.id, a);
    return a;
  }

  private failAction(a: Action): void {
    Object.assign(a, { status: 'error', progress: 100, finished: isoNow(), error: { code: 'server_create_failed', message: 'the server could not be placed (injected)' } });
  }

  private finishActions(s: ServerRecord, command?: string): void {
    for (const id of s.actions) {
      const a = this.actions.get(id);
      if (a && a.status === 'running' && (!command || a.command === command)) Object.assign(a, { status: 'success', progress: 100, finished: isoNow() });
    }
  }

  /** A GET saw the server: it moves along its lifecycle. */
  private observe(s: ServerRecord): void {
    if (s.foreign) return;
    s.polls++;
    if (s.status === 'deleting') {
      if (s.polls < 2) return;
      this.finishActions(s, 'delete_server');
      this.servers.delete(s.id);
      for (const p of this.primaryIps.values()) if (p.assigneeId === s.id && p.autoDelete) this.primaryIps.delete(p.id);
      for (const f of this.firewalls.values()) f.appliedTo = f.appliedTo.filter((x) => x !== s.id);
      return;
    }
    if (s.status === 'initializing' && s.failed) {
      const create = this.actions.get(s.actions[0]);
      if (create?.status === 'running') this.failAction(create);
      return;
    }
    if (s.status !== 'initializing' || this.neverActiveAll || this.neverActiveNames.has(s.name)) return;
    if (s.polls < (this.options.activeAfterPolls ?? 2)) return;
    s.status = 'running';
    this.finishActions(s);
    this.booter.boot(String(s.id), s.userData, this.primaryIps.get(s.primaryIpv4!)!.ip);
  }

  private createFirewall(body: Record<string, unknown>): FakeReply {
    const name = String(body.name);
    if ([...this.firewalls.values()].some((f) => f.name === name)) {
      return { status: 409, body: { error: { code: 'uniqueness_error', message: 'firewall name is already used', details: { fields: [{ name: 'name' }] } } } };
    }
    const applyTo = (Array.isArray(body.apply_to) ? body.apply_to : []) as Array<{ type: string; server?: { id: number } }>;
    const serverIds = applyTo.filter((a) => a.type === 'server').map((a) => Number(a.server?.id));
    const missing = serverIds.find((sid) => !this.servers.has(sid));
    if (missing !== undefined) return this.invalid('apply_to', `server ${missing} not found`);
    const f: FirewallRecord = { id: this.nextId++, name, labels: (body.labels as Record<string, string>) ?? {}, rules: (body.rules as unknown[]) ?? [], appliedTo: serverIds, created: isoNow() };
    this.firewalls.set(f.id, f);
    const actions = serverIds.map((sid) => {
      const a = this.newAction('apply_firewall', [{ id: f.id, type: 'firewall' }, { id: sid, type: 'server' }]);
      Object.assign(a, { status: 'success', progress: 100, finished: isoNow() });
      return a;
    });
    return { status: 201, body: { firewall: this.firewallJson(f), actions } };
  }

  /** Applies `label_selector` (k=v, k==v, k!=v, k, !k; comma = and) and `name`. */
  private select<T>(items: T[], query: URLSearchParams, labels: (t: T) => Record<string, string>, name: (t: T) => string): T[] {
    const selector = query.get('label_selector');
    const wanted = query.get('name');
    const terms = selector ? selector.split(',').map((t) => t.trim()).filter(Boolean) : [];
    return items.filter((item) => {
      if (wanted !== null && name(item) !== wanted) return false;
      const l = labels(item);
      return terms.every((t) => {
        let m: RegExpExecArray | null;
        if ((m = /^([^!=]+)!=(.*)$/.exec(t))) return l[m[1]] !== m[2];
        if ((m = /^([^!=]+)==?(.*)$/.exec(t))) return l[m[1]] === m[2];
        if (t.startsWith('!')) return !(t.slice(1) in l);
        return t in l;
      });
    });
  }

  private page<T>(query: URLSearchParams, key: string, items: T[], render: (t: T) => unknown): FakeReply {
    const asked = Number(query.get('per_page') ?? 25);
    const perPage = Math.min(Math.max(asked, 1), 50, this.options.maxPerPage ?? 50);
    const page = Math.max(Number(query.get('page') ?? 1), 1);
    const last = Math.max(Math.ceil(items.length / perPage), 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    return {
      status: 200,
      body: {
        [key]: slice.map(render),
        meta: { pagination: { page, per_page: perPage, previous_page: page > 1 ? page - 1 : null, next_page: page < last ? page + 1 : null, last_page: last, total_entries: items.length } },
      },
    };
  }

  private serverJson(s: ServerRecord): Record<string, unknown> {
    const type = SERVER_TYPES[s.serverType];
    const loc = LOCATIONS[s.location];
    const v4 = s.primaryIpv4 !== undefined ? this.primaryIps.get(s.primaryIpv4) : undefined;
    const v6 = s.primaryIpv6 !== undefined ? this.primaryIps.get(s.primaryIpv6) : undefined;
    const location = { id: loc.id, name: s.location, description: `${loc.city} DC Park 1`, country: loc.country, city: loc.city, latitude: 50.47612, longitude: 12.370071, network_zone: loc.zone };
    return {
      id: s.id,
      name: s.name,
      status: s.status,
      created: s.created,
      public_net: {
        ipv4: v4 ? { id: v4.id, ip: v4.ip, blocked: false, dns_ptr: `static.${v4.ip}.clients.your-server.de` } : null,
        ipv6: v6 ? { id: v6.id, ip: v6.ip, blocked: false, dns_ptr: [] } : null,
        floating_ips: [],
        firewalls: [...this.firewalls.values()].filter((f) => f.appliedTo.includes(s.id)).map((f) => ({ id: f.id, status: 'applied' })),
      },
      private_net: [],
      server_type: {
        id: type.id, name: s.serverType, description: s.serverType.toUpperCase(), cores: type.cores, memory: type.memory, disk: type.disk,
        deprecated: false, storage_type: 'local', cpu_type: type.cpu_type, architecture: type.architecture,
        prices: [{ location: s.location, price_hourly: { net: '0.0064', gross: '0.0076' }, price_monthly: { net: type.eur, gross: type.eur }, included_traffic: 21990232555520, price_per_tb_traffic: { net: '1.0000', gross: '1.1900' } }],
      },
      datacenter: { id: loc.id, name: `${s.location}-dc14`, description: `${loc.city} DC 14`, location },
      image: { id: IMAGES[s.image]?.id ?? 1, type: 'system', status: 'available', name: s.image, description: `Debian ${IMAGES[s.image]?.os_version ?? ''}`, os_flavor: 'debian', os_version: IMAGES[s.image]?.os_version ?? null, rapid_deploy: true, architecture: type.architecture, labels: {}, protection: { delete: false } },
      iso: null,
      rescue_enabled: false,
      locked: false,
      backup_window: null,
      outgoing_traffic: 0,
      ingoing_traffic: 0,
      included_traffic: 21990232555520,
      protection: { delete: false, rebuild: false },
      labels: s.labels,
      volumes: [],
      load_balancers: [],
      primary_disk_size: type.disk,
      placement_group: null,
    };
  }

  private firewallJson(f: FirewallRecord): Record<string, unknown> {
    return {
      id: f.id, name: f.name, labels: f.labels, created: f.created, rules: f.rules,
      applied_to: f.appliedTo.filter((sid) => this.servers.has(sid)).map((sid) => ({ type: 'server', server: { id: sid } })),
    };
  }

  private primaryIpJson(p: PrimaryIp): Record<string, unknown> {
    return { id: p.id, name: `primary_ip-${p.id}`, ip: p.ip, type: p.type, assignee_id: p.assigneeId, assignee_type: 'server', auto_delete: p.autoDelete, blocked: false, created: p.created, labels: {}, protection: { delete: false }, dns_ptr: [] };
  }

  private notFound(what: string, id: number): FakeReply {
    return { status: 404, body: { error: { code: 'not_found', message: `${what} with ID '${id}' not found`, details: {} } } };
  }

  private invalid(field: string, message: string): FakeReply {
    return { status: 400, body: { error: { code: 'invalid_input', message: `invalid input in field '${field}'`, details: { fields: [{ name: field, messages: [message] }] } } } };
  }
}

function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00');
}
