/**
 * A stateful fake of the Vultr API v2 (the calls inletsctl makes: instances, firewall groups and
 * their rules), on 127.0.0.1. EVERY request and response is checked against Vultr's OpenAPI
 * description in ../shared/cloud-specs/vultr/swagger.json (see SOURCES.md there): path and method
 * documented, path and query parameters, bearer token, request and response body schemas, plus
 * request fields the description does not name (its schemas allow any, so a misspelt field would
 * pass otherwise). Mismatches are recorded in `mismatches`; tests fail on any.
 *
 * Where the description is silent or disagrees with its own introduction, the fake follows the
 * introduction and says so in {@link VULTR_SPEC_NOTES}: error answers carry `{ error, status }`
 * although each operation documents its 4xx answers without a body, and 429 and 500 are answered
 * by every operation although none lists them.
 *
 * Behaviour modelled:
 * - instances start `pending` (power `running`, server `none`, main_ip 0.0.0.0) and turn
 *   `active`/`ok` with a loopback main_ip after `activeAfterPolls` observations (GETs and list
 *   entries), booting their decoded `user_data` there; DELETE answers 204 and the instance is gone;
 * - `GET /instances` filters by `tag` (exact) and `label`, and pages by cursor
 *   (`meta.links.next`; per_page 100 by default, at most 500, or `maxPerPage`);
 * - firewall groups (`description` only) and their rules (accept only; `ip_type`, `protocol`,
 *   `subnet`, `subnet_size`, `port`); an instance's `firewall_group_id` must name a group, which
 *   then counts it in `instance_count`; a group still linked to an instance is not deleted
 *   (assumed: 400);
 * - `user_data` must be base64 and, decoded, within inletsctl's own bound (Vultr documents none);
 * - no rate-limit headers (Vultr documents none); a fault's 429 carries Retry-After.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { requireCloudSpec } from '../helpers/cloud-specs.js';
import { FakeCloudServer, type FakeCloudOptions, type FakeReply, type FakeRequest, type Holdings } from './fake-cloud-server.js';
import { InstanceBooter, allocateLoopbackAddress, type InstanceBooterOptions } from './instance-booter.js';
import { OpenApiSpec } from './openapi/openapi-spec.js';
import { OpenApiValidator, type MatchedOperation } from './openapi/openapi-validator.js';
import { VULTR_REGIONS } from '../../providers/vultr/index.js';

const SPEC_FILE = 'vultr/swagger.json';

/**
 * Where the description and the API part (what the fake does instead):
 * - every operation documents 400/401/403/404 "without a body", yet the introduction says "All
 *   4xx errors will return a JSON response object with an `error` attribute": error bodies are
 *   `{ error, status }`, checked by {@link checkErrorBody};
 * - no operation lists 429 or 500, which the introduction's "Response Codes" table documents for
 *   all: answered where a fault asks for them;
 * - `GET /instances`' `tag` filter is marked deprecated (in favour of nothing: instances carry
 *   `tags`); it is still the only tag filter, so the provider uses it and also checks the tags;
 * - the rule `protocol` is listed in upper case (TCP) while the examples answer lower case (tcp):
 *   both are taken, and answered in lower case;
 * - the description has no error-body schema and no rate-limit headers; Vultr's documented limit is
 *   30 requests per second per IP.
 */
export const VULTR_SPEC_NOTES = [
  'operations document 4xx answers without a body; the introduction says they carry a JSON `error`',
  'no operation lists 429 or 500; the introduction documents both for every call',
  'list-instances `tag` query parameter is marked deprecated but is the only tag filter',
  'firewall rule `protocol` is documented in upper case, answered in lower case',
];

/** Statuses the introduction's "Response Codes" table documents for every operation. */
const INTRO_STATUSES = new Set([400, 401, 403, 404, 429, 500]);

let sharedValidator: OpenApiValidator | undefined;
let sharedSpec: OpenApiSpec | undefined;
/** One parsed description per process. */
export function vultrValidator(): OpenApiValidator {
  sharedSpec ??= new OpenApiSpec(process.env.VULTR_SPEC ?? requireCloudSpec(SPEC_FILE));
  sharedValidator ??= new OpenApiValidator(sharedSpec);
  return sharedValidator;
}

/** The request-body property names the description gives an operation (empty when it has none). */
function documentedFields(op: MatchedOperation): Set<string> | undefined {
  const v = vultrValidator();
  const rb = op.operation.node.requestBody as Record<string, unknown> | undefined;
  if (!rb) return undefined;
  const content = v.spec.deref({ file: op.operation.file, node: rb }).node.content as Record<string, { schema?: unknown }> | undefined;
  const schema = content?.['application/json']?.schema;
  if (!schema) return undefined;
  const node = v.spec.deref({ file: op.operation.file, node: schema }).node as { properties?: Record<string, unknown> };
  return new Set(Object.keys(node.properties ?? {}));
}

/** Checks a request against the description, and that its body names only documented fields. */
export function checkVultrRequest(req: Pick<FakeRequest, 'method' | 'pathname' | 'query' | 'headers' | 'rawBody'>): { op?: MatchedOperation; problems: string[] } {
  const v = vultrValidator();
  const { op, problems } = v.checkRequest({ method: req.method, pathname: req.pathname, query: req.query, headers: req.headers, body: req.rawBody });
  if (op && req.rawBody) {
    const fields = documentedFields(op);
    let parsed: unknown;
    try {
      parsed = JSON.parse(req.rawBody);
    } catch {
      parsed = undefined;
    }
    if (fields && parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      for (const k of Object.keys(parsed)) if (!fields.has(k)) problems.push(`request body field ${k} is not documented`);
    }
  }
  return { op, problems };
}

/**
 * An error answer as the introduction documents it: for 4xx a JSON object whose `error` is a
 * string (and whose `status`, when present, is the HTTP status); 5xx may carry anything.
 */
export function checkErrorBody(op: MatchedOperation, status: number, body: unknown): string[] {
  const documented = Object.keys((op.operation.node.responses ?? {}) as Record<string, unknown>);
  if (!documented.includes(String(status)) && !INTRO_STATUSES.has(status)) return [`status ${status} is documented neither for ${op.operationId} nor in the introduction`];
  if (status >= 500) return [];
  const b = body as { error?: unknown; status?: unknown } | undefined;
  const problems: string[] = [];
  if (!b || typeof b !== 'object' || typeof b.error !== 'string') problems.push('a 4xx answer without a JSON `error` string');
  else if (b.status !== undefined && b.status !== status) problems.push(`error body status ${String(b.status)} is not the HTTP status ${status}`);
  return problems;
}

export interface VultrFakeOptions extends FakeCloudOptions, InstanceBooterOptions {
  /** Observations before a new instance is active. Default 2. */
  activeAfterPolls?: number;
  /** Largest page served, whatever per_page asks. Default 500 (the documented maximum). */
  maxPerPage?: number;
  /** Instances not made by inletsctl (tagged `web`); they must survive. Default 0. */
  foreignInstances?: number;
}

/** The bound the fake holds decoded user_data to: inletsctl's own (providers/vultr), as Vultr documents none. */
export const FAKE_USER_DATA_LIMIT = 32 * 1024;

interface InstanceRecord {
  id: string;
  label: string;
  hostname: string;
  region: string;
  plan: string;
  osId: number;
  tags: string[];
  userData: Buffer;
  firewallGroupId: string;
  status: 'pending' | 'active';
  ip?: string;
  dateCreated: string;
  polls: number;
  foreign: boolean;
  /** The create request's body, minus user_data (kept decoded above), for tests. */
  sent: Record<string, unknown>;
}

export interface VultrRule {
  id: number;
  type: string;
  ip_type: string;
  action: 'accept';
  protocol: string;
  port: string;
  subnet: string;
  subnet_size: number;
  source: string;
  notes: string;
}

interface GroupRecord {
  id: string;
  description: string;
  dateCreated: string;
  dateModified: string;
  rules: VultrRule[];
  nextRuleId: number;
}

const PLANS: Record<string, { vcpu: number; ram: number; disk: number; bandwidth: number }> = {
  'vc2-1c-1gb': { vcpu: 1, ram: 1024, disk: 25, bandwidth: 1024 },
  'vc2-1c-2gb': { vcpu: 1, ram: 2048, disk: 55, bandwidth: 2048 },
  'vc2-2c-4gb': { vcpu: 2, ram: 4096, disk: 80, bandwidth: 3072 },
};
const OS: Record<number, string> = {
  2136: 'Debian 12 x64 (bookworm)',
  2625: 'Debian 13 x64 (trixie)',
  2284: 'Ubuntu 24.04 LTS x64',
};
const PROTOCOLS = ['icmp', 'tcp', 'udp', 'gre', 'esp', 'ah'];

export class VultrFake extends FakeCloudServer {
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly groups = new Map<string, GroupRecord>();
  private readonly booter: InstanceBooter;
  private readonly matched = new WeakMap<FakeRequest, MatchedOperation>();
  private neverActiveAll = false;
  private readonly neverActiveNames = new Set<string>();
  private readonly foreignCount: number;

  constructor(private readonly options: VultrFakeOptions = {}) {
    super(options);
    vultrValidator();
    this.booter = new InstanceBooter(options, (m) => this.problems.push(m));
    this.foreignCount = options.foreignInstances ?? 0;
    for (let i = 0; i < this.foreignCount; i++) {
      const r = this.newInstance({ label: `web-${i + 1}`, region: 'ewr', tags: ['web'], foreign: true });
      r.status = 'active';
      r.ip = `192.0.2.${i + 10}`;
    }
  }

  protected pathPrefix(): string {
    return '/v2';
  }

  /** Operations of the description this fake has seen. */
  operationsValidated(): string[] {
    return [...vultrValidator().operationsSeen].sort();
  }

  holdings(): Holdings {
    const own = [...this.instances.values()].filter((i) => !i.foreign);
    const foreign = [...this.instances.values()].filter((i) => i.foreign).length;
    return { instances: own.length, firewallGroups: this.groups.size, running: this.booter.count(), foreignInstancesMissing: this.foreignCount - foreign };
  }

  neverActive(name?: string): void {
    if (name === undefined) this.neverActiveAll = true;
    else this.neverActiveNames.add(name);
  }

  /** What create sent for instance `id` (user_data decoded), for tests. */
  createdWith(id: string): { body: Record<string, unknown>; userData: Buffer; tags: string[]; firewallGroupId: string } | undefined {
    const r = this.instances.get(id);
    return r && { body: r.sent, userData: r.userData, tags: r.tags, firewallGroupId: r.firewallGroupId };
  }

  /** The firewall groups held: id, description and rules. */
  firewallGroups(): Array<{ id: string; description: string; rules: VultrRule[] }> {
    return [...this.groups.values()].map((g) => ({ id: g.id, description: g.description, rules: g.rules.map((r) => ({ ...r })) }));
  }

  /**
   * A running instance as another inletsctl made it (see FakeEntry.seedHost): the shared tag,
   * the name tag and, when given, the tunnel tag. Nothing boots on it.
   */
  seedInstance(host: { name: string; tunnelId?: string }): string {
    const tags = ['inletsctl', `inletsctl:${host.name}`, ...(host.tunnelId ? [`inletsctl-tunnel:${host.tunnelId}`] : [])];
    const r = this.newInstance({ label: host.name, region: 'lhr', tags, foreign: false });
    r.status = 'active';
    r.ip = allocateLoopbackAddress();
    return r.id;
  }

  protected async shutdown(): Promise<void> {
    await this.booter.stopAll();
  }

  protected operationOf(req: FakeRequest): string | undefined {
    return vultrValidator().match(req.method, req.pathname)?.operationId;
  }

  protected checkRequest(req: FakeRequest): string[] {
    const { op, problems } = checkVultrRequest(req);
    if (op) this.matched.set(req, op);
    return problems;
  }

  protected checkReply(req: FakeRequest, reply: FakeReply): string[] {
    const op = this.matched.get(req);
    if (!op) return [];
    if (reply.status >= 400) return checkErrorBody(op, reply.status, reply.body);
    const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
    return vultrValidator().checkResponse(op, reply.status, body, body ? 'application/json; charset=utf-8' : undefined);
  }

  protected errorReply(status: number, _code: string, message: string): FakeReply {
    const text = status === 401 ? 'Invalid API token.' : message;
    return { status, body: { error: text, status } };
  }

  protected rateLimitHeaders(): Record<string, string> {
    return {};
  }

  protected handle(req: FakeRequest, op: string): FakeReply {
    const params = this.matched.get(req)?.pathParams ?? {};
    const body = (req.body ?? {}) as Record<string, unknown>;
    switch (op) {
      case 'create-instance':
        return this.createInstance(body);
      case 'list-instances':
        return this.listInstances(req.query);
      case 'get-instance': {
        const r = this.instances.get(params['instance-id']);
        if (!r) return this.notFound('Invalid instance-id.');
        this.observe(r);
        return { status: 200, body: { instance: this.instanceJson(r) } };
      }
      case 'delete-instance': {
        const r = this.instances.get(params['instance-id']);
        if (!r) return this.notFound('Invalid instance-id.');
        this.instances.delete(r.id);
        void this.booter.stop(r.id);
        return { status: 204 };
      }
      case 'create-firewall-group': {
        if (body.description !== undefined && typeof body.description !== 'string') return this.bad('description must be a string');
        const now = isoNow();
        const g: GroupRecord = { id: randomBytes(4).toString('hex'), description: String(body.description ?? ''), dateCreated: now, dateModified: now, rules: [], nextRuleId: 1 };
        this.groups.set(g.id, g);
        return { status: 201, body: { firewall_group: this.groupJson(g) } };
      }
      case 'list-firewall-groups':
        return this.page(req.query, 'firewall_groups', [...this.groups.values()], (g) => this.groupJson(g));
      case 'get-firewall-group': {
        const g = this.groups.get(params['firewall-group-id']);
        return g ? { status: 200, body: { firewall_group: this.groupJson(g) } } : this.notFound('Invalid firewall group.');
      }
      case 'delete-firewall-group': {
        const g = this.groups.get(params['firewall-group-id']);
        if (!g) return this.notFound('Invalid firewall group.');
        if (this.linkedTo(g.id) > 0) return this.bad('Unable to delete firewall group: it is linked to instances.');
        this.groups.delete(g.id);
        return { status: 204 };
      }
      case 'post-firewalls-firewall-group-id-rules':
        return this.createRule(params['firewall-group-id'], body);
      case 'list-firewall-group-rules': {
        const g = this.groups.get(params['firewall-group-id']);
        if (!g) return this.notFound('Invalid firewall group.');
        return this.page(req.query, 'firewall_rules', g.rules, (r) => ({ ...r }));
      }
      default:
        this.problems.push(`the fake does not implement ${op}`);
        return this.notFound('Not implemented by the fake.');
    }
  }

  private newInstance(o: { label: string; region: string; tags: string[]; foreign: boolean; plan?: string; osId?: number; userData?: Buffer; firewallGroupId?: string; sent?: Record<string, unknown> }): InstanceRecord {
    const r: InstanceRecord = {
      id: randomUUID(), label: o.label, hostname: o.label, region: o.region, plan: o.plan ?? 'vc2-1c-1gb', osId: o.osId ?? 2136, tags: o.tags,
      userData: o.userData ?? Buffer.alloc(0), firewallGroupId: o.firewallGroupId ?? '', status: 'pending', dateCreated: isoNow(), polls: 0,
      foreign: o.foreign, sent: o.sent ?? {},
    };
    this.instances.set(r.id, r);
    return r;
  }

  private createInstance(body: Record<string, unknown>): FakeReply {
    const region = body.region;
    const plan = body.plan;
    if (typeof region !== 'string' || !(VULTR_REGIONS as readonly string[]).includes(region)) return this.bad('Invalid region.');
    if (typeof plan !== 'string' || !PLANS[plan]) return this.bad('Invalid plan.');
    if (typeof body.os_id !== 'number' || !OS[body.os_id]) return this.bad('Invalid operating system.');
    let userData = Buffer.alloc(0);
    if (body.user_data !== undefined) {
      const text = String(body.user_data);
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return this.bad('Invalid user data: must be base64 encoded.');
      userData = Buffer.from(text, 'base64');
      if (userData.length > FAKE_USER_DATA_LIMIT) return this.bad('User data is too large.');
    }
    const tags = body.tags ?? [];
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) return this.bad('tags must be an array of strings.');
    const groupId = body.firewall_group_id === undefined ? '' : String(body.firewall_group_id);
    if (groupId && !this.groups.has(groupId)) return this.bad('Invalid firewall group.');
    const label = typeof body.label === 'string' ? body.label : '';
    const { user_data: _omit, ...sent } = body;
    const r = this.newInstance({ label, region, plan, osId: body.os_id, tags: tags as string[], userData, firewallGroupId: groupId, foreign: false, sent });
    if (typeof body.hostname === 'string') r.hostname = body.hostname;
    return { status: 202, body: { instance: { ...this.instanceJson(r), default_password: randomBytes(9).toString('base64') } } };
  }

  private listInstances(query: URLSearchParams): FakeReply {
    const tag = query.get('tag');
    const label = query.get('label');
    const all = [...this.instances.values()].filter((r) => (!tag || r.tags.includes(tag)) && (!label || r.label === label));
    return this.page(query, 'instances', all, (r) => {
      this.observe(r);
      return this.instanceJson(r);
    });
  }

  /** One page of `items` from `cursor` (an opaque offset), with Vultr's `meta`. */
  private page<T>(query: URLSearchParams, key: string, items: T[], render: (item: T) => unknown): FakeReply {
    const asked = Number(query.get('per_page') ?? 100);
    if (!Number.isInteger(asked) || asked < 1 || asked > 500) return this.bad('per_page must be between 1 and 500.');
    const perPage = Math.min(asked, this.options.maxPerPage ?? 500);
    const cursor = query.get('cursor');
    let offset = 0;
    if (cursor) {
      const m = /^next__(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
      if (!m) return this.bad('Invalid cursor.');
      offset = Number(m[1]);
    }
    const slice = items.slice(offset, offset + perPage);
    const enc = (n: number) => Buffer.from(`next__${n}`).toString('base64');
    const next = offset + perPage < items.length ? enc(offset + perPage) : '';
    const prev = offset > 0 ? Buffer.from(`prev__${Math.max(offset - perPage, 0)}`).toString('base64') : '';
    return { status: 200, body: { [key]: slice.map(render), meta: { total: items.length, links: { next, prev } } } };
  }

  private createRule(groupId: string, body: Record<string, unknown>): FakeReply {
    const g = this.groups.get(groupId);
    if (!g) return this.notFound('Invalid firewall group.');
    const ipType = body.ip_type;
    const protocol = typeof body.protocol === 'string' ? body.protocol.toLowerCase() : '';
    if (ipType !== 'v4' && ipType !== 'v6') return this.bad('Invalid ip_type: v4 or v6.');
    if (!PROTOCOLS.includes(protocol)) return this.bad('Invalid protocol.');
    const subnet = String(body.subnet ?? '');
    const size = body.subnet_size;
    const v4 = /^(\d{1,3})(\.\d{1,3}){3}$/.test(subnet);
    if (ipType === 'v4' ? !v4 : !subnet.includes(':')) return this.bad('Subnet does not match ip_type.');
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || size > (ipType === 'v4' ? 32 : 128)) return this.bad('Invalid subnet_size.');
    const port = body.port === undefined ? '' : String(body.port);
    if ((protocol === 'tcp' || protocol === 'udp') && !/^\d{1,5}(:\d{1,5})?$/.test(port)) return this.bad('Invalid port.');
    if (g.rules.length >= 50) return this.bad('Firewall group has reached its maximum number of rules.');
    const rule: VultrRule = {
      id: g.nextRuleId++, type: ipType, ip_type: ipType, action: 'accept', protocol, port, subnet, subnet_size: size,
      source: typeof body.source === 'string' ? body.source : '', notes: typeof body.notes === 'string' ? body.notes : '',
    };
    g.rules.push(rule);
    g.dateModified = isoNow();
    return { status: 201, body: { firewall_rule: { ...rule } } };
  }

  /** A GET saw the instance: after enough of them it is active, has an address, and boots. */
  private observe(r: InstanceRecord): void {
    if (r.status !== 'pending') return;
    r.polls++;
    if (this.neverActiveAll || this.neverActiveNames.has(r.label)) return;
    if (r.polls < (this.options.activeAfterPolls ?? 2)) return;
    r.status = 'active';
    r.ip = allocateLoopbackAddress();
    this.booter.boot(r.id, r.userData, r.ip);
  }

  private linkedTo(groupId: string): number {
    return [...this.instances.values()].filter((r) => r.firewallGroupId === groupId).length;
  }

  private instanceJson(r: InstanceRecord): Record<string, unknown> {
    const plan = PLANS[r.plan] ?? PLANS['vc2-1c-1gb'];
    const active = r.status === 'active';
    return {
      id: r.id,
      os: OS[r.osId] ?? 'Debian 12 x64 (bookworm)',
      ram: plan.ram,
      disk: plan.disk,
      main_ip: r.ip ?? '0.0.0.0',
      vcpu_count: plan.vcpu,
      region: r.region,
      plan: r.plan,
      date_created: r.dateCreated,
      status: r.status,
      allowed_bandwidth: plan.bandwidth,
      netmask_v4: active ? '255.255.254.0' : '',
      gateway_v4: active ? '127.0.0.1' : '0.0.0.0',
      power_status: 'running',
      server_status: active ? 'ok' : 'none',
      v6_networks: [],
      hostname: r.hostname,
      label: r.label,
      internal_ip: '',
      kvm: active ? `https://my.vultr.com/subs/vps/novnc/api.php?data=${r.id.slice(0, 8)}` : '',
      os_id: r.osId,
      app_id: 0,
      image_id: '',
      firewall_group_id: r.firewallGroupId,
      features: [],
      tags: [...r.tags],
    };
  }

  private groupJson(g: GroupRecord): Record<string, unknown> {
    return {
      id: g.id, description: g.description, date_created: g.dateCreated, date_modified: g.dateModified,
      instance_count: this.linkedTo(g.id), rule_count: g.rules.length, max_rule_count: 50,
    };
  }

  private notFound(message: string): FakeReply {
    return { status: 404, body: { error: message, status: 404 } };
  }

  private bad(message: string): FakeReply {
    return { status: 400, body: { error: message, status: 400 } };
  }
}

/** Vultr writes times as `2020-10-10T01:56:20+00:00`. */
function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00');
}
