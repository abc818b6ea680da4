/**
 * A stateful fake of the Linode API v4 (the calls inletsctl makes: instances, Cloud Firewalls,
 * one region and one image look-up), on 127.0.0.1, under `/v4`.
 *
 * Checked against Linode's official OpenAPI description, the subset in
 * ../shared/cloud-specs/linode/openapi-subset.json (see SOURCES.md), with its `allOf`s merged as
 * linode-spec.ts explains (read literally, the description refuses every valid create): EVERY request to the
 * instance and firewall operations is checked (path, method, path and query parameters, bearer
 * token, request body schema) and so is every answer (documented status, body schema, including
 * the `{ errors: [{ field, reason }] }` of the `default` answer). Mismatches are recorded in
 * `mismatches`; tests fail on any.
 *
 * Not in the subset, built from Linode's public API reference instead (and checked by hand-written
 * rules in linode-schemas.ts): `GET /v4/regions/{regionId}` (get-region,
 * https://techdocs.akamai.com/linode-api/reference/get-region) and `GET /v4/images/{imageId}`
 * (get-image, https://techdocs.akamai.com/linode-api/reference/get-image; an official image id has
 * a slash: `linode/debian12`). Also hand-checked: the `X-Filter` header, which the description
 * documents (for instance lists) as a JSON object but the shared validator does not read.
 *
 * Behaviour modelled:
 * - instances get their IPv4 (a loopback address) at create, are `provisioning` (then `booting`
 *   on the last look) for `activeAfterPolls` observations, then `running`, when their user data (base64 in
 *   `metadata.user_data`) boots there; DELETE removes them at once (`{}`), and detaches them from
 *   their firewall;
 * - labels are unique in the account, for instances and for firewalls (400 with field `label`);
 *   tags are 3-50 characters (POST /tags in the reference; assumed for instance tags);
 * - a create needs `root_pass` (or `authorized_keys`) with an image; `user_data` needs a region with
 *   the "Metadata" capability and an image with "cloud-init" (the fake's regions and images: the
 *   capabilities are the fake's own choice, one of each lacks them to test the refusals), and its
 *   base64 may not pass 65,535 characters; `firewall_id` must name an existing firewall;
 * - lists are paginated (`page`, `page_size` 25-500, default 100; `{ data, page, pages, results }`);
 *   instance lists honour `X-Filter: {"tags": "<tag>"}` (objects carrying that tag);
 * - firewall entities omit their read-only `url`: Linode answers a path (`/v4/linode/instances/123`,
 *   the description's own example) while the description says `format: url`, which needs an absolute URL;
 * - instances omit `locks`, which GET documents but the POST answer's schema does not allow;
 * - errors are `{ errors: [{ field?, reason }] }`; every answer carries X-RateLimit-Limit,
 *   X-RateLimit-Remaining and X-RateLimit-Reset (assumed from the reference's rate-limit page).
 */
import { requireCloudSpec } from '../helpers/cloud-specs.js';
import { FakeCloudServer, type FakeCloudOptions, type FakeReply, type FakeRequest, type Holdings } from './fake-cloud-server.js';
import { InstanceBooter, allocateLoopbackAddress, type InstanceBooterOptions } from './instance-booter.js';
import { OpenApiSpec } from './openapi/openapi-spec.js';
import { OpenApiValidator, type MatchedOperation } from './openapi/openapi-validator.js';
import { mergedLinodeSpec } from './linode-spec.js';
import { FAKE_IMAGES, FAKE_REGIONS, FAKE_TYPES, checkFilterHeader, checkSupplementReply, checkSupplementRequest, supplementOperation } from './linode-schemas.js';

const SPEC_FILE = 'linode/openapi-subset.json';
const LABEL = /^[a-zA-Z]((?!--|__|\.\.)[a-zA-Z0-9-_.])+$/;

let sharedValidator: OpenApiValidator | undefined;
/** One parsed spec per process. */
export function linodeValidator(): OpenApiValidator {
  sharedValidator ??= new OpenApiValidator(new OpenApiSpec(mergedLinodeSpec(process.env.LINODE_SPEC ?? requireCloudSpec(SPEC_FILE))));
  return sharedValidator;
}

export interface LinodeFakeOptions extends FakeCloudOptions, InstanceBooterOptions {
  /** Observations before a new instance is running. Default 2. */
  activeAfterPolls?: number;
  /** Largest page served, whatever page_size asks (to exercise pagination). Default 500. */
  maxPerPage?: number;
  /** Instances not made by inletsctl; they must survive. Default 0. */
  foreignInstances?: number;
}

interface InstanceRecord {
  id: number;
  label: string;
  region: string;
  type: string;
  image: string;
  tags: string[];
  status: 'provisioning' | 'booting' | 'running';
  ip: string;
  userData: Buffer;
  firewallId?: number;
  created: string;
  polls: number;
  foreign: boolean;
}

interface FirewallRecord {
  id: number;
  label: string;
  tags: string[];
  rules: Record<string, unknown>;
  created: string;
}

export class LinodeFake extends FakeCloudServer {
  private readonly validator = linodeValidator();
  private readonly instances = new Map<number, InstanceRecord>();
  private readonly firewalls = new Map<number, FirewallRecord>();
  private readonly booter: InstanceBooter;
  private readonly matched = new WeakMap<FakeRequest, MatchedOperation>();
  private nextId = 41_000_001;
  private nextFirewallId = 700_001;
  private neverActiveAll = false;
  private readonly neverActiveNames = new Set<string>();
  private readonly foreignCount: number;

  constructor(private readonly options: LinodeFakeOptions = {}) {
    super(options);
    this.booter = new InstanceBooter(options, (m) => this.problems.push(m));
    this.foreignCount = options.foreignInstances ?? 0;
    for (let i = 0; i < this.foreignCount; i++) {
      const s = this.newInstance({ label: `web-${i + 1}`, region: 'gb-lon', tags: ['web'], foreign: true });
      s.status = 'running';
      s.ip = `192.0.2.${i + 10}`;
    }
  }

  /** Clients use the API under /v4, as at https://api.linode.com/v4. */
  override get url(): string {
    return `${this.origin}/v4`;
  }

  holdings(): Holdings {
    const all = [...this.instances.values()];
    return {
      instances: all.filter((s) => !s.foreign).length,
      firewalls: this.firewalls.size,
      running: this.booter.count(),
      foreignInstancesMissing: this.foreignCount - all.filter((s) => s.foreign).length,
    };
  }

  neverActive(name?: string): void {
    if (name === undefined) this.neverActiveAll = true;
    else this.neverActiveNames.add(name);
  }

  /** What an instance was created with (tests check tags, user data, firewall). */
  createdWith(id: string): { label: string; tags: string[]; userData: Buffer; firewallId?: number } | undefined {
    const s = this.instances.get(Number(id));
    return s && { label: s.label, tags: s.tags, userData: s.userData, firewallId: s.firewallId };
  }

  /** A firewall as the fake holds it. */
  firewall(id: number): FirewallRecord | undefined {
    return this.firewalls.get(id);
  }

  /** Every firewall's id. */
  firewallIds(): number[] {
    return [...this.firewalls.keys()];
  }

  /**
   * A running instance as another inletsctl made it (see FakeEntry.seedHost): our tags, the tunnel
   * tag only when a tunnel id is given. Labels are unique in an account: a taken one gets a suffix.
   */
  seedInstance(host: { name: string; tunnelId?: string }): string {
    const tags = ['inletsctl', `inletsctl:${host.name}`, ...(host.tunnelId ? [`inletsctl-tunnel:${host.tunnelId}`] : [])];
    let label = host.name;
    for (let i = 2; this.labelTaken(label); i++) label = `${host.name}-${i}`;
    const s = this.newInstance({ label, region: 'gb-lon', tags, foreign: false });
    s.status = 'running';
    return String(s.id);
  }

  protected async shutdown(): Promise<void> {
    await this.booter.stopAll();
  }

  protected operationOf(req: FakeRequest): string | undefined {
    return supplementOperation(req.method, req.pathname)?.op ?? this.validator.match(req.method, req.pathname)?.operationId;
  }

  protected checkRequest(req: FakeRequest): string[] {
    const op = this.operationOf(req);
    const filter = checkFilterHeader(req, op);
    if (supplementOperation(req.method, req.pathname)) return [...checkSupplementRequest(req), ...filter];
    const { op: matched, problems } = this.validator.checkRequest({ method: req.method, pathname: req.pathname, query: req.query, headers: req.headers, body: req.rawBody });
    if (matched) this.matched.set(req, matched);
    return [...problems, ...filter];
  }

  protected checkReply(req: FakeRequest, reply: FakeReply): string[] {
    const supplement = supplementOperation(req.method, req.pathname);
    if (supplement) return checkSupplementReply(supplement.op, reply);
    const op = this.matched.get(req);
    if (!op) return [];
    const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
    return this.validator.checkResponse(op, reply.status, body, body ? 'application/json; charset=utf-8' : undefined);
  }

  protected errorReply(status: number, _code: string, message: string): FakeReply {
    const reasons: Record<number, string> = { 401: 'Invalid Token', 429: 'Too many requests' };
    return { status, body: { errors: [{ reason: reasons[status] ? `${reasons[status]}: ${message}` : message }] } };
  }

  protected rateLimitHeaders(limited: boolean): Record<string, string> {
    return {
      'x-ratelimit-limit': '800',
      'x-ratelimit-remaining': String(limited ? 0 : this.remaining),
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + (limited ? 1 : 60)),
    };
  }

  protected handle(req: FakeRequest, op: string): FakeReply {
    const supplement = supplementOperation(req.method, req.pathname);
    const params = this.matched.get(req)?.pathParams ?? {};
    const body = (req.body ?? {}) as Record<string, unknown>;
    switch (op) {
      case 'get-region': {
        const r = FAKE_REGIONS[supplement?.id ?? ''];
        return r ? { status: 200, body: r } : this.notFound();
      }
      case 'get-image': {
        const i = FAKE_IMAGES[supplement?.id ?? ''];
        return i ? { status: 200, body: i } : this.notFound();
      }
      case 'post-linode-instance':
        return this.createInstance(body);
      case 'get-linode-instances':
        return this.listInstances(req);
      case 'get-linode-instance': {
        const s = this.instances.get(Number(params.linodeId));
        if (!s) return this.notFound();
        this.observe(s);
        return { status: 200, body: this.instanceJson(s) };
      }
      case 'delete-linode-instance': {
        const s = this.instances.get(Number(params.linodeId));
        if (!s) return this.notFound();
        this.instances.delete(s.id);
        void this.booter.stop(String(s.id));
        return { status: 200, body: {} };
      }
      case 'post-firewalls':
        return this.createFirewall(body);
      case 'get-firewalls':
        return this.page(req.query, [...this.firewalls.values()].map((f) => this.firewallJson(f)));
      case 'get-firewall': {
        const f = this.firewalls.get(Number(params.firewallId));
        return f ? { status: 200, body: this.firewallJson(f) } : this.notFound();
      }
      case 'delete-firewall': {
        const f = this.firewalls.get(Number(params.firewallId));
        if (!f) return this.notFound();
        this.firewalls.delete(f.id);
        for (const s of this.instances.values()) if (s.firewallId === f.id) s.firewallId = undefined;
        return { status: 200, body: {} };
      }
      default:
        this.problems.push(`the fake does not implement ${op}`);
        return this.notFound();
    }
  }

  private createInstance(body: Record<string, unknown>): FakeReply {
    const region = String(body.region ?? '');
    const r = FAKE_REGIONS[region];
    if (!r) return this.invalid('region', 'region is not valid');
    const type = String(body.type ?? '');
    if (!FAKE_TYPES[type]) return this.invalid('type', 'A valid plan type by that ID was not found');
    const image = typeof body.image === 'string' ? body.image : '';
    const img = FAKE_IMAGES[image];
    if (!img) return this.invalid('image', 'image is not valid');
    if (typeof body.root_pass !== 'string' && !Array.isArray(body.authorized_keys)) return this.invalid('root_pass', 'root_pass is required when creating a Linode from an image');
    const label = typeof body.label === 'string' ? body.label : `linode${this.nextId}`;
    if (this.labelTaken(label)) return this.invalid('label', 'Label must be unique among your linodes');
    const tags = Array.isArray(body.tags) ? (body.tags as string[]) : [];
    const badTag = tags.find((t) => t.length < 3 || t.length > 50);
    if (badTag !== undefined) return this.invalid('tags', `Length must be 3-50 characters: "${badTag}"`);
    const encoded = (body.metadata as { user_data?: unknown } | undefined)?.user_data;
    let userData = Buffer.alloc(0);
    if (encoded !== undefined) {
      if (!r.capabilities.includes('Metadata')) return this.invalid('metadata', 'Metadata is not supported in this region');
      if (!img.capabilities.includes('cloud-init')) return this.invalid('metadata', 'Metadata is not supported by this image');
      if (typeof encoded !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return this.invalid('metadata.user_data', 'user_data must be base64-encoded');
      if (encoded.length > 65_535) return this.invalid('metadata.user_data', 'Unencoded data can\'t exceed 65535 bytes when encoded');
      userData = Buffer.from(encoded, 'base64');
    }
    let firewallId: number | undefined;
    if (body.firewall_id !== undefined && body.firewall_id !== null && body.firewall_id !== -1) {
      firewallId = Number(body.firewall_id);
      if (!this.firewalls.has(firewallId)) return this.invalid('firewall_id', `Firewall ${firewallId} not found`);
      if (body.interface_generation === 'linode') return this.invalid('firewall_id', 'firewall_id applies to legacy configuration interfaces only');
    }
    const s = this.newInstance({ label, region, tags, foreign: false, type, image, userData, firewallId });
    return { status: 200, body: this.instanceJson(s) };
  }

  private newInstance(o: { label: string; region: string; tags: string[]; foreign: boolean; type?: string; image?: string; userData?: Buffer; firewallId?: number }): InstanceRecord {
    const s: InstanceRecord = {
      id: this.nextId++, label: o.label, region: o.region, type: o.type ?? 'g6-nanode-1', image: o.image ?? 'linode/debian12', tags: [...o.tags],
      status: 'provisioning', ip: allocateLoopbackAddress(), userData: o.userData ?? Buffer.alloc(0), firewallId: o.firewallId, created: isoNow(), polls: 0, foreign: o.foreign,
    };
    this.instances.set(s.id, s);
    return s;
  }

  private listInstances(req: FakeRequest): FakeReply {
    const filter = parseFilter(req.headers['x-filter']);
    const tag = typeof filter?.tags === 'string' ? filter.tags : undefined;
    const all = [...this.instances.values()].filter((s) => tag === undefined || s.tags.includes(tag));
    return this.page(req.query, all, (s) => {
      this.observe(s);
      return this.instanceJson(s);
    });
  }

  /** One page of `items`: `{ data, page, pages, results }`. */
  private page<T>(query: URLSearchParams, items: T[], render: (item: T) => unknown = (x) => x): FakeReply {
    const asked = Number(query.get('page_size') ?? 100);
    const perPage = Math.max(Math.min(asked, 500, this.options.maxPerPage ?? 500), 1);
    const pages = Math.max(Math.ceil(items.length / perPage), 1);
    const page = Math.max(Number(query.get('page') ?? 1), 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    return { status: 200, body: { data: slice.map(render), page, pages, results: items.length } };
  }

  private createFirewall(body: Record<string, unknown>): FakeReply {
    const label = String(body.label ?? '');
    if ([...this.firewalls.values()].some((f) => f.label === label)) return this.invalid('label', 'Label must be unique');
    const tags = Array.isArray(body.tags) ? (body.tags as string[]) : [];
    const badTag = tags.find((t) => t.length < 3 || t.length > 50);
    if (badTag !== undefined) return this.invalid('tags', `Length must be 3-50 characters: "${badTag}"`);
    const rules = (body.rules ?? {}) as Record<string, unknown>;
    const inbound = Array.isArray(rules.inbound) ? (rules.inbound as Array<{ ports?: unknown }>) : [];
    for (const rule of inbound) {
      const ports = typeof rule.ports === 'string' ? rule.ports.split(',') : [];
      if (ports.length > 15) return this.invalid('rules.inbound.ports', 'A rule may list at most 15 ports');
      if (ports.some((p) => !/^\d{1,5}(-\d{1,5})?$/.test(p) || Number(p.split('-')[0]) < 1 || Number(p.split('-').at(-1)) > 65535)) return this.invalid('rules.inbound.ports', 'Invalid port');
    }
    const f: FirewallRecord = { id: this.nextFirewallId++, label, tags, rules, created: isoNow() };
    this.firewalls.set(f.id, f);
    return { status: 200, body: this.firewallJson(f) };
  }

  /** A GET saw the instance: after enough of them it is running, and boots its user data. */
  private observe(s: InstanceRecord): void {
    if (s.status === 'running' || s.foreign) return;
    s.polls++;
    if (this.neverActiveAll || this.neverActiveNames.has(s.label) || [...this.neverActiveNames].some((n) => s.tags.includes(`inletsctl:${n}`))) return;
    const after = this.options.activeAfterPolls ?? 2;
    if (s.polls < after) {
      if (s.polls === after - 1) s.status = 'booting'; // the last look before running
      return;
    }
    s.status = 'running';
    if (s.userData.length > 0) this.booter.boot(String(s.id), s.userData, s.ip);
  }

  private labelTaken(label: string): boolean {
    return [...this.instances.values()].some((s) => s.label === label);
  }

  private instanceJson(s: InstanceRecord): Record<string, unknown> {
    const t = FAKE_TYPES[s.type] ?? FAKE_TYPES['g6-nanode-1'];
    return {
      alerts: { cpu: 90, io: 10000, network_in: 10, network_out: 10, transfer_quota: 80 },
      backups: { available: false, enabled: false, schedule: { day: null, window: null } },
      capabilities: [],
      created: s.created,
      disk_encryption: 'enabled',
      group: '',
      has_user_data: s.userData.length > 0,
      host_uuid: '3a3ddd59d9a78bb8de041391075df44de62bfec8',
      hypervisor: 'kvm',
      id: s.id,
      image: s.image,
      interface_generation: 'legacy_config',
      ipv4: [s.ip],
      ipv6: null,
      label: LABEL.test(s.label) ? s.label : `linode${s.id}`,
      lke_cluster_id: null,
      maintenance_policy: 'linode/migrate',
      placement_group: null,
      region: s.region,
      site_type: 'core',
      specs: { disk: t.disk, gpus: 0, memory: t.memory, transfer: t.transfer, vcpus: t.vcpus },
      status: s.status,
      tags: s.tags,
      type: s.type,
      updated: s.created,
      watchdog_enabled: true,
    };
  }

  private firewallJson(f: FirewallRecord): Record<string, unknown> {
    const entities = [...this.instances.values()].filter((s) => s.firewallId === f.id).map((s) => ({ id: s.id, label: s.label, parent_entity: null, type: 'linode' }));
    const rules = f.rules as { inbound?: unknown[]; outbound?: unknown[]; inbound_policy?: string; outbound_policy?: string };
    return {
      created: f.created,
      entities,
      id: f.id,
      label: f.label,
      rules: { fingerprint: '997dd135', inbound: rules.inbound ?? [], inbound_policy: rules.inbound_policy, outbound: rules.outbound ?? [], outbound_policy: rules.outbound_policy, version: 1 },
      status: 'enabled',
      tags: f.tags,
      updated: f.created,
    };
  }

  private notFound(): FakeReply {
    return { status: 404, body: { errors: [{ reason: 'Not found' }] } };
  }

  private invalid(field: string, reason: string): FakeReply {
    return { status: 400, body: { errors: [{ field, reason }] } };
  }
}

function parseFilter(header: string | string[] | undefined): Record<string, unknown> | undefined {
  if (typeof header !== 'string') return undefined;
  try {
    const v = JSON.parse(header) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Linode's own answers have no zone (`2025-01-01T00:01:01`), but the description says date-time, which needs one. */
function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}
