/**
 * A stateful fake of the Scaleway Instance API v1 and Marketplace API v2 (the calls inletsctl
 * makes: local images, Instances, their actions and user data, volumes, security groups and their
 * rules), on 127.0.0.1, for every zone of the provider.
 *
 * Scaleway publishes no machine-readable description of its API, so none is shipped: this fake is
 * built from Scaleway's public API reference (https://www.scaleway.com/en/developers/api/instance/
 * and https://www.scaleway.com/en/developers/api/marketplace/) and checks every request against
 * hand-written schemas of it (scaleway-schemas.ts); mismatches are recorded in `mismatches` and
 * tests fail on any. What the reference leaves open is modelled as noted below and marked
 * "assumed".
 *
 * Behaviour modelled:
 * - authentication by `X-Auth-Token` (the Marketplace is public); ids are UUIDs;
 * - the Marketplace serves `debian_bookworm` and `ubuntu_jammy` local images per zone, one of type
 *   `instance_local` and one `instance_sbs`, with ids that differ per zone; STARDUST1-S is sold
 *   in fr-par-1, nl-ams-1 and pl-waw-2 only (assumed: Scaleway sells it in few zones);
 * - `POST /servers` makes a `stopped` Instance with one local volume (l_ssd) and no public IP,
 *   in the zone's default security group (open to all, not ours) unless one is named; it checks
 *   the commercial type, the image (in the zone, compatible with the type) and the group;
 * - user data is set by `PATCH …/user_data/cloud-init` (text/plain, 204), held to inletsctl's own
 *   32 KiB (Scaleway documents no limit; assumed);
 * - `poweron` (202 with a task) turns a stopped Instance `starting`; after `activeAfterPolls`
 *   observations it is `running` with a dynamic loopback IPv4 (in `public_ip` and `public_ips`)
 *   and boots its cloud-init user data there; `terminate` of a running or starting Instance
 *   (starting: assumed) makes it `stopping` for one observation, then it is gone with its volumes
 *   and its dynamic IP, as the reference says; other actions in other states answer 400
 *   `invalid_request_error` (assumed), and any action while `stopping` 409 `transient_state`;
 *   each Instance lists its `allowed_actions` for its state (starting: terminate, assumed);
 * - `DELETE /servers/{id}` only of a stopped Instance (else 400, assumed); its volumes stay,
 *   detached, and `DELETE /volumes/{id}` deletes a detached one (an attached one: 400, assumed);
 * - a security group still used by an Instance cannot be deleted (412 `precondition_failed`,
 *   assumed); `PUT …/rules` replaces its whole rule list;
 * - lists are paginated by `page` and `per_page` (default 50, at most 100) with the total in
 *   `X-Total-Count`; `tags` filters (comma-separated, an item must carry all);
 * - errors are `{ message, type, … }`; every answer carries `X-RateLimit-Limit`,
 *   `X-RateLimit-Remaining` and `X-RateLimit-Reset` (assumed: the reference documents no
 *   rate-limit headers), a 429 also Retry-After.
 */
import { randomUUID } from 'node:crypto';
import { FakeCloudServer, type FakeCloudOptions, type FakeReply, type FakeRequest, type Holdings } from './fake-cloud-server.js';
import { InstanceBooter, allocateLoopbackAddress, type InstanceBooterOptions } from './instance-booter.js';
import { SCALEWAY_FAKE_ZONES, checkScalewayRequest, scalewayOperation } from './scaleway-schemas.js';
import { SCALEWAY_FAKE_PROJECT } from './scaleway-entry.js';

export interface ScalewayFakeOptions extends FakeCloudOptions, InstanceBooterOptions {
  /** Observations before a starting Instance is running. Default 2. */
  activeAfterPolls?: number;
  /** Largest page served, whatever per_page asks. Default: no limit below the API's 100. */
  maxPerPage?: number;
  /** Running Instances in fr-par-1 not made by inletsctl; they must survive. Default 0. */
  foreignServers?: number;
}

/** The user data limit the fake holds to: inletsctl's own bound (providers/scaleway), since Scaleway documents none. */
export const FAKE_USER_DATA_LIMIT = 32 * 1024;

type State = 'stopped' | 'starting' | 'running' | 'stopping';

interface ServerRecord {
  id: string;
  name: string;
  zone: string;
  commercialType: string;
  imageId: string;
  project: string;
  tags: string[];
  state: State;
  terminating: boolean;
  securityGroupId: string;
  volumeIds: string[];
  publicIp: string | null;
  userData: Map<string, string>;
  createdAt: string;
  polls: number;
  foreign: boolean;
  dynamicIp: boolean;
}

interface VolumeRecord {
  id: string;
  zone: string;
  serverId: string | null;
  foreign: boolean;
}

export interface RuleRecord {
  id: string;
  action: string;
  protocol: string;
  direction: string;
  ip_range: string;
  dest_port_from: number | null;
  dest_port_to: number | null;
  position: number;
  editable: boolean;
}

interface GroupRecord {
  id: string;
  name: string;
  zone: string;
  tags: string[];
  inbound: string;
  outbound: string;
  stateful: boolean;
  rules: RuleRecord[];
  /** The zone's default group: Scaleway's, not ours. */
  builtIn: boolean;
}

interface LocalImage {
  id: string;
  zone: string;
  label: string;
  type: 'instance_local' | 'instance_sbs';
  arch: string;
  compatible_commercial_types: string[];
}

/** Any well-formed Project id is taken (the fake has one account); this one is its own. */
const PROJECT_ID = SCALEWAY_FAKE_PROJECT;
/** Commercial types sold in every zone, and STARDUST1-S where it is (assumed). */
const TYPES = ['DEV1-S', 'DEV1-M', 'PLAY2-PICO', 'PLAY2-NANO'];
const STARDUST_ZONES = ['fr-par-1', 'nl-ams-1', 'pl-waw-2'];
const LOCAL_STORAGE_TYPES = ['STARDUST1-S', 'DEV1-S', 'DEV1-M'];

export class ScalewayFake extends FakeCloudServer {
  private readonly servers = new Map<string, ServerRecord>();
  private readonly volumes = new Map<string, VolumeRecord>();
  private readonly groups = new Map<string, GroupRecord>();
  private readonly images: LocalImage[] = [];
  private readonly booter: InstanceBooter;
  private neverActiveAll = false;
  private readonly neverActiveNames = new Set<string>();
  private readonly foreignCount: number;
  private noTerminate: string | undefined;

  constructor(private readonly options: ScalewayFakeOptions = {}) {
    super(options);
    this.booter = new InstanceBooter(options, (m) => this.problems.push(m));
    for (const zone of SCALEWAY_FAKE_ZONES) {
      const g: GroupRecord = { id: randomUUID(), name: 'Default security group', zone, tags: [], inbound: 'accept', outbound: 'accept', stateful: true, rules: [], builtIn: true };
      this.groups.set(g.id, g);
      const sold = this.typesOf(zone);
      for (const label of ['debian_bookworm', 'ubuntu_jammy']) {
        this.images.push({ id: randomUUID(), zone, label, type: 'instance_local', arch: 'x86_64', compatible_commercial_types: sold.filter((t) => LOCAL_STORAGE_TYPES.includes(t)) });
        this.images.push({ id: randomUUID(), zone, label, type: 'instance_sbs', arch: 'x86_64', compatible_commercial_types: sold });
      }
    }
    this.foreignCount = options.foreignServers ?? 0;
    for (let i = 0; i < this.foreignCount; i++) {
      const s = this.newServer({ name: `db-${i + 1}`, zone: 'fr-par-1', tags: ['prod'], foreign: true });
      s.state = 'running';
      s.publicIp = `192.0.2.${i + 10}`;
    }
  }

  holdings(): Holdings {
    const own = [...this.servers.values()].filter((s) => !s.foreign);
    const foreign = [...this.servers.values()].filter((s) => s.foreign);
    const builtIn = [...this.groups.values()].filter((g) => g.builtIn);
    return {
      servers: own.length,
      volumes: [...this.volumes.values()].filter((v) => !v.foreign).length,
      securityGroups: this.groups.size - builtIn.length,
      running: this.booter.count(),
      foreignServersMissing: this.foreignCount - foreign.length,
      defaultSecurityGroupsMissing: SCALEWAY_FAKE_ZONES.length - builtIn.length,
    };
  }

  /** Makes one Instance (or none, with undefined) leave `terminate` out of its allowed actions. */
  forbidTerminate(id: string | undefined): void {
    this.noTerminate = id;
  }

  neverActive(name?: string): void {
    if (name === undefined) this.neverActiveAll = true;
    else this.neverActiveNames.add(name);
  }

  /** What an Instance was created with (tests check tags, group, type and image). */
  serverOf(id: string): { tags: string[]; securityGroupId: string; commercialType: string; imageId: string; dynamicIp: boolean; state: string; userData: Map<string, string> } | undefined {
    const s = this.servers.get(id);
    return s && { tags: s.tags, securityGroupId: s.securityGroupId, commercialType: s.commercialType, imageId: s.imageId, dynamicIp: s.dynamicIp, state: s.state, userData: s.userData };
  }

  /** A security group's marks and rules. */
  groupOf(id: string): { name: string; tags: string[]; inbound: string; outbound: string; stateful: boolean; rules: RuleRecord[] } | undefined {
    const g = this.groups.get(id);
    return g && { name: g.name, tags: g.tags, inbound: g.inbound, outbound: g.outbound, stateful: g.stateful, rules: g.rules };
  }

  /** The local image the Marketplace serves for a label, type and zone. */
  imageFor(zone: string, label: string, type: 'instance_local' | 'instance_sbs'): string | undefined {
    return this.images.find((i) => i.zone === zone && i.label === label && i.type === type)?.id;
  }

  /**
   * A running Instance as another inletsctl made it (see FakeEntry.seedHost): our tags, the tunnel
   * tag only when a tunnel id is given. Scaleway allows several Instances of one name.
   */
  seedServer(host: { name: string; tunnelId?: string }): string {
    const tags = ['inletsctl', `inletsctl:${host.name}`, ...(host.tunnelId ? [`inletsctl-tunnel:${host.tunnelId}`] : [])];
    const s = this.newServer({ name: host.name, zone: 'fr-par-1', tags, foreign: false });
    s.state = 'running';
    s.publicIp = allocateLoopbackAddress();
    return s.id;
  }

  protected async shutdown(): Promise<void> {
    await this.booter.stopAll();
  }

  protected operationOf(req: FakeRequest): string | undefined {
    return scalewayOperation(req.method, req.pathname)?.op;
  }

  protected checkRequest(req: FakeRequest): string[] {
    return checkScalewayRequest(req);
  }

  protected checkReply(_req: FakeRequest, reply: FakeReply): string[] {
    if (reply.status >= 400) {
      const e = reply.body as { message?: unknown; type?: unknown } | undefined;
      if (typeof e?.message !== 'string' || typeof e.type !== 'string') return ['error body is not { message, type }'];
    } else if (reply.status !== 204 && reply.body === undefined) {
      return ['a 2xx answer other than 204 without a JSON body'];
    }
    return [];
  }

  protected errorReply(status: number, _code: string, message: string): FakeReply {
    const types: Record<number, string> = { 401: 'denied_authentication', 429: 'too_many_requests', 500: 'internal_error' };
    const extra = status === 401 ? { method: 'api_key', reason: 'invalid_argument' } : {};
    return { status, body: { message, type: types[status] ?? 'unknown_error', ...extra } };
  }

  protected rateLimitHeaders(limited: boolean): Record<string, string> {
    return { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': String(limited ? 0 : this.remaining), 'x-ratelimit-reset': '1' };
  }

  protected authorized(req: FakeRequest): boolean {
    if (scalewayOperation(req.method, req.pathname)?.endpoint.public) return true;
    const token = String(req.headers['x-auth-token'] ?? '');
    if (!token) return false;
    return this.fakeOptions.acceptToken === undefined || token === this.fakeOptions.acceptToken;
  }

  protected handle(req: FakeRequest, op: string): FakeReply {
    const call = scalewayOperation(req.method, req.pathname)!;
    if (op === 'marketplace.local_images') return this.localImages(req.query);
    const zone = call.zone ?? '';
    if (!SCALEWAY_FAKE_ZONES.includes(zone)) return this.error(400, 'invalid_arguments', 'invalid argument(s)', { fields: { zone: [`unknown zone ${zone}`] } });
    const id = call.id ?? '';
    const body = (req.body ?? {}) as Record<string, unknown>;
    switch (op) {
      case 'servers.create':
        return this.createServer(body, zone);
      case 'servers.list':
        return this.page(req.query, 'servers', this.inZone(this.servers, zone).filter((s) => this.hasTags(s.tags, req.query)), (s) => this.observe(s), (s) => this.servers.has(s.id), (s) => this.serverJson(s));
      case 'servers.get': {
        const s = this.serverIn(id, zone);
        if (!s) return this.notFound('instance_server', id);
        this.observe(s);
        if (!this.servers.has(id)) return this.notFound('instance_server', id); // deletion finished on this look
        return { status: 200, body: { server: this.serverJson(s) } };
      }
      case 'servers.delete': {
        const s = this.serverIn(id, zone);
        if (!s) return this.notFound('instance_server', id);
        if (s.state !== 'stopped') return this.error(400, 'invalid_request_error', 'instance should be stopped to be deleted');
        this.servers.delete(id);
        for (const v of s.volumeIds) {
          const vol = this.volumes.get(v);
          if (vol) vol.serverId = null;
        }
        return { status: 204 };
      }
      case 'servers.action':
        return this.action(id, zone, String(body.action));
      case 'user_data.set': {
        const s = this.serverIn(id, zone);
        if (!s) return this.notFound('instance_server', id);
        if (Buffer.byteLength(req.rawBody) > FAKE_USER_DATA_LIMIT) return this.error(400, 'invalid_arguments', 'invalid argument(s)', { fields: { content: [`user data is over ${FAKE_USER_DATA_LIMIT} bytes`] } });
        s.userData.set(call.key ?? '', req.rawBody);
        return { status: 204 };
      }
      case 'volumes.delete': {
        const v = this.volumes.get(id);
        if (!v || v.zone !== zone) return this.notFound('instance_volume', id);
        if (v.serverId) return this.error(400, 'invalid_request_error', 'a volume attached to an Instance cannot be deleted');
        this.volumes.delete(id);
        return { status: 204 };
      }
      case 'security_groups.create':
        return this.createGroup(body, zone);
      case 'security_groups.list':
        return this.page(req.query, 'security_groups', this.inZone(this.groups, zone).filter((g) => this.hasTags(g.tags, req.query)), () => undefined, () => true, (g) => this.groupJson(g));
      case 'security_groups.delete': {
        const g = this.groups.get(id);
        if (!g || g.zone !== zone) return this.notFound('instance_security_group', id);
        const users = [...this.servers.values()].filter((s) => s.securityGroupId === id).length;
        if (users > 0 || g.builtIn) {
          return this.error(412, 'precondition_failed', 'resource is still in use', { precondition: 'resource_still_in_use', help_message: `the group is used by ${users} Instance(s)${g.builtIn ? ' and is the default group of its zone' : ''}` });
        }
        this.groups.delete(id);
        return { status: 204 };
      }
      case 'security_group_rules.set': {
        const g = this.groups.get(id);
        if (!g || g.zone !== zone) return this.notFound('instance_security_group', id);
        const rules = (body.rules as Array<Record<string, unknown>>).map((r, i): RuleRecord => ({
          id: randomUUID(), action: String(r.action), protocol: String(r.protocol), direction: String(r.direction), ip_range: String(r.ip_range),
          dest_port_from: typeof r.dest_port_from === 'number' ? r.dest_port_from : null, dest_port_to: typeof r.dest_port_to === 'number' ? r.dest_port_to : null,
          position: typeof r.position === 'number' ? r.position : i + 1, editable: r.editable !== false,
        }));
        if (rules.some((r) => r.dest_port_from !== null && r.dest_port_to !== null && r.dest_port_to < r.dest_port_from)) {
          return this.error(400, 'invalid_arguments', 'invalid argument(s)', { fields: { dest_port_to: ['must not be below dest_port_from'] } });
        }
        g.rules = rules;
        return { status: 200, body: { rules: rules.map((r) => ({ ...r, zone })) } };
      }
      default:
        this.problems.push(`the fake does not implement ${op}`);
        return this.error(404, 'not_found', `${req.method} ${req.pathname} is not a known endpoint`);
    }
  }

  private createServer(body: Record<string, unknown>, zone: string): FakeReply {
    const type = String(body.commercial_type);
    if (!this.typesOf(zone).includes(type)) return this.error(400, 'invalid_arguments', 'invalid argument(s)', { fields: { commercial_type: [`${type} is not available in ${zone}`] } });
    const image = this.images.find((i) => i.id === body.image);
    if (!image || image.zone !== zone) return this.error(404, 'not_found', 'resource is not found', { resource: 'instance_image', resource_id: String(body.image) });
    if (!image.compatible_commercial_types.includes(type)) return this.error(400, 'invalid_arguments', 'invalid argument(s)', { fields: { image: [`image is not compatible with ${type}`] } });
    let groupId = this.inZone(this.groups, zone).find((g) => g.builtIn)!.id;
    if (typeof body.security_group === 'string') {
      const g = this.groups.get(body.security_group);
      if (!g || g.zone !== zone) return this.notFound('instance_security_group', body.security_group);
      groupId = g.id;
    }
    const s = this.newServer({ name: typeof body.name === 'string' ? body.name : `scw-${randomUUID().slice(0, 6)}`, zone, tags: (body.tags as string[] | undefined) ?? [], foreign: false, commercialType: type, imageId: image.id, groupId });
    s.dynamicIp = body.dynamic_ip_required === true;
    s.project = typeof body.project === 'string' ? body.project : PROJECT_ID;
    return { status: 201, body: { server: this.serverJson(s) } };
  }

  private action(id: string, zone: string, action: string): FakeReply {
    const s = this.serverIn(id, zone);
    if (!s) return this.notFound('instance_server', id);
    if (s.state === 'stopping') return this.error(409, 'transient_state', 'resource is in a transient state', { resource: 'instance_server', resource_id: id, current_state: 'stopping' });
    if (action === 'poweron' && s.state === 'stopped') {
      s.state = 'starting';
      s.polls = 0;
    } else if (action === 'terminate' && (s.state === 'running' || s.state === 'starting') && s.id !== this.noTerminate) {
      s.state = 'stopping';
      s.terminating = true;
      s.polls = 0;
      s.publicIp = null;
      void this.booter.stop(s.id);
    } else {
      return this.error(400, 'invalid_request_error', `action ${action} is not allowed while the Instance is ${s.state}`);
    }
    const now = new Date().toISOString();
    return {
      status: 202,
      body: { task: { id: randomUUID(), description: `server_${action}`, status: 'pending', href_from: `/servers/${id}/action`, href_result: `/servers/${id}`, started_at: now, terminated_at: null, progress: 0, zone } },
    };
  }

  private createGroup(body: Record<string, unknown>, zone: string): FakeReply {
    const g: GroupRecord = {
      id: randomUUID(), name: String(body.name), zone, tags: (body.tags as string[] | undefined) ?? [], inbound: String(body.inbound_default_policy ?? 'accept'),
      outbound: String(body.outbound_default_policy ?? 'accept'), stateful: body.stateful === true, rules: [], builtIn: false,
    };
    this.groups.set(g.id, g);
    return { status: 201, body: { security_group: this.groupJson(g) } };
  }

  private localImages(query: URLSearchParams): FakeReply {
    const label = query.get('image_label');
    const zone = query.get('zone');
    const type = query.get('type');
    const items = this.images.filter((i) => (!label || i.label === label) && (!zone || i.zone === zone) && (!type || i.type === type));
    const size = Math.max(Math.min(Number(query.get('page_size') ?? 20), this.options.maxPerPage ?? 100), 1);
    const page = Math.max(Number(query.get('page') ?? 1), 1);
    return { status: 200, body: { local_images: items.slice((page - 1) * size, page * size), total_count: items.length } };
  }

  /** One page of `items`: `observe` each served item, keep those still there, total in X-Total-Count. */
  private page<T>(query: URLSearchParams, key: string, items: T[], observe: (x: T) => void, stillThere: (x: T) => boolean, json: (x: T) => unknown): FakeReply {
    const asked = Number(query.get('per_page') ?? 50);
    const perPage = Math.max(Math.min(asked, this.options.maxPerPage ?? 100), 1);
    const page = Math.max(Number(query.get('page') ?? 1), 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    for (const x of slice) observe(x);
    return { status: 200, body: { [key]: slice.filter(stillThere).map(json) }, headers: { 'x-total-count': String(items.length) } };
  }

  private hasTags(tags: string[], query: URLSearchParams): boolean {
    const wanted = (query.get('tags') ?? '').split(',').filter(Boolean);
    return wanted.every((t) => tags.includes(t));
  }

  private newServer(o: { name: string; zone: string; tags: string[]; foreign: boolean; commercialType?: string; imageId?: string; groupId?: string }): ServerRecord {
    const volume: VolumeRecord = { id: randomUUID(), zone: o.zone, serverId: null, foreign: o.foreign };
    const s: ServerRecord = {
      id: randomUUID(), name: o.name, zone: o.zone, commercialType: o.commercialType ?? 'DEV1-S', imageId: o.imageId ?? this.imageFor(o.zone, 'debian_bookworm', 'instance_local')!,
      project: PROJECT_ID, tags: o.tags, state: 'stopped', terminating: false, securityGroupId: o.groupId ?? this.inZone(this.groups, o.zone).find((g) => g.builtIn)!.id,
      volumeIds: [volume.id], publicIp: null, userData: new Map(), createdAt: new Date().toISOString(), polls: 0, foreign: o.foreign, dynamicIp: true,
    };
    volume.serverId = s.id;
    this.volumes.set(volume.id, volume);
    this.servers.set(s.id, s);
    return s;
  }

  /** A GET saw the Instance: it moves along its lifecycle. */
  private observe(s: ServerRecord): void {
    if (s.foreign) return;
    s.polls++;
    if (s.state === 'stopping' && s.terminating) {
      if (s.polls >= 1) {
        this.servers.delete(s.id);
        for (const v of s.volumeIds) this.volumes.delete(v);
      }
      return;
    }
    if (s.state !== 'starting' || this.neverActiveAll || this.neverActiveNames.has(s.name)) return;
    if (s.polls < (this.options.activeAfterPolls ?? 2)) return;
    s.state = 'running';
    s.publicIp = s.dynamicIp ? allocateLoopbackAddress() : null;
    const cloudInit = s.userData.get('cloud-init');
    if (cloudInit !== undefined && s.publicIp) this.booter.boot(s.id, Buffer.from(cloudInit, 'utf8'), s.publicIp);
  }

  private typesOf(zone: string): string[] {
    return STARDUST_ZONES.includes(zone) ? ['STARDUST1-S', ...TYPES] : TYPES;
  }

  private inZone<T extends { zone: string }>(map: Map<string, T>, zone: string): T[] {
    return [...map.values()].filter((x) => x.zone === zone);
  }

  private serverIn(id: string, zone: string): ServerRecord | undefined {
    const s = this.servers.get(id);
    return s && s.zone === zone ? s : undefined;
  }

  private serverJson(s: ServerRecord): Record<string, unknown> {
    const g = this.groups.get(s.securityGroupId);
    const ip = s.publicIp ? { id: randomUUID(), address: s.publicIp, dynamic: true, family: 'inet', provisioning_mode: 'dhcp', tags: [], state: 'attached' } : null;
    const volumes = Object.fromEntries(
      s.volumeIds.map((v, i) => [String(i), { id: v, name: 'Debian Bookworm', volume_type: 'l_ssd', size: 10_000_000_000, state: 'available', zone: s.zone, boot: i === 0, server: { id: s.id, name: s.name } }]),
    );
    const allowed: Record<State, string[]> = { stopped: ['poweron', 'backup'], starting: ['terminate'], running: ['poweroff', 'terminate', 'reboot', 'stop_in_place', 'backup'], stopping: [] };
    const actions = s.id === this.noTerminate ? allowed[s.state].filter((a) => a !== 'terminate') : allowed[s.state];
    return {
      id: s.id, name: s.name, organization: s.project, project: s.project, allowed_actions: actions, tags: s.tags, commercial_type: s.commercialType,
      creation_date: s.createdAt, dynamic_ip_required: s.dynamicIp, routed_ip_enabled: true, enable_ipv6: false, hostname: s.name,
      image: { id: s.imageId, name: 'Debian Bookworm', arch: 'x86_64', zone: s.zone }, protected: false, private_ip: null, public_ip: ip, public_ips: ip ? [ip] : [],
      mac_address: 'de:00:00:00:00:01', modification_date: s.createdAt, state: s.state, location: null, ipv6: null, boot_type: 'local', volumes,
      security_group: g ? { id: g.id, name: g.name } : null, maintenances: [], state_detail: s.state === 'running' ? 'booted' : s.state === 'starting' ? 'provisioning node' : '',
      arch: 'x86_64', placement_group: null, private_nics: [], zone: s.zone,
    };
  }

  private groupJson(g: GroupRecord): Record<string, unknown> {
    return {
      id: g.id, name: g.name, description: '', enable_default_security: true, inbound_default_policy: g.inbound, outbound_default_policy: g.outbound,
      organization: PROJECT_ID, project: PROJECT_ID, tags: g.tags, organization_default: false, project_default: g.builtIn, creation_date: new Date().toISOString(),
      modification_date: new Date().toISOString(), servers: [...this.servers.values()].filter((s) => s.securityGroupId === g.id).map((s) => ({ id: s.id, name: s.name })),
      stateful: g.stateful, state: 'available', zone: g.zone,
    };
  }

  private notFound(resource: string, id: string): FakeReply {
    return this.error(404, 'not_found', 'resource is not found', { resource, resource_id: id });
  }

  private error(status: number, type: string, message: string, extra: Record<string, unknown> = {}): FakeReply {
    return { status, body: { message, type, ...extra } };
  }
}
