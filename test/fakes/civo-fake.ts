/**
 * A stateful fake of the Civo API v2 (the calls inletsctl makes: instances, networks, disk images,
 * firewalls and their rules), on 127.0.0.1.
 *
 * Civo publishes no machine-readable description of its API, so none is shipped: this fake is
 * built from Civo's public API reference (https://www.civo.com/api: instances, firewall,
 * networks, disk-images, sizes, regions) and checks every request against hand-written schemas
 * of it (civo-schemas.ts); mismatches are recorded in `mismatches` and tests fail on any. What the
 * reference leaves open is modelled as noted below and marked "assumed".
 *
 * Behaviour modelled:
 * - regions LON1, FRA1, NYC1, PHX1, each with a default network, a default firewall (open to
 *   all, not ours) and disk images whose ids differ per region; every call names its region;
 * - instances start `BUILDING` without a public IP, turn `ACTIVE` with a loopback IP after
 *   `activeAfterPolls` observations and boot their `script` there; DELETE answers
 *   `{ result: "success" }`, the instance is `DELETING` for one observation (assumed), then gone;
 * - hostnames are unique in a region (`database_instance_duplicate_name`, an error code of
 *   civogo); firewall names are unique in an account (`database_firewall_duplicate_name`); a
 *   firewall must be in the instance's network; a firewall still used by an instance cannot be
 *   deleted (assumed: 400 `database_firewall_delete_failed`);
 * - a new firewall gets Civo's default rules (all TCP, UDP and ICMP in) unless `create_rules` is
 *   false;
 * - `GET /instances` is paginated (`{ page, per_page, pages, items }`, per_page 20 by default)
 *   and filters by `tags` (space-separated; an instance must carry all, assumed); networks,
 *   disk images and firewalls are plain arrays;
 * - errors are `{ code, reason }`; the reference documents no rate-limit headers, so none are
 *   sent besides the fault's Retry-After.
 */
import { randomUUID } from 'node:crypto';
import { FakeCloudServer, type FakeCloudOptions, type FakeReply, type FakeRequest, type Holdings } from './fake-cloud-server.js';
import { InstanceBooter, allocateLoopbackAddress, type InstanceBooterOptions } from './instance-booter.js';
import { CIVO_FAKE_REGIONS, checkCivoRequest, civoOperation, regionOf } from './civo-schemas.js';

export interface CivoFakeOptions extends FakeCloudOptions, InstanceBooterOptions {
  /** Observations before a new instance is ACTIVE. Default 2. */
  activeAfterPolls?: number;
  /** Largest page of instances served, whatever per_page asks. Default: no limit. */
  maxPerPage?: number;
  /** Instances in LON1 not made by inletsctl; they must survive. Default 0. */
  foreignInstances?: number;
}

/** The size limit the fake holds `script` to: inletsctl's own bound (providers/civo), since Civo documents none. */
export const FAKE_SCRIPT_LIMIT = 32 * 1024;

interface InstanceRecord {
  id: string;
  hostname: string;
  region: string;
  size: string;
  networkId: string;
  firewallId: string;
  templateId: string;
  tags: string[];
  status: 'BUILDING' | 'ACTIVE' | 'DELETING';
  script: string;
  publicIp: string | null;
  privateIp: string;
  createdAt: string;
  polls: number;
  foreign: boolean;
}

export interface FirewallRule {
  id: string;
  firewall_id: string;
  protocol: string;
  start_port: string;
  end_port: string;
  cidr: string[];
  direction: 'ingress' | 'egress';
  action: string;
  label: string;
}

interface FirewallRecord {
  id: string;
  name: string;
  region: string;
  networkId: string;
  rules: FirewallRule[];
  /** The network's default firewall: Civo's, not ours. */
  builtIn: boolean;
}

interface RegionRecord {
  networkId: string;
  defaultFirewallId: string;
  images: Array<{ id: string; name: string; version: string; distribution: string }>;
}

const SIZES: Record<string, { cpu: number; ram: number; disk: number }> = {
  'g3.xsmall': { cpu: 1, ram: 1024, disk: 25 },
  'g3.small': { cpu: 1, ram: 2048, disk: 25 },
  'g3.medium': { cpu: 2, ram: 4096, disk: 50 },
};
const IMAGES = [
  { name: 'debian-11', version: '11', distribution: 'debian' },
  { name: 'debian-12', version: '12', distribution: 'debian' },
  { name: 'ubuntu-jammy', version: '22.04', distribution: 'ubuntu' },
];
const ACCOUNT_ID = '73993076-f1dc-4b53-88d8-158d97d7be92';

export class CivoFake extends FakeCloudServer {
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly firewalls = new Map<string, FirewallRecord>();
  private readonly regions = new Map<string, RegionRecord>();
  private readonly booter: InstanceBooter;
  private neverActiveAll = false;
  private readonly neverActiveNames = new Set<string>();
  private readonly foreignCount: number;

  constructor(private readonly options: CivoFakeOptions = {}) {
    super(options);
    this.booter = new InstanceBooter(options, (m) => this.problems.push(m));
    for (const code of CIVO_FAKE_REGIONS) {
      const networkId = randomUUID();
      const fw: FirewallRecord = { id: randomUUID(), name: `default-${code.toLowerCase()}`, region: code, networkId, rules: [], builtIn: true };
      fw.rules = this.defaultRules(fw.id);
      this.firewalls.set(fw.id, fw);
      this.regions.set(code, { networkId, defaultFirewallId: fw.id, images: IMAGES.map((i) => ({ ...i, id: randomUUID() })) });
    }
    this.foreignCount = options.foreignInstances ?? 0;
    for (let i = 0; i < this.foreignCount; i++) {
      const s = this.newInstance({ hostname: `db-${i + 1}`, region: 'LON1', tags: ['prod'], foreign: true });
      s.status = 'ACTIVE';
      s.publicIp = `192.0.2.${i + 10}`;
    }
  }

  protected pathPrefix(): string {
    return '/v2';
  }

  holdings(): Holdings {
    const own = [...this.instances.values()].filter((s) => !s.foreign);
    const foreign = [...this.instances.values()].filter((s) => s.foreign);
    const builtIn = [...this.firewalls.values()].filter((f) => f.builtIn);
    return {
      instances: own.length,
      firewalls: this.firewalls.size - builtIn.length,
      running: this.booter.count(),
      foreignInstancesMissing: this.foreignCount - foreign.length,
      defaultFirewallsMissing: CIVO_FAKE_REGIONS.length - builtIn.length,
    };
  }

  neverActive(name?: string): void {
    if (name === undefined) this.neverActiveAll = true;
    else this.neverActiveNames.add(name);
  }

  /** The rules of a firewall (tests check what a tunnel opens). */
  rulesOf(firewallId: string): FirewallRule[] {
    return this.firewalls.get(firewallId)?.rules ?? [];
  }

  /** The script and tags an instance was created with. */
  createdWith(instanceId: string): { script: string; tags: string[] } | undefined {
    const s = this.instances.get(instanceId);
    return s && { script: s.script, tags: s.tags };
  }

  /** The firewall an instance uses. */
  firewallOf(instanceId: string): string | undefined {
    return this.instances.get(instanceId)?.firewallId;
  }

  protected async shutdown(): Promise<void> {
    await this.booter.stopAll();
  }

  protected operationOf(req: FakeRequest): string | undefined {
    return civoOperation(req.method, req.pathname)?.op;
  }

  protected checkRequest(req: FakeRequest): string[] {
    return checkCivoRequest(req);
  }

  protected checkReply(_req: FakeRequest, reply: FakeReply): string[] {
    if (reply.status >= 400) {
      const e = reply.body as { code?: unknown; reason?: unknown } | undefined;
      if (typeof e?.code !== 'string' || typeof e.reason !== 'string') return ['error body is not { code, reason }'];
    } else if (reply.body === undefined) {
      return ['a 2xx answer without a JSON body'];
    }
    return [];
  }

  protected errorReply(status: number, code: string, message: string): FakeReply {
    const codes: Record<number, string> = { 401: 'authentication_invalid_key', 429: 'too_many_requests', 500: 'internal_server_error' };
    return { status, body: { code: codes[status] ?? code, reason: message } };
  }

  protected rateLimitHeaders(): Record<string, string> {
    return {};
  }

  protected handle(req: FakeRequest, op: string): FakeReply {
    const id = civoOperation(req.method, req.pathname)?.id ?? '';
    const region = regionOf(req) ?? '';
    const r = this.regions.get(region);
    if (!r) return this.error(400, 'region_unavailable', `The region ${region || '(none)'} is not available`);
    const body = (req.body ?? {}) as Record<string, unknown>;
    switch (op) {
      case 'instances.create':
        return this.createInstance(body, region, r);
      case 'instances.list':
        return this.listInstances(req.query, region);
      case 'instances.get': {
        const s = this.inRegion(id, region);
        if (!s) return this.notFound('instance', id);
        this.observe(s);
        if (!this.instances.has(id)) return this.notFound('instance', id); // deletion finished on this look
        return { status: 200, body: this.instanceJson(s) };
      }
      case 'instances.delete': {
        const s = this.inRegion(id, region);
        if (!s) return this.notFound('instance', id);
        s.status = 'DELETING';
        s.polls = 0;
        void this.booter.stop(s.id);
        return { status: 200, body: { result: 'success' } };
      }
      case 'networks.list':
        return { status: 200, body: [this.networkJson(region, r)] };
      case 'disk_images.list':
        return { status: 200, body: r.images.map((i) => ({ ...i, state: 'available', initial_user: i.distribution, description: null, label: null })) };
      case 'firewalls.create':
        return this.createFirewall(body, region, r);
      case 'firewalls.list':
        return { status: 200, body: [...this.firewalls.values()].filter((f) => f.region === region).map((f) => this.firewallJson(f)) };
      case 'firewalls.delete': {
        const f = this.firewalls.get(id);
        if (!f || f.region !== region) return this.notFound('firewall', id);
        const users = [...this.instances.values()].filter((s) => s.firewallId === id).length;
        if (users > 0 || f.builtIn) return this.error(400, 'database_firewall_delete_failed', `The firewall is in use by ${users} instance(s)${f.builtIn ? ' and is the default firewall of its network' : ''}`);
        this.firewalls.delete(id);
        return { status: 200, body: { result: 'success' } };
      }
      case 'firewall_rules.create':
        return this.createRule(body, id, region);
      case 'firewall_rules.list': {
        const f = this.firewalls.get(id);
        return f && f.region === region ? { status: 200, body: f.rules } : this.notFound('firewall', id);
      }
      default:
        this.problems.push(`the fake does not implement ${op}`);
        return this.error(404, 'not_found', `${req.method} ${req.pathname} is not a known endpoint`);
    }
  }

  private createInstance(body: Record<string, unknown>, region: string, r: RegionRecord): FakeReply {
    const hostname = String(body.hostname ?? '');
    if (!SIZES[String(body.size)]) return this.error(400, 'database_size_not_found', `The size ${String(body.size)} could not be found`);
    if (body.network_id !== r.networkId) return this.error(400, 'database_network_not_found', `The network ${String(body.network_id)} could not be found in ${region}`);
    const image = r.images.find((i) => i.id === body.template_id);
    if (!image) return this.error(400, 'database_disk_image_not_found', `The disk image ${String(body.template_id)} could not be found in ${region}`);
    const firewallId = typeof body.firewall_id === 'string' && body.firewall_id ? body.firewall_id : r.defaultFirewallId;
    const fw = this.firewalls.get(firewallId);
    if (!fw || fw.region !== region) return this.error(400, 'database_firewall_not_found', `The firewall ${firewallId} could not be found in ${region}`);
    if (fw.networkId !== body.network_id) return this.error(400, 'database_firewall_mismatch', 'The firewall does not belong to the network');
    if ((body.count ?? 1) !== 1) return this.error(400, 'parameter_count_invalid', 'only one instance at a time (fake)');
    const script = typeof body.script === 'string' ? body.script : '';
    if (Buffer.byteLength(script) > FAKE_SCRIPT_LIMIT) return this.error(400, 'parameter_script_too_long', `script is over ${FAKE_SCRIPT_LIMIT} bytes`);
    if ([...this.instances.values()].some((s) => s.region === region && s.hostname === hostname)) {
      return this.error(400, 'database_instance_duplicate_name', `An instance with the hostname ${hostname} already exists`);
    }
    const tags = typeof body.tags === 'string' ? body.tags.split(' ').filter(Boolean) : [];
    const s = this.newInstance({ hostname, region, tags, foreign: false, size: String(body.size), firewallId, templateId: image.id, script });
    return { status: 200, body: this.instanceJson(s) };
  }

  /**
   * A running instance as another inletsctl made it (see FakeEntry.seedHost): our tags, the tunnel
   * tag only when a tunnel id is given. Hostnames are unique in a region, so a taken one gets a suffix.
   */
  seedInstance(host: { name: string; tunnelId?: string }): string {
    const tags = ['inletsctl', `inletsctl:${host.name}`, ...(host.tunnelId ? [`inletsctl-tunnel:${host.tunnelId}`] : [])];
    const taken = (n: string) => [...this.instances.values()].some((x) => x.region === 'LON1' && x.hostname === n);
    let hostname = host.name;
    for (let i = 2; taken(hostname); i++) hostname = `${host.name}-${i}`;
    const s = this.newInstance({ hostname, region: 'LON1', tags, foreign: false });
    s.status = 'ACTIVE';
    s.publicIp = allocateLoopbackAddress();
    return s.id;
  }

  private newInstance(o: { hostname: string; region: string; tags: string[]; foreign: boolean; size?: string; firewallId?: string; templateId?: string; script?: string }): InstanceRecord {
    const r = this.regions.get(o.region)!;
    const s: InstanceRecord = {
      id: randomUUID(), hostname: o.hostname, region: o.region, size: o.size ?? 'g3.xsmall', networkId: r.networkId,
      firewallId: o.firewallId ?? r.defaultFirewallId, templateId: o.templateId ?? r.images[1].id, tags: o.tags, status: 'BUILDING',
      script: o.script ?? '', publicIp: null, privateIp: `192.168.1.${(this.instances.size % 250) + 2}`, createdAt: new Date().toISOString(), polls: 0, foreign: o.foreign,
    };
    this.instances.set(s.id, s);
    return s;
  }

  private listInstances(query: URLSearchParams, region: string): FakeReply {
    const wanted = (query.get('tags') ?? '').split(' ').filter(Boolean);
    const items = [...this.instances.values()].filter((s) => s.region === region && wanted.every((t) => s.tags.includes(t)));
    const asked = Number(query.get('per_page') ?? 20);
    const perPage = Math.max(Math.min(asked, this.options.maxPerPage ?? asked), 1);
    const page = Math.max(Number(query.get('page') ?? 1), 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    for (const s of slice) this.observe(s);
    const shown = slice.filter((s) => this.instances.has(s.id));
    return { status: 200, body: { page, per_page: perPage, pages: Math.max(Math.ceil(items.length / perPage), 1), items: shown.map((s) => this.instanceJson(s)) } };
  }

  /** A GET saw the instance: it moves along its lifecycle. */
  private observe(s: InstanceRecord): void {
    if (s.foreign) return;
    s.polls++;
    if (s.status === 'DELETING') {
      if (s.polls >= 2) this.instances.delete(s.id);
      return;
    }
    if (s.status !== 'BUILDING' || this.neverActiveAll || this.neverActiveNames.has(s.hostname)) return;
    if (s.polls < (this.options.activeAfterPolls ?? 2)) return;
    s.status = 'ACTIVE';
    s.publicIp = allocateLoopbackAddress();
    this.booter.boot(s.id, Buffer.from(s.script, 'utf8'), s.publicIp);
  }

  private createFirewall(body: Record<string, unknown>, region: string, r: RegionRecord): FakeReply {
    const name = String(body.name);
    if ([...this.firewalls.values()].some((f) => f.name === name)) return this.error(400, 'database_firewall_duplicate_name', `A firewall named ${name} already exists`);
    if (body.network_id !== r.networkId) return this.error(400, 'database_network_not_found', `The network ${String(body.network_id)} could not be found in ${region}`);
    const f: FirewallRecord = { id: randomUUID(), name, region, networkId: r.networkId, rules: [], builtIn: false };
    if (body.create_rules !== false) f.rules = this.defaultRules(f.id);
    this.firewalls.set(f.id, f);
    return { status: 200, body: { result: 'success', name, id: f.id } };
  }

  private createRule(body: Record<string, unknown>, firewallId: string, region: string): FakeReply {
    const f = this.firewalls.get(firewallId);
    if (!f || f.region !== region) return this.notFound('firewall', firewallId);
    const start = String(body.start_port);
    const rule: FirewallRule = {
      id: randomUUID(), firewall_id: f.id, protocol: String(body.protocol).toLowerCase(), start_port: start, end_port: typeof body.end_port === 'string' ? body.end_port : start,
      cidr: body.cidr as string[], direction: body.direction as FirewallRule['direction'], action: String(body.action), label: typeof body.label === 'string' ? body.label : '',
    };
    if (Number(rule.end_port) < Number(rule.start_port) || Number(rule.end_port) > 65535) return this.error(400, 'database_firewall_rules_invalid_params', 'The port range is not valid');
    f.rules.push(rule);
    return { status: 200, body: rule };
  }

  /** Civo's default rules: everything in (the default firewall is "open to all"). */
  private defaultRules(firewallId: string): FirewallRule[] {
    return (['tcp', 'udp', 'icmp'] as const).map((protocol) => ({
      id: randomUUID(), firewall_id: firewallId, protocol, start_port: protocol === 'icmp' ? '' : '1', end_port: protocol === 'icmp' ? '' : '65535',
      cidr: ['0.0.0.0/0'], direction: 'ingress', action: 'allow', label: `All ${protocol.toUpperCase()} ports open`,
    }));
  }

  private inRegion(id: string, region: string): InstanceRecord | undefined {
    const s = this.instances.get(id);
    return s && s.region === region ? s : undefined;
  }

  private instanceJson(s: InstanceRecord): Record<string, unknown> {
    const size = SIZES[s.size];
    const image = this.regions.get(s.region)!.images.find((i) => i.id === s.templateId);
    return {
      id: s.id, name: `${s.hostname}-${s.id.slice(0, 8)}`, hostname: s.hostname, account_id: ACCOUNT_ID, size: s.size, firewall_id: s.firewallId,
      source_type: 'diskimage', source_id: image?.name ?? 'debian-12', network_id: s.networkId, initial_user: 'civo', initial_password: 'fake-initial-password',
      ssh_key: null, ssh_key_id: null, tags: s.tags, ...(s.script ? { user_script: Buffer.from(s.script).toString('base64') } : {}), status: s.status,
      civostatsd_token: null, public_ip: s.publicIp, private_ip: s.status === 'BUILDING' ? null : s.privateIp, ipv6: null, namespace_id: null, notes: '',
      reverse_dns: '', cpu_cores: size?.cpu ?? 1, ram_mb: size?.ram ?? 1024, disk_gb: size?.disk ?? 25, created_at: s.createdAt,
    };
  }

  private networkJson(region: string, r: RegionRecord): Record<string, unknown> {
    return { id: r.networkId, name: `cust-default-${region.toLowerCase()}`, default: true, cidr: '192.168.1.0/24', label: 'Default', status: 'Active', ipv4_enabled: true, ipv6_enabled: false };
  }

  private firewallJson(f: FirewallRecord): Record<string, unknown> {
    return {
      id: f.id, name: f.name, account_id: ACCOUNT_ID, rules_count: f.rules.length, network_id: f.networkId, cluster_count: 0, loadbalancer_count: 0,
      instance_count: [...this.instances.values()].filter((s) => s.firewallId === f.id).length, default: f.builtIn ? 'true' : 'false', label: f.name,
    };
  }

  private notFound(what: 'instance' | 'firewall', id: string): FakeReply {
    return this.error(404, `database_${what}_not_found`, `The requested ${what} ${id} could not be found`);
  }

  private error(status: number, code: string, reason: string): FakeReply {
    return { status, body: { code, reason } };
  }
}
