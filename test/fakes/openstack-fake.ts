/**
 * A stateful fake of an OpenStack cloud on 127.0.0.1: Keystone token issue with a service catalog
 * (openstack-fake-keystone.ts), Nova servers, flavors and images, and Neutron networks, security
 * groups and rules, ports and floating IPs: the calls the openstack and ovh providers make.
 *
 * Every Nova and Neutron request is checked against the community OpenAPI 3.1 descriptions in
 * ../shared/cloud-specs/openstack/ (compute v2.96, network v2.0): documented path and method,
 * parameters, the X-Auth-Token header, request body schema; successful responses are checked
 * against their schemas. The descriptions give error responses no schema and list only some
 * statuses, so error bodies follow the api-ref (Nova `{ itemNotFound: { code, message } }`, Neutron
 * `{ NeutronError: { type, message, detail } }`) and are not checked.
 *
 * Lifecycle: a server is BUILD for `activeAfterPolls` observations, then ACTIVE with a loopback
 * IPv4 (on the public network, or as its floating IP) where its user-data boots.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import { FakeCloudServer, type FakeCloudOptions, type FakeReply, type FakeRequest, type Holdings } from './fake-cloud-server.js';
import { InstanceBooter, allocateLoopbackAddress, type InstanceBooterOptions } from './instance-booter.js';
import { OpenApiSpec } from './openapi/openapi-spec.js';
import { OpenApiValidator, type MatchedOperation } from './openapi/openapi-validator.js';
import { checkTokenRequest, secretOf, tokenReply } from './openstack-fake-keystone.js';

const SPECS = join(dirname(fileURLToPath(import.meta.url)), '../../../shared/cloud-specs/openstack');
let validators: { compute: OpenApiValidator; network: OpenApiValidator } | undefined;
/**
 * One parsed pair of descriptions per process, with the schemas of the calls the providers make
 * compiled at once (Nova's server-create schema takes seconds to compile: doing it on the first
 * request would outlast the client's timeout).
 */
export function openStackValidators(): { compute: OpenApiValidator; network: OpenApiValidator } {
  if (validators) return validators;
  const v = {
    compute: new OpenApiValidator(new OpenApiSpec(join(SPECS, 'compute/v2.96.yaml'))),
    network: new OpenApiValidator(new OpenApiSpec(join(SPECS, 'network/v2.yaml'))),
  };
  const headers = { 'x-auth-token': 'warm-up', 'content-type': 'application/json' };
  const warm = (validator: OpenApiValidator, method: string, pathname: string, body: unknown, status: number) => {
    const { op } = validator.checkRequest({ method, pathname, query: new URLSearchParams(), headers, body: body === undefined ? '' : JSON.stringify(body) });
    if (op) validator.checkResponse(op, status, '{}', 'application/json');
    validator.operationsSeen.clear();
  };
  warm(v.compute, 'POST', '/v2.1/servers', { server: { name: 'w', flavorRef: 'f', imageRef: 'i' } }, 202);
  warm(v.compute, 'GET', '/v2.1/servers/detail', undefined, 200);
  warm(v.compute, 'GET', '/v2.1/servers/x', undefined, 200);
  warm(v.compute, 'GET', '/v2.1/flavors', undefined, 200);
  warm(v.compute, 'GET', '/v2.1/images', undefined, 200);
  warm(v.network, 'GET', '/v2.0/networks', undefined, 200);
  for (const [path, kind] of [['/v2.0/security-groups', 'security_group'], ['/v2.0/security-group-rules', 'security_group_rule'], ['/v2.0/ports', 'port'], ['/v2.0/floatingips', 'floatingip']]) {
    warm(v.network, 'POST', path, { [kind]: {} }, 201);
    warm(v.network, 'GET', path, undefined, 200);
  }
  validators = v;
  return v;
}

/**
 * Where the community descriptions disagree with what Nova and Neutron send and accept (their
 * api-refs): each entry is a known defect of the description, tolerated and counted in
 * `defectsSeen`, never a pass for our own requests' mistakes.
 */
export const KNOWN_SPEC_DEFECTS: Array<{ pattern: RegExp; why: string }> = [
  { pattern: /must match exactly one schema in oneOf \{"passingSchemas":\[/, why: 'Nova bodies are a oneOf over microversions whose variants overlap: a valid body matches several' },
  { pattern: /request: path parameter id must be string/, why: 'Neutron collection paths (GET /v2.0/security-groups, /floatingips) declare the item id as a required path parameter' },
  { pattern: /port_range_(min|max) must be string/, why: 'Neutron port_range_min/max are integers (api-ref); the description types them string' },
  {
    pattern: /\/(remote_group_id|remote_address_group_id|port_details|ipv[46]_address_scope|l2_adjacency|security_group_rules|key_name|OS-SRV-USG:(launched|terminated)_at|OS-EXT-STS:task_state) must be string/,
    why: 'fields that are null, boolean, object or array in real answers are typed string in the description',
  },
  { pattern: /\/accessIPv[46] must match format/, why: 'Nova sends "" for an unset accessIPv4/accessIPv6' },
];

export const TOKEN_OP = 'auth/tokens:post';
/** The region the fake's catalog serves. */
export const FAKE_REGION = 'RegionOne';

export interface OpenStackFakeOptions extends FakeCloudOptions, InstanceBooterOptions {
  activeAfterPolls?: number;
  /** Largest page of servers and flavors served (to exercise pagination). Default 1000. */
  maxPerPage?: number;
  /** Servers that exist before the test, not made by inletsctl. Default 0. */
  foreignServers?: number;
  /** Region of the catalog. Default RegionOne. */
  region?: string;
}

interface ServerRecord {
  id: string;
  name: string;
  flavorId: string;
  imageId: string;
  metadata: Record<string, string>;
  userData: Buffer;
  networkId?: string;
  portId?: string;
  securityGroups: string[];
  status: 'BUILD' | 'ACTIVE';
  polls: number;
  ip?: string;
  created: string;
  foreign: boolean;
}

interface NeutronRecord {
  id: string;
  name?: string;
  description: string;
  [k: string]: unknown;
}

const NETWORKS = [
  { id: '5a0e5b1c-0000-4000-8000-00000000e7e7', name: 'Ext-Net', external: true },
  { id: '5a0e5b1c-0000-4000-8000-000000000001', name: 'public', external: true },
  { id: '5a0e5b1c-0000-4000-8000-000000000002', name: 'private', external: false },
];
const FLAVORS = [
  { id: '0f1e2d3c-0000-4000-8000-000000000001', name: 'm1.tiny', ram: 512, vcpus: 1, disk: 1 },
  { id: '0f1e2d3c-0000-4000-8000-000000000002', name: 'm1.small', ram: 2048, vcpus: 1, disk: 20 },
  { id: '906e8259-0340-4856-95b5-4ea2d26fe377', name: 'd2-2', ram: 2048, vcpus: 1, disk: 25 },
  { id: '0f1e2d3c-0000-4000-8000-000000000003', name: 'm1.medium', ram: 4096, vcpus: 2, disk: 40 },
];
/** The fake's project id (Keystone ids are UUIDs; the description asks the uuid format). */
const PROJECT = '3c1e7a2b-0000-4000-8000-00000000fa4e';
const IMAGES = [
  { id: 'a9b1c2d3-0000-4000-8000-0000000000d1', name: 'debian-12' },
  { id: 'a9b1c2d3-0000-4000-8000-0000000000d2', name: 'Debian 12' },
];

export class OpenStackFake extends FakeCloudServer {
  private readonly v = openStackValidators();
  private readonly servers = new Map<string, ServerRecord>();
  private readonly groups = new Map<string, NeutronRecord>();
  private readonly rules = new Map<string, NeutronRecord>();
  private readonly ports = new Map<string, NeutronRecord>();
  private readonly fips = new Map<string, NeutronRecord>();
  private readonly tokens = new Set<string>();
  private readonly booter: InstanceBooter;
  private readonly matched = new WeakMap<FakeRequest, { op: MatchedOperation; validator: OpenApiValidator }>();
  private readonly neverActiveNames = new Set<string>();
  private neverActiveAll = false;
  private readonly foreignCount: number;
  /** Known description defects met (see KNOWN_SPEC_DEFECTS), by reason. */
  readonly defectsSeen = new Set<string>();
  /** Service of the request being handled: error replies take its format. */
  private service: 'identity' | 'compute' | 'network' = 'compute';

  constructor(private readonly options: OpenStackFakeOptions = {}) {
    super(options);
    this.booter = new InstanceBooter(options, (m) => this.problems.push(m));
    this.foreignCount = options.foreignServers ?? 0;
    for (let i = 0; i < this.foreignCount; i++) {
      const id = randomUUID();
      this.servers.set(id, {
        id, name: `web-${i + 1}`, flavorId: FLAVORS[1].id, imageId: IMAGES[0].id, metadata: { role: 'web' }, userData: Buffer.alloc(0),
        networkId: NETWORKS[1].id, securityGroups: [], status: 'ACTIVE', polls: 0, ip: `192.0.2.${i + 10}`, created: isoNow(), foreign: true,
      });
    }
  }

  protected pathPrefix(): string {
    return '/identity/v3';
  }

  holdings(): Holdings {
    const own = [...this.servers.values()].filter((s) => !s.foreign);
    return {
      servers: own.length,
      securityGroups: this.groups.size,
      securityGroupRules: this.rules.size,
      ports: this.ports.size,
      floatingIps: this.fips.size,
      running: this.booter.count(),
      foreignServersMissing: this.foreignCount - (this.servers.size - own.length),
    };
  }

  neverActive(name?: string): void {
    if (name === undefined) this.neverActiveAll = true;
    else this.neverActiveNames.add(name);
  }

  /**
   * Puts an ACTIVE server in place as another inletsctl would have made it (FakeEntry.seedHost):
   * the shared mark and the name mark in its metadata, plus the tunnel mark when given. Nova allows
   * duplicate names, so the name is kept. Nothing boots on it; it has no security group.
   * @returns the server id
   */
  seedServer(host: { name: string; tunnelId?: string }): string {
    const metadata: Record<string, string> = { 'managed-by': 'inletsctl', 'inletsctl-name': host.name, ...(host.tunnelId ? { 'inletsctl-tunnel': host.tunnelId } : {}) };
    const id = randomUUID();
    this.servers.set(id, {
      id, name: host.name, flavorId: FLAVORS[1].id, imageId: IMAGES[0].id, metadata, userData: Buffer.alloc(0), networkId: NETWORKS[1].id,
      securityGroups: [], status: 'ACTIVE', polls: 0, ip: allocateLoopbackAddress(), created: isoNow(), foreign: false,
    });
    return id;
  }

  /** The security group rules made for a group (for tests). */
  rulesOf(groupId: string): NeutronRecord[] {
    return [...this.rules.values()].filter((r) => r.security_group_id === groupId);
  }

  /** Ids of the servers that were there before the test (for tests). */
  foreignServerIds(): string[] {
    return [...this.servers.values()].filter((s) => s.foreign).map((s) => s.id);
  }

  /** A server record by id (for tests). */
  serverRecord(id: string): ServerRecord | undefined {
    return this.servers.get(id);
  }

  protected async shutdown(): Promise<void> {
    await this.booter.stopAll();
  }

  private split(pathname: string): { service: 'identity' | 'compute' | 'network'; rest: string } {
    if (pathname.startsWith('/compute/')) return { service: 'compute', rest: pathname.slice('/compute'.length) };
    if (pathname.startsWith('/network/')) return { service: 'network', rest: pathname.slice('/network'.length) };
    return { service: 'identity', rest: pathname };
  }

  protected operationOf(req: FakeRequest): string | undefined {
    const { service, rest } = this.split(req.pathname);
    this.service = service;
    if (service === 'identity') return req.method === 'POST' && rest === '/auth/tokens' ? TOKEN_OP : undefined;
    return this.v[service].match(req.method, rest)?.operationId;
  }

  protected authorized(req: FakeRequest): boolean {
    const { service } = this.split(req.pathname);
    if (service === 'identity') return true; // token issue checks the secret itself
    const token = req.headers['x-auth-token'];
    return typeof token === 'string' && this.tokens.has(token);
  }

  protected checkRequest(req: FakeRequest): string[] {
    const { service, rest } = this.split(req.pathname);
    if (service === 'identity') return rest === '/auth/tokens' ? checkTokenRequest(req.body) : [`${req.method} ${rest} is not a Keystone call the fake knows`];
    const validator = this.v[service];
    const { op, problems } = validator.checkRequest({ method: req.method, pathname: rest, query: req.query, headers: req.headers, body: req.rawBody });
    if (op) this.matched.set(req, { op, validator });
    return this.tolerate(problems.map((p) => `request: ${p}`)).map((p) => p.slice('request: '.length));
  }

  private tolerate(problems: string[]): string[] {
    return problems.filter((p) => {
      const known = KNOWN_SPEC_DEFECTS.find((d) => d.pattern.test(p));
      if (known) this.defectsSeen.add(known.why);
      return !known;
    });
  }

  protected checkReply(req: FakeRequest, reply: FakeReply): string[] {
    const m = this.matched.get(req);
    if (!m || reply.status >= 300) return [];
    const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
    return this.tolerate(m.validator.checkResponse(m.op, reply.status, body, body ? 'application/json' : undefined));
  }

  protected errorReply(status: number, code: string, message: string): FakeReply {
    if (this.service === 'identity') return { status, body: { error: { code: status, title: status === 401 ? 'Unauthorized' : code, message } } };
    if (this.service === 'network') return { status, body: { NeutronError: { type: code, message, detail: '' } } };
    const kinds: Record<number, string> = { 400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound', 409: 'conflictingRequest', 413: 'overLimit', 429: 'overLimit', 500: 'computeFault' };
    return { status, body: { [kinds[status] ?? code]: { code: status, message } } };
  }

  protected rateLimitHeaders(): Record<string, string> {
    return {};
  }

  protected handle(req: FakeRequest, op: string): FakeReply {
    const params = this.matched.get(req)?.op.pathParams ?? {};
    const body = (req.body ?? {}) as Record<string, Record<string, unknown>>;
    switch (op) {
      case TOKEN_OP: {
        const want = this.fakeOptions.acceptToken;
        if (want !== undefined && secretOf(req.body) !== want) return this.errorReply(401, 'Unauthorized', 'The request you have made requires authentication.');
        const base = this.origin;
        const { token, reply } = tokenReply({ identity: `${base}/identity/v3`, compute: `${base}/compute/v2.1`, network: `${base}/network/` }, this.options.region ?? FAKE_REGION);
        this.tokens.add(token);
        return reply;
      }
      case 'flavors:get':
        return this.page(req.query, 'flavors', FLAVORS.map((f) => ({ id: f.id, name: f.name, links: [] })), `${this.origin}/compute/v2.1/flavors`);
      case 'images:get':
        return { status: 200, body: { images: IMAGES.map((i) => ({ id: i.id, name: i.name, links: [] })) } };
      case 'networks:get': {
        const name = req.query.get('name');
        return { status: 200, body: { networks: NETWORKS.filter((n) => !name || n.name === name).map((n) => this.networkJson(n)) } };
      }
      case 'servers:post':
        return this.createServer(body.server ?? {});
      case 'servers/detail:get': {
        const all = [...this.servers.values()];
        return this.page(req.query, 'servers', all, `${this.origin}/compute/v2.1/servers/detail`, (s) => {
          this.observe(s);
          return this.serverJson(s);
        });
      }
      case 'servers/id:get': {
        const s = this.servers.get(params.id);
        if (!s) return this.errorReply(404, 'itemNotFound', `Instance ${params.id} could not be found.`);
        this.observe(s);
        return { status: 200, body: { server: this.serverJson(s) } };
      }
      case 'servers/id:delete': {
        const s = this.servers.get(params.id);
        if (!s) return this.errorReply(404, 'itemNotFound', `Instance ${params.id} could not be found.`);
        this.servers.delete(s.id);
        void this.booter.stop(s.id);
        if (s.portId) {
          const port = this.ports.get(s.portId);
          if (port) Object.assign(port, { device_id: '', device_owner: '' });
        }
        return { status: 204 };
      }
      case 'security-groups:post':
        return this.createGroup(body.security_group ?? {});
      case 'security-groups:get':
        return { status: 200, body: { security_groups: [...this.groups.values()].map((g) => this.groupJson(g)) } };
      case 'security-groups/id:delete': {
        const g = this.groups.get(params.id);
        if (!g) return this.errorReply(404, 'SecurityGroupNotFound', `Security group ${params.id} does not exist`);
        const inUse = [...this.servers.values()].some((s) => s.securityGroups.includes(g.id)) || [...this.ports.values()].some((p) => (p.security_groups as string[]).includes(g.id));
        if (inUse) return this.errorReply(409, 'SecurityGroupInUse', `Security Group ${g.id} in use.`);
        this.groups.delete(g.id);
        for (const r of this.rulesOf(g.id)) this.rules.delete(r.id);
        return { status: 204 };
      }
      case 'security-group-rules:post':
        return this.createRule(body.security_group_rule ?? {});
      case 'ports:post':
        return this.createPort(body.port ?? {});
      case 'ports:get':
        return { status: 200, body: { ports: [...this.ports.values()] } };
      case 'ports/port_id:delete': {
        const p = this.ports.get(params.port_id);
        if (!p) return this.errorReply(404, 'PortNotFound', `Port ${params.port_id} could not be found.`);
        this.ports.delete(p.id);
        for (const f of this.fips.values()) if (f.port_id === p.id) Object.assign(f, { port_id: null, fixed_ip_address: null, status: 'DOWN' });
        return { status: 204 };
      }
      case 'floatingips:post':
        return this.createFloatingIp(body.floatingip ?? {});
      case 'floatingips:get':
        return { status: 200, body: { floatingips: [...this.fips.values()] } };
      case 'floatingips/id:delete': {
        const f = this.fips.get(params.id);
        if (!f) return this.errorReply(404, 'FloatingIPNotFound', `Floating IP ${params.id} could not be found`);
        this.fips.delete(f.id);
        return { status: 204 };
      }
      default:
        this.problems.push(`the fake does not implement ${op}`);
        return this.errorReply(404, 'itemNotFound', 'not implemented by the fake');
    }
  }

  /** Nova-style pages: `limit` (capped), `marker` (an id), and `<key>_links` rel=next. */
  private page<T extends { id: string }>(query: URLSearchParams, key: string, items: T[], href: string, render: (x: T) => unknown = (x) => x): FakeReply {
    const limit = Math.min(Number(query.get('limit') ?? 1000) || 1000, this.options.maxPerPage ?? 1000);
    const marker = query.get('marker');
    let start = 0;
    if (marker) {
      const at = items.findIndex((x) => x.id === marker);
      if (at === -1) return this.errorReply(400, 'badRequest', `marker [${marker}] not found`);
      start = at + 1;
    }
    const slice = items.slice(start, start + limit);
    const out: Record<string, unknown> = { [key]: slice.map(render) };
    if (start + limit < items.length) out[`${key}_links`] = [{ rel: 'next', href: `${href}?limit=${limit}&marker=${slice[slice.length - 1].id}` }];
    return { status: 200, body: out };
  }

  private createServer(s: Record<string, unknown>): FakeReply {
    const flavor = FLAVORS.find((f) => f.id === s.flavorRef);
    if (!flavor) return this.errorReply(400, 'badRequest', `Flavor ${String(s.flavorRef)} could not be found.`);
    const image = IMAGES.find((i) => i.id === s.imageRef);
    if (!image) return this.errorReply(400, 'badRequest', `Image ${String(s.imageRef)} could not be found.`);
    const userData = Buffer.from(String(s.user_data ?? ''), 'base64');
    if (String(s.user_data ?? '').length > 65535) return this.errorReply(400, 'badRequest', 'User data too large. User data must be no larger than 65535 bytes once base64 encoded.');
    const nets = (s.networks as Array<{ uuid?: string; port?: string }> | undefined) ?? [];
    const groups = ((s.security_groups as Array<{ name: string }> | undefined) ?? []).map((g) => g.name);
    for (const g of groups) if (!this.groups.has(g)) return this.errorReply(400, 'badRequest', `Security group ${g} not found for project p-fake.`);
    const portId = nets[0]?.port;
    if (portId) {
      const port = this.ports.get(portId);
      if (!port) return this.errorReply(400, 'badRequest', `Port ${portId} could not be found.`);
      if (port.device_id) return this.errorReply(409, 'conflictingRequest', `Port ${portId} is still in use.`);
      if (groups.length) return this.errorReply(400, 'badRequest', 'Security groups cannot be given with a pre-made port.');
    }
    const networkId = nets[0]?.uuid;
    if (!portId && !NETWORKS.some((n) => n.id === networkId)) return this.errorReply(400, 'badRequest', `Network ${String(networkId)} could not be found.`);
    const rec: ServerRecord = {
      id: randomUUID(), name: String(s.name), flavorId: flavor.id, imageId: image.id, metadata: (s.metadata as Record<string, string>) ?? {}, userData,
      networkId, portId, securityGroups: groups, status: 'BUILD', polls: 0, created: isoNow(), foreign: false,
    };
    if (portId) Object.assign(this.ports.get(portId)!, { device_id: rec.id, device_owner: 'compute:nova' });
    this.servers.set(rec.id, rec);
    const link = `${this.origin}/compute/v2.1/servers/${rec.id}`;
    return {
      status: 202,
      headers: { location: link },
      body: { server: { id: rec.id, links: [{ rel: 'self', href: link }, { rel: 'bookmark', href: link }], adminPass: 'Xy9fakeAdminPass', 'OS-DCF:diskConfig': 'MANUAL', security_groups: groups.map((name) => ({ name })) } },
    };
  }

  private createGroup(g: Record<string, unknown>): FakeReply {
    const id = randomUUID();
    const rec: NeutronRecord = { id, name: String(g.name ?? ''), description: String(g.description ?? ''), tenant_id: PROJECT, project_id: PROJECT, stateful: true, shared: false, tags: [], revision_number: 1, created_at: isoNow(), updated_at: isoNow() };
    this.groups.set(id, rec);
    // Neutron gives every new group two egress rules: all IPv4 and all IPv6.
    for (const ethertype of ['IPv4', 'IPv6']) this.addRule({ security_group_id: id, direction: 'egress', ethertype, protocol: null, port_range_min: null, port_range_max: null, remote_ip_prefix: null, description: '' });
    return { status: 201, body: { security_group: this.groupJson(rec) } };
  }

  private addRule(r: Record<string, unknown>): NeutronRecord {
    const rec: NeutronRecord = { id: randomUUID(), name: '', description: String(r.description ?? ''), tenant_id: PROJECT, project_id: PROJECT, remote_group_id: null, remote_address_group_id: null, revision_number: 0, created_at: isoNow(), updated_at: isoNow(), standard_attr_id: 1, belongs_to_default_sg: false, normalized_cidr: r.remote_ip_prefix ?? null, ...r };
    delete rec.name;
    this.rules.set(rec.id, rec);
    return rec;
  }

  private createRule(r: Record<string, unknown>): FakeReply {
    if (!this.groups.has(String(r.security_group_id))) return this.errorReply(404, 'SecurityGroupNotFound', `Security group ${String(r.security_group_id)} does not exist`);
    if (r.direction !== 'ingress' && r.direction !== 'egress') return this.errorReply(400, 'InvalidInput', 'direction must be ingress or egress');
    return { status: 201, body: { security_group_rule: this.addRule(r) } };
  }

  private createPort(p: Record<string, unknown>): FakeReply {
    const net = NETWORKS.find((n) => n.id === p.network_id);
    if (!net) return this.errorReply(404, 'NetworkNotFound', `Network ${String(p.network_id)} could not be found.`);
    const groups = (p.security_groups as string[] | undefined) ?? [];
    for (const g of groups) if (!this.groups.has(g)) return this.errorReply(404, 'SecurityGroupNotFound', `Security group ${g} does not exist`);
    const id = randomUUID();
    const rec: NeutronRecord = {
      id, name: String(p.name ?? ''), description: String(p.description ?? ''), network_id: net.id, security_groups: groups, device_id: '', device_owner: '',
      fixed_ips: [{ subnet_id: randomUUID(), ip_address: `10.0.0.${(this.ports.size % 250) + 3}` }], mac_address: 'fa:16:3e:00:00:01', admin_state_up: true, status: 'DOWN',
      tenant_id: PROJECT, project_id: PROJECT, tags: [], revision_number: 1, created_at: isoNow(), updated_at: isoNow(),
    };
    this.ports.set(id, rec);
    return { status: 201, body: { port: rec } };
  }

  private createFloatingIp(f: Record<string, unknown>): FakeReply {
    const net = NETWORKS.find((n) => n.id === f.floating_network_id && n.external);
    if (!net) return this.errorReply(404, 'ExternalNetworkNotFound', `External network ${String(f.floating_network_id)} could not be found.`);
    const port = f.port_id ? this.ports.get(String(f.port_id)) : undefined;
    if (f.port_id && !port) return this.errorReply(404, 'PortNotFound', `Port ${String(f.port_id)} could not be found.`);
    const id = randomUUID();
    const rec: NeutronRecord = {
      id, name: '', description: String(f.description ?? ''), floating_network_id: net.id, floating_ip_address: allocateLoopbackAddress(), port_id: port?.id ?? null,
      fixed_ip_address: (port?.fixed_ips as Array<{ ip_address: string }> | undefined)?.[0]?.ip_address ?? null, router_id: null, status: port ? 'ACTIVE' : 'DOWN',
      tenant_id: PROJECT, project_id: PROJECT, tags: [], revision_number: 0, created_at: isoNow(), updated_at: isoNow(), port_details: null,
    };
    delete rec.name;
    this.fips.set(id, rec);
    return { status: 201, body: { floatingip: rec } };
  }

  /** A GET saw the server: after enough of them it is ACTIVE, has an address, and boots. */
  private observe(s: ServerRecord): void {
    if (s.status !== 'BUILD') return;
    s.polls++;
    if (this.neverActiveAll || this.neverActiveNames.has(s.name)) return;
    if (s.polls < (this.options.activeAfterPolls ?? 2)) return;
    s.status = 'ACTIVE';
    const fip = s.portId ? [...this.fips.values()].find((f) => f.port_id === s.portId) : undefined;
    s.ip = fip ? String(fip.floating_ip_address) : allocateLoopbackAddress();
    this.booter.boot(s.id, s.userData, s.ip);
  }

  private serverJson(s: ServerRecord): Record<string, unknown> {
    const flavor = FLAVORS.find((f) => f.id === s.flavorId)!;
    const addresses: Record<string, unknown[]> = {};
    if (s.status === 'ACTIVE' && s.ip) {
      const port = s.portId ? this.ports.get(s.portId) : undefined;
      if (port) {
        const net = NETWORKS.find((n) => n.id === port.network_id)!;
        const fixed = (port.fixed_ips as Array<{ ip_address: string }>)[0].ip_address;
        addresses[net.name] = [
          { addr: fixed, version: 4, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01' },
          { addr: s.ip, version: 4, 'OS-EXT-IPS:type': 'floating', 'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01' },
        ];
      } else {
        const net = NETWORKS.find((n) => n.id === s.networkId) ?? NETWORKS[1];
        addresses[net.name] = [{ addr: s.ip, version: 4, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:02' }];
      }
    }
    const link = `${this.origin}/compute/v2.1/servers/${s.id}`;
    return {
      id: s.id, name: s.name, status: s.status, tenant_id: PROJECT, user_id: '7e0c1a2b-0000-4000-8000-00000000a5e4', metadata: s.metadata, hostId: s.status === 'ACTIVE' ? 'a1b2c3' : '',
      image: { id: s.imageId, links: [] }, flavor: { id: flavor.id, links: [] }, created: s.created, updated: s.created, addresses, accessIPv4: '', accessIPv6: '',
      links: [{ rel: 'self', href: link }], 'OS-DCF:diskConfig': 'MANUAL', progress: s.status === 'ACTIVE' ? 100 : 0, 'OS-EXT-AZ:availability_zone': 'nova', config_drive: '',
      key_name: null, 'OS-SRV-USG:launched_at': s.status === 'ACTIVE' ? s.created : null, 'OS-SRV-USG:terminated_at': null,
      'OS-EXT-STS:task_state': s.status === 'BUILD' ? 'spawning' : null, 'OS-EXT-STS:vm_state': s.status === 'BUILD' ? 'building' : 'active', 'OS-EXT-STS:power_state': s.status === 'ACTIVE' ? 1 : 0,
      'os-extended-volumes:volumes_attached': [], security_groups: s.securityGroups.map((g) => ({ name: this.groups.get(g)?.name ?? g })),
    };
  }

  private groupJson(g: NeutronRecord): Record<string, unknown> {
    return { ...g, security_group_rules: this.rulesOf(g.id) };
  }

  private networkJson(n: { id: string; name: string; external: boolean }): Record<string, unknown> {
    return {
      id: n.id, name: n.name, description: '', admin_state_up: true, status: 'ACTIVE', shared: n.external, 'router:external': n.external, subnets: [randomUUID()],
      tenant_id: PROJECT, project_id: PROJECT, mtu: 1500, availability_zones: ['nova'], availability_zone_hints: [], ipv4_address_scope: null, ipv6_address_scope: null,
      port_security_enabled: true, tags: [], revision_number: 1, created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z', is_default: n.external, l2_adjacency: true,
    };
  }
}

function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}
