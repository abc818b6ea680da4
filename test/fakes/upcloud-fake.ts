/**
 * A stateful fake of the UpCloud API 1.3 (the calls inletsctl makes: servers, their stop and
 * firewall rules, storage templates), on 127.0.0.1 under `/1.3`.
 *
 * UpCloud publishes no machine-readable API description that could be shipped: this fake follows
 * its public API reference (https://developers.upcloud.com/1.3/) as far as it could be read, and
 * checks every request against hand-written schemas of it (upcloud-schemas.ts); anything else is a
 * mismatch, and tests fail on any. Template uuids and the exact error codes below are the fake's
 * own stand-ins, not UpCloud's values.
 *
 * Behaviour modelled: POST /server answers 202 with the server in `maintenance` and a public IPv4
 * (a loopback address); after `activeAfterPolls` looks it is `started` and its user-data boots
 * there. Stop puts a started server in `maintenance` for one look, then `stopped`; only a stopped
 * server may be deleted (else 409 SERVER_STATE_ILLEGAL), and its storage goes with it only with
 * `storages=1`. Lists page with `limit`/`offset`; `label=k=v` filters. Errors are
 * `{ error: { error_code, error_message } }`. Accepts a bearer token or Basic credentials.
 */
import { randomUUID } from 'node:crypto';
import { FakeCloudServer, type FakeCloudOptions, type FakeReply, type FakeRequest, type Holdings } from './fake-cloud-server.js';
import { InstanceBooter, allocateLoopbackAddress, type InstanceBooterOptions } from './instance-booter.js';
import { checkUpcloudRequest, upcloudOperation } from './upcloud-schemas.js';

export interface UpcloudFakeOptions extends FakeCloudOptions, InstanceBooterOptions {
  /** Looks before a new server is started. Default 2. */
  activeAfterPolls?: number;
  /** Largest page served, whatever `limit` asks. Default 100. */
  maxPerPage?: number;
  /** Servers that exist before the test, not made by inletsctl; they must survive it. Default 0. */
  foreignServers?: number;
  /** When set, Basic credentials must be exactly this user and password. */
  acceptBasic?: { user: string; password: string };
}

type State = 'maintenance' | 'started' | 'stopped';

interface ServerRecord {
  uuid: string;
  title: string;
  hostname: string;
  zone: string;
  plan: string;
  state: State;
  stopping: boolean;
  labels: Array<{ key: string; value: string }>;
  userData: Buffer;
  ip: string;
  storage: string;
  firewall: string;
  rules: Array<Record<string, unknown>>;
  created: number;
  looks: number;
  foreign: boolean;
}

const PLANS = new Set(['1xCPU-1GB', '1xCPU-2GB', '2xCPU-4GB', 'DEV-1xCPU-1GB-10GB']);
const ZONES = new Set(['de-fra1', 'fi-hel1', 'fi-hel2', 'nl-ams1', 'uk-lon1', 'se-sto1', 'es-mad1', 'pl-waw1', 'us-nyc1', 'us-chi1', 'us-sjo1', 'sg-sin1', 'au-syd1']);
const TEMPLATES = [
  { uuid: '01000000-0000-4000-8000-000020060100', title: 'Debian GNU/Linux 11 (Bullseye)' },
  { uuid: '01000000-0000-4000-8000-000020070100', title: 'Debian GNU/Linux 12 (Bookworm)' },
  { uuid: '01000000-0000-4000-8000-000030240200', title: 'Ubuntu Server 24.04 LTS (Noble Numbat)' },
];

export class UpcloudFake extends FakeCloudServer {
  private readonly servers = new Map<string, ServerRecord>();
  /** Storages that outlived their server (a delete without storages=1). */
  private readonly orphanStorages = new Set<string>();
  private readonly booter: InstanceBooter;
  private neverActiveAll = false;
  private readonly neverActiveNames = new Set<string>();
  private foreignCount = 0;

  constructor(private readonly options: UpcloudFakeOptions = {}) {
    super(options);
    this.booter = new InstanceBooter(options, (m) => this.problems.push(m));
    for (let i = 0; i < (options.foreignServers ?? 0); i++) this.addForeign(`db-${i + 1}`, [{ key: 'env', value: 'prod' }]);
  }

  /** A running server made by someone else (tests: it must survive everything inletsctl does). */
  addForeign(title: string, labels: Array<{ key: string; value: string }>): string {
    const s = this.newServer({ title, hostname: title, zone: 'de-fra1', plan: '2xCPU-4GB', labels, userData: Buffer.alloc(0), foreign: true, ip: `192.0.2.${10 + this.servers.size}` });
    s.state = 'started';
    this.foreignCount++;
    return s.uuid;
  }

  /**
   * A started server as another inletsctl made it (FakeEntry.seedHost): the shared and name labels,
   * the tunnel label when `host.tunnelId` is given. Titles need not be unique at UpCloud, so it
   * keeps `host.name`. Nothing boots on it.
   */
  seedServer(host: { name: string; tunnelId?: string }): string {
    const labels = [{ key: 'managed-by', value: 'inletsctl' }, { key: 'inletsctl-name', value: host.name }, ...(host.tunnelId ? [{ key: 'inletsctl-tunnel', value: host.tunnelId }] : [])];
    const s = this.newServer({ title: host.name, hostname: host.name, zone: 'de-fra1', plan: '1xCPU-1GB', labels, userData: Buffer.alloc(0), foreign: false, ip: allocateLoopbackAddress() });
    s.state = 'started';
    return s.uuid;
  }

  /** Whether a server still exists (tests). */
  has(uuid: string): boolean {
    return this.servers.has(uuid);
  }

  protected pathPrefix(): string {
    return '/1.3';
  }

  holdings(): Holdings {
    const own = [...this.servers.values()].filter((s) => !s.foreign);
    return {
      servers: own.length,
      storages: own.length + this.orphanStorages.size,
      running: this.booter.count(),
      foreignServersMissing: this.foreignCount - [...this.servers.values()].filter((s) => s.foreign).length,
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
    return upcloudOperation(req.method, req.pathname)?.op;
  }

  protected checkRequest(req: FakeRequest): string[] {
    return checkUpcloudRequest(req);
  }

  protected checkReply(_req: FakeRequest, reply: FakeReply): string[] {
    if (reply.status >= 400) {
      const e = (reply.body as { error?: { error_code?: unknown; error_message?: unknown } })?.error;
      if (typeof e?.error_code !== 'string' || typeof e.error_message !== 'string') return ['error body is not { error: { error_code, error_message } }'];
    }
    return [];
  }

  protected errorReply(status: number, code: string, message: string): FakeReply {
    const codes: Record<number, string> = { 401: 'AUTHENTICATION_FAILED', 404: 'NOT_FOUND', 429: 'TOO_MANY_REQUESTS', 500: 'INTERNAL_ERROR' };
    return { status, body: { error: { error_code: codes[status] ?? code.toUpperCase(), error_message: message } } };
  }

  protected rateLimitHeaders(): Record<string, string> {
    return {};
  }

  protected authorized(req: FakeRequest): boolean {
    const header = String(req.headers.authorization ?? '');
    const basic = /^Basic (\S+)$/.exec(header);
    if (!basic) return super.authorized(req);
    const [user, ...rest] = Buffer.from(basic[1], 'base64').toString('utf8').split(':');
    const want = this.options.acceptBasic;
    return want ? user === want.user && rest.join(':') === want.password : user !== '' && rest.length > 0;
  }

  protected handle(req: FakeRequest, op: string): FakeReply {
    const uuid = upcloudOperation(req.method, req.pathname)?.id ?? '';
    const s = this.servers.get(uuid);
    switch (op) {
      case 'servers.create':
        return this.createServer((req.body as { server: Record<string, unknown> }).server);
      case 'servers.list': {
        const filters = req.query.getAll('label');
        const items = [...this.servers.values()].filter((x) => filters.every((f) => matches(x.labels, f)));
        const page = this.page(req.query, items);
        for (const x of page) this.look(x);
        return { status: 200, body: { servers: { server: page.map((x) => this.serverJson(x, false)) } } };
      }
      case 'servers.get':
        if (!s) return this.notFound(uuid);
        this.look(s);
        return { status: 200, body: { server: this.serverJson(s, true) } };
      case 'servers.stop':
        if (!s) return this.notFound(uuid);
        // A server stuck while being created (neverActive) takes a hard stop: the fake's stand-in for
        // UpCloud ending a failed start; one already stopping is refused.
        if (s.state === 'stopped' || s.stopping || (s.state === 'maintenance' && !this.stuck(s))) return this.illegalState(s, 'stopped');
        s.state = 'maintenance';
        s.stopping = true;
        s.looks = 0;
        void this.booter.stop(s.uuid);
        return { status: 202, body: { server: this.serverJson(s, true) } };
      case 'servers.delete':
        if (!s) return this.notFound(uuid);
        if (s.state !== 'stopped') return this.illegalState(s, 'deleted');
        this.servers.delete(uuid);
        if (req.query.get('storages') !== '1') this.orphanStorages.add(s.storage);
        return { status: 204 };
      case 'firewall_rules.replace': {
        if (!s) return this.notFound(uuid);
        const rules = (req.body as { firewall_rules: { firewall_rule: Array<Record<string, unknown>> } }).firewall_rules.firewall_rule;
        s.rules = rules.map((r, i) => ({ ...r, position: String(i + 1) }));
        return { status: 204 };
      }
      case 'firewall_rules.list':
        if (!s) return this.notFound(uuid);
        return { status: 200, body: { firewall_rules: { firewall_rule: s.rules } } };
      case 'storages.templates': {
        const page = this.page(req.query, TEMPLATES);
        return {
          status: 200,
          body: { storages: { storage: page.map((t) => ({ ...t, access: 'public', license: 0, size: 4, state: 'online', template_type: 'cloud-init', type: 'template', zone: '' })) } },
        };
      }
      default:
        this.problems.push(`the fake does not implement ${op}`);
        return this.errorReply(404, 'NOT_FOUND', `${req.method} ${req.pathname} is not a known endpoint`);
    }
  }

  private createServer(body: Record<string, unknown>): FakeReply {
    const plan = String(body.plan ?? '1xCPU-1GB');
    if (!PLANS.has(plan)) return this.invalid('PLAN_INVALID', `The plan ${plan} does not exist.`);
    const zone = String(body.zone);
    if (!ZONES.has(zone)) return this.invalid('ZONE_INVALID', `The zone ${zone} does not exist.`);
    const devices = (body.storage_devices as { storage_device: Array<{ action: string; storage?: string }> }).storage_device;
    if (!devices.every((d) => d.action !== 'clone' || TEMPLATES.some((t) => t.uuid === d.storage))) return this.invalid('STORAGE_NOT_FOUND', 'The storage to clone does not exist.');
    if (body.metadata !== 'yes' && body.user_data !== undefined) return this.invalid('METADATA_DISABLED', 'user_data needs metadata "yes".');
    const labels = ((body.labels as { label?: Array<{ key: string; value: string }> } | undefined)?.label ?? []).map((l) => ({ ...l }));
    const s = this.newServer({
      title: String(body.title), hostname: String(body.hostname), zone, plan, labels, foreign: false, ip: allocateLoopbackAddress(),
      userData: Buffer.from(typeof body.user_data === 'string' ? body.user_data : '', 'utf8'),
    });
    s.firewall = body.firewall === 'on' ? 'on' : 'off';
    return { status: 202, body: { server: this.serverJson(s, true) } };
  }

  private newServer(o: Pick<ServerRecord, 'title' | 'hostname' | 'zone' | 'plan' | 'labels' | 'userData' | 'foreign' | 'ip'>): ServerRecord {
    const s: ServerRecord = { ...o, uuid: randomUUID(), state: 'maintenance', stopping: false, storage: randomUUID(), firewall: 'off', rules: [], created: Math.floor(Date.now() / 1000), looks: 0 };
    this.servers.set(s.uuid, s);
    return s;
  }

  /** A GET saw the server: it moves along its lifecycle. */
  private look(s: ServerRecord): void {
    if (s.foreign || s.state !== 'maintenance') return;
    s.looks++;
    if (s.stopping) {
      s.state = 'stopped';
      s.stopping = false;
      return;
    }
    if (this.stuck(s) || s.looks < (this.options.activeAfterPolls ?? 2)) return;
    s.state = 'started';
    this.booter.boot(s.uuid, s.userData, s.ip);
  }

  private stuck(s: ServerRecord): boolean {
    return this.neverActiveAll || this.neverActiveNames.has(s.title);
  }

  private page<T>(query: URLSearchParams, items: T[]): T[] {
    const limit = Math.min(Number(query.get('limit') ?? 100), this.options.maxPerPage ?? 100);
    const offset = Number(query.get('offset') ?? 0);
    return items.slice(offset, offset + limit);
  }

  private serverJson(s: ServerRecord, details: boolean): Record<string, unknown> {
    const base = {
      uuid: s.uuid, title: s.title, hostname: s.hostname, zone: s.zone, plan: s.plan, state: s.state, created: s.created,
      core_number: '1', memory_amount: '1024', license: 0, tags: { tag: [] }, labels: { label: s.labels },
    };
    if (!details) return base;
    return {
      ...base,
      firewall: s.firewall,
      metadata: 'yes',
      boot_order: 'disk',
      host: 7653311107,
      nic_model: 'virtio',
      timezone: 'UTC',
      video_model: 'vga',
      ip_addresses: { ip_address: [{ access: 'public', address: s.ip, family: 'IPv4', part_of_plan: 'yes' }] },
      storage_devices: { storage_device: [{ address: 'virtio:0', storage: s.storage, storage_size: 25, storage_title: `${s.title}-disk`, type: 'disk', boot_disk: '1', part_of_plan: 'yes' }] },
    };
  }

  private notFound(uuid: string): FakeReply {
    return { status: 404, body: { error: { error_code: 'SERVER_NOT_FOUND', error_message: `The server ${uuid} does not exist.` } } };
  }

  private illegalState(s: ServerRecord, wanted: string): FakeReply {
    return { status: 409, body: { error: { error_code: 'SERVER_STATE_ILLEGAL', error_message: `The server ${s.uuid} is ${s.state} and cannot be ${wanted}.` } } };
  }

  private invalid(code: string, message: string): FakeReply {
    return { status: 400, body: { error: { error_code: code, error_message: message } } };
  }
}

/** `key` or `key=value` against a server's labels. */
function matches(labels: Array<{ key: string; value: string }>, filter: string): boolean {
  const at = filter.indexOf('=');
  if (at < 0) return labels.some((l) => l.key === filter);
  return labels.some((l) => l.key === filter.slice(0, at) && l.value === filter.slice(at + 1));
}
