/**
 * A fake Azure Resource Manager for the calls the Azure provider makes, following Azure's public
 * REST documentation (see azure-arm-rules.ts): subscriptions, resource groups (list with tag
 * filters and nextLink pages, delete as a long-running operation with a Location header that
 * cascades to everything in the group), template deployments (azure-fake-deployments.ts: PUT
 * validates the template, GET goes Accepted → Running → Succeeded and makes the resources the
 * template declares), and PUT/GET/DELETE of virtual networks (and subnets),
 * public IP addresses, network security groups, network interfaces and virtual machines, each PUT
 * a long-running operation with an Azure-AsyncOperation header and provisioningState
 * Creating/Updating → Succeeded/Failed. Errors are `{ "error": { "code", "message" } }`; every
 * request's api-version is checked. A VM that succeeds boots its customData (azure-fake-store.ts).
 *
 * Transport: plain http by default (the base class), or https with a throw-away CA (`tls`), in
 * front of the same server, for clients that use the SDKs' unmodified pipeline.
 */
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { FakeCloudServer, type FakeReply, type FakeRequest, type Holdings } from './fake-cloud-server.js';
import {
  API_VERSIONS,
  checkNetworkInterface,
  checkPublicIp,
  checkSecurityGroup,
  checkSubnet,
  checkTracked,
  checkVirtualMachine,
  checkVirtualNetwork,
  type Violation,
} from './azure-arm-rules.js';
import { ArmStore, groupKey, NAMESPACE, resourceKey, type Group, type Json, type Resource, type ResourceKind } from './azure-fake-store.js';
import { renderGroup, renderResource, renderSubnet } from './azure-fake-render.js';
import { FakeDeployments } from './azure-fake-deployments.js';
import type { BootFunction } from './instance-booter.js';
import type { TestCa } from './azure-test-ca.js';

/** The subscription the fake serves when none is configured. */
export const FAKE_SUBSCRIPTION = '4f1c2d3e-0000-4000-8000-00000000a2e0';

export interface AzureFakeOptions {
  /** Observations of a VM before it is Succeeded (and boots). Default 2. */
  activeAfterPolls?: number;
  /** Observations of a network resource's PUT before it is Succeeded. Default 1. */
  networkPolls?: number;
  /** Observations of a resource group's deletion before it is gone. Default 1. */
  deletePolls?: number;
  /** Largest page of a list. Default 100. */
  maxPerPage?: number;
  /** Resource groups made by "someone else" (they must survive every test). */
  foreignGroups?: number;
  boot?: BootFunction | false;
  acceptToken?: string;
  /** Subscriptions the credential sees. Default: one, FAKE_SUBSCRIPTION. */
  subscriptions?: string[];
  /** Serve https with this CA's server certificate instead of http. */
  tls?: TestCa;
}

type Namespace = keyof typeof API_VERSIONS;
interface Route {
  op: string;
  namespace: Namespace;
  params: string[];
}

const KINDS: Record<string, { kind: ResourceKind; op: string }> = {
  virtualnetworks: { kind: 'virtualNetworks', op: 'VirtualNetworks' },
  publicipaddresses: { kind: 'publicIPAddresses', op: 'PublicIPAddresses' },
  networksecuritygroups: { kind: 'networkSecurityGroups', op: 'NetworkSecurityGroups' },
  networkinterfaces: { kind: 'networkInterfaces', op: 'NetworkInterfaces' },
  virtualmachines: { kind: 'virtualMachines', op: 'VirtualMachines' },
  disks: { kind: 'disks', op: 'Disks' },
};
const VERBS: Record<string, string> = { PUT: 'CreateOrUpdate', GET: 'Get', DELETE: 'Delete' };
const S = '([^/]+)';
const ROUTES: Array<{ re: RegExp; namespace: Namespace | ((m: string[]) => Namespace); op: (method: string, m: string[]) => string | undefined }> = [
  { re: /^\/subscriptions$/i, namespace: 'subscriptions', op: (m) => (m === 'GET' ? 'Subscriptions_List' : undefined) },
  { re: new RegExp(`^/subscriptions/${S}/resourcegroups$`, 'i'), namespace: 'resources', op: (m) => (m === 'GET' ? 'ResourceGroups_List' : undefined) },
  { re: new RegExp(`^/subscriptions/${S}/resourcegroups/${S}$`, 'i'), namespace: 'resources', op: (m) => (VERBS[m] ? `ResourceGroups_${VERBS[m]}` : undefined) },
  { re: new RegExp(`^/subscriptions/${S}/operationresults/${S}$`, 'i'), namespace: 'resources', op: (m) => (m === 'GET' ? 'OperationResults_Get' : undefined) },
  {
    re: new RegExp(`^/subscriptions/${S}/resourcegroups/${S}/providers/Microsoft\\.Resources/deployments/${S}$`, 'i'),
    namespace: 'resources',
    op: (m) => (m === 'PUT' ? 'Deployments_CreateOrUpdate' : m === 'GET' ? 'Deployments_Get' : undefined),
  },
  {
    re: new RegExp(`^/subscriptions/${S}/providers/(Microsoft\\.Network|Microsoft\\.Compute)/locations/${S}/operations/${S}$`, 'i'),
    namespace: (m) => (m[1].toLowerCase() === 'microsoft.network' ? 'network' : 'compute'),
    op: (m) => (m === 'GET' ? 'AsyncOperations_Get' : undefined),
  },
  {
    re: new RegExp(`^/subscriptions/${S}/resourcegroups/${S}/providers/Microsoft\\.Network/virtualNetworks/${S}/subnets/${S}$`, 'i'),
    namespace: 'network',
    op: (m) => (m === 'PUT' || m === 'GET' ? `Subnets_${VERBS[m]}` : undefined),
  },
  {
    re: new RegExp(`^/subscriptions/${S}/resourcegroups/${S}/providers/(Microsoft\\.Network|Microsoft\\.Compute)/(virtualNetworks|publicIPAddresses|networkSecurityGroups|networkInterfaces|virtualMachines|disks)/${S}$`, 'i'),
    namespace: (m) => (m[2].toLowerCase() === 'microsoft.network' ? 'network' : 'compute'),
    op: (method, m) => {
      const k = KINDS[m[3].toLowerCase()];
      if (!k || !VERBS[method] || NAMESPACE[k.kind].toLowerCase() !== m[2].toLowerCase()) return undefined;
      return `${k.op}_${VERBS[method]}`;
    },
  },
];

export class AzureFake extends FakeCloudServer {
  readonly store: ArmStore;
  readonly deployments: FakeDeployments;
  /** Every PUT body received, in order (tests read what the provider asked for). */
  readonly puts: Array<{ op: string; path: string; body: Json }> = [];
  private readonly subscriptions: string[];
  private readonly maxPerPage: number;
  private tlsServer?: TlsServer;
  private readonly tlsSockets = new Set<Socket>();
  private httpsOrigin?: string;

  constructor(private readonly options: AzureFakeOptions = {}) {
    super({ acceptToken: options.acceptToken });
    this.subscriptions = options.subscriptions ?? [FAKE_SUBSCRIPTION];
    this.maxPerPage = options.maxPerPage ?? 100;
    this.store = new ArmStore(
      { activeAfterPolls: options.activeAfterPolls ?? 2, networkPolls: options.networkPolls ?? 1, deletePolls: options.deletePolls ?? 1, boot: options.boot },
      (m) => this.problems.push(m),
    );
    this.deployments = new FakeDeployments(this.store, (m) => this.problems.push(m));
    for (let i = 0; i < (options.foreignGroups ?? 0); i++) {
      // One of them even carries a tunnel's name tag, but not inletsctl=true: still not ours.
      const tags: Record<string, string> = i === 1 ? { 'inletsctl-name': 'ct-by-name' } : { owner: 'someone-else' };
      const name = `foreign-rg-${i}`;
      this.store.groups.set(groupKey(this.subscriptions[0], name), { subscription: this.subscriptions[0], name, location: 'westeurope', tags, state: 'Succeeded', foreign: true });
    }
  }

  /** https origin when serving TLS, else the base http one. */
  override get url(): string {
    return this.httpsOrigin ?? super.url;
  }

  override async start(): Promise<string> {
    await super.start();
    const ca = this.options.tls;
    if (!ca) return this.url;
    const innerPort = Number(new URL(super.url).port);
    // Decrypts and passes bytes both ways, so the base server's faults (drop, hang) reach the client.
    this.tlsServer = createTlsServer({ cert: ca.certPem, key: ca.keyPem }, (clear) => {
      const inner = connect(innerPort, '127.0.0.1');
      const kill = () => {
        clear.destroy();
        inner.destroy();
      };
      clear.on('error', kill).on('close', kill);
      inner.on('error', kill).on('close', kill);
      clear.pipe(inner).pipe(clear);
    });
    this.tlsServer.on('secureConnection', (s: Socket) => {
      this.tlsSockets.add(s);
      s.on('close', () => this.tlsSockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.tlsServer!.once('error', reject);
      this.tlsServer!.listen(0, '127.0.0.1', () => resolve());
    });
    this.httpsOrigin = `https://127.0.0.1:${(this.tlsServer.address() as { port: number }).port}`;
    return this.url;
  }

  override async close(): Promise<void> {
    for (const s of this.tlsSockets) s.destroy();
    await new Promise<void>((resolve) => (this.tlsServer ? this.tlsServer.close(() => resolve()) : resolve()));
    await super.close();
  }

  holdings(): Holdings {
    const mine = [...this.store.resources.values()].filter((r) => !r.foreign);
    const count = (kind: ResourceKind) => mine.filter((r) => r.kind === kind).length;
    return {
      resourceGroups: [...this.store.groups.values()].filter((g) => !g.foreign).length,
      deployments: this.deployments.count(),
      virtualNetworks: count('virtualNetworks'),
      publicIPAddresses: count('publicIPAddresses'),
      networkSecurityGroups: count('networkSecurityGroups'),
      networkInterfaces: count('networkInterfaces'),
      virtualMachines: count('virtualMachines'),
      disks: count('disks'),
      runningInstances: this.store.booter.count(),
      foreignGroupsMissing: (this.options.foreignGroups ?? 0) - [...this.store.groups.values()].filter((g) => g.foreign).length,
    };
  }

  /**
   * A tunnel as another inletsctl made it (see FakeEntry.seedHost), in the first subscription:
   * with a tunnel id, group `inletsctl-<name>-<id>` with a Succeeded deployment whose output is the
   * IP; without, a group of a version before tunnel ids, `inletsctl-<name>` (a suffix when taken).
   * @returns the group's name, which the provider reports as Host.id
   */
  seedGroup(host: { name: string; tunnelId?: string }): string {
    const subscription = this.subscriptions[0];
    const tags: Record<string, string> = { inletsctl: 'true', 'managed-by': 'inletsctl', 'inletsctl-name': host.name, ...(host.tunnelId ? { 'inletsctl-tunnel': host.tunnelId } : {}) };
    const wanted = host.tunnelId ? `inletsctl-${host.name}-${host.tunnelId}` : `inletsctl-${host.name}`;
    let group = wanted;
    for (let i = 2; this.store.groups.has(groupKey(subscription, group)); i++) group = `${wanted}-${i}`;
    this.store.seedGroup(subscription, group, 'eastus', tags, host.name);
    if (host.tunnelId) this.deployments.seed(subscription, group, { publicIpAddress: this.store.resourcesIn(subscription, group).find((r) => r.kind === 'publicIPAddresses')!.ip! });
    return group;
  }

  neverActive(name?: string): void {
    this.store.neverActive(name);
  }

  protected async shutdown(): Promise<void> {
    await this.store.stopAll();
  }

  protected operationOf(req: FakeRequest): string | undefined {
    return this.route(req)?.op;
  }

  protected errorReply(status: number, code: string, message: string): FakeReply {
    const azureCode = { rate_limit: 'TooManyRequests', server_error: 'InternalServerError', unauthorized: 'InvalidAuthenticationToken' }[code] ?? code;
    return { status, body: { error: { code: azureCode, message } } };
  }

  protected rateLimitHeaders(): Record<string, string> {
    return {
      'x-ms-ratelimit-remaining-subscription-reads': String(this.remaining),
      'x-ms-ratelimit-remaining-subscription-writes': String(Math.min(this.remaining, 1199)),
      'x-ms-request-id': randomUUID(),
    };
  }

  protected checkRequest(req: FakeRequest): string[] {
    const route = this.route(req);
    if (!route) return [`no such ARM operation: ${req.method} ${req.pathname}`];
    const problems = this.apiVersionViolation(req, route).map((v) => v.message);
    if (req.method === 'PUT') {
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) problems.push('PUT without Content-Type application/json');
      problems.push(...this.bodyViolations(route, req.body).map((v) => `${v.code}: ${v.message}`));
      const tags = (req.body as Json | undefined)?.tags as Record<string, string> | undefined;
      // Deployments carry no tags of their own: the fake checks each resource of the template.
      const direct = route.op.endsWith('_CreateOrUpdate') && route.op !== 'Subnets_CreateOrUpdate' && route.op !== 'Deployments_CreateOrUpdate';
      if (direct && (tags?.['managed-by'] !== 'inletsctl' || !tags?.['inletsctl-name'] || !tags?.['inletsctl-tunnel'])) {
        this.problems.push(`${route.op} ${req.pathname}: not tagged managed-by=inletsctl, inletsctl-name and inletsctl-tunnel`);
      }
    }
    return problems;
  }

  protected checkReply(_req: FakeRequest, reply: FakeReply): string[] {
    const body = reply.body as Json | undefined;
    if (reply.status >= 400) {
      const e = body?.error as Json | undefined;
      return typeof e?.code === 'string' && typeof e.message === 'string' ? [] : ['an error reply without error.code and error.message'];
    }
    if (body && typeof body.id === 'string' && typeof body.type === 'string') {
      return typeof (body.properties as Json | undefined)?.provisioningState === 'string' ? [] : ['a resource without properties.provisioningState'];
    }
    return [];
  }

  protected handle(req: FakeRequest, op: string): FakeReply {
    const route = this.route(req);
    if (!route) return this.errorReply(400, 'InvalidResourceType', `The resource type could not be found for ${req.method} ${req.pathname}.`);
    const [version] = this.apiVersionViolation(req, route);
    if (version) return this.errorReply(version.status, version.code, version.message);
    const p = route.params;
    if (req.method === 'PUT') this.puts.push({ op, path: req.pathname, body: (req.body ?? {}) as Json });
    const origin = `${this.httpsOrigin ? 'https' : 'http'}://${String(req.headers.host)}`;
    if (op === 'Subscriptions_List') return this.page(req, origin, this.subscriptions.map((id) => ({ id: `/subscriptions/${id}`, subscriptionId: id, displayName: `Fake subscription ${id.slice(0, 8)}`, state: 'Enabled', tenantId: 'fake-tenant' })));
    if (!this.subscriptions.includes(p[0])) return this.errorReply(404, 'SubscriptionNotFound', `The subscription '${p[0]}' could not be found.`);
    switch (op) {
      case 'ResourceGroups_List':
        return this.listGroups(req, origin, p[0]);
      case 'ResourceGroups_CreateOrUpdate':
        return this.putGroup(p[0], p[1], req.body as Json);
      case 'ResourceGroups_Get': {
        const g = this.store.groups.get(groupKey(p[0], p[1]));
        if (!g) return this.groupNotFound(p[1]);
        this.store.observe(g.deleteOperation);
        const still = this.store.groups.get(groupKey(p[0], p[1]));
        return still ? { status: 200, body: renderGroup(still) } : this.groupNotFound(p[1]);
      }
      case 'ResourceGroups_Delete':
        return this.deleteGroup(origin, p[0], p[1]);
      case 'OperationResults_Get':
        return this.operationResult(origin, p[1]);
      case 'AsyncOperations_Get':
        return this.asyncOperation(p[3]);
      case 'Subnets_Get':
      case 'Subnets_CreateOrUpdate':
        return this.subnet(req, op, p);
      case 'Deployments_CreateOrUpdate':
        return this.putDeployment(p, req.body);
      case 'Deployments_Get': {
        const g = this.store.groups.get(groupKey(p[0], p[1]));
        if (!g) return this.groupNotFound(p[1]);
        const d = this.deployments.get(p[0], p[1], p[2]);
        if (!d) return this.errorReply(404, 'DeploymentNotFound', `Deployment '${p[2]}' could not be found.`);
        this.deployments.observe(d);
        return { status: 200, body: this.deployments.render(d) };
      }
      default:
        return this.resourceCall(req, op, origin, p);
    }
  }

  private route(req: FakeRequest): Route | undefined {
    for (const r of ROUTES) {
      const m = r.re.exec(req.pathname);
      if (!m) continue;
      const params = m.slice(1).map(decodeURIComponent);
      const op = r.op(req.method, m.slice(1));
      if (!op) return undefined;
      return { op, namespace: typeof r.namespace === 'function' ? r.namespace(m.slice(1)) : r.namespace, params };
    }
    return undefined;
  }

  private apiVersionViolation(req: FakeRequest, route: Route): Violation[] {
    const v = req.query.get('api-version');
    if (!v) return [{ status: 400, code: 'MissingApiVersionParameter', message: "The api-version query parameter (?api-version=) is required for all requests." }];
    if (!API_VERSIONS[route.namespace].includes(v)) {
      return [{ status: 400, code: 'InvalidApiVersionParameter', message: `The api-version '${v}' is invalid for ${route.op}. The supported versions are '${API_VERSIONS[route.namespace].join(',')}'.` }];
    }
    return [];
  }

  /** PUT of a deployment: validated (recorded as mismatches when refused), then accepted. */
  private putDeployment(p: string[], body: unknown): FakeReply {
    const group = this.store.groups.get(groupKey(p[0], p[1]));
    if (!group) return this.groupNotFound(p[1]);
    if (group.state === 'Deleting') return this.errorReply(409, 'ResourceGroupBeingDeleted', `The resource group '${p[1]}' is in deprovisioning state and cannot perform this operation.`);
    const { record, created, violations } = this.deployments.put(p[0], p[1], p[2], body);
    if (!record) {
      const [first] = violations;
      if (first.status !== 409) for (const v of violations) this.mismatches.push(`Deployments_CreateOrUpdate ${p[2]}: ${v.code}: ${v.message}`);
      return this.errorReply(first.status, first.code, first.message);
    }
    return { status: created ? 201 : 200, body: this.deployments.render(record) };
  }

  private bodyViolations(route: Route, body: unknown): Violation[] {
    if (route.op === 'Deployments_CreateOrUpdate') return []; // validated in putDeployment, with ARM's answer
    if (route.op === 'ResourceGroups_CreateOrUpdate') return checkTracked(body, false);
    if (route.op === 'Subnets_CreateOrUpdate') return checkSubnet({ ...(body as Json), name: route.params[3] });
    const tracked = checkTracked(body);
    if (tracked.length) return tracked;
    const b = body as Json;
    switch (route.op) {
      case 'VirtualNetworks_CreateOrUpdate':
        return checkVirtualNetwork(b);
      case 'PublicIPAddresses_CreateOrUpdate':
        return checkPublicIp(b);
      case 'NetworkSecurityGroups_CreateOrUpdate':
        return checkSecurityGroup(b);
      case 'NetworkInterfaces_CreateOrUpdate':
        return checkNetworkInterface(b);
      case 'VirtualMachines_CreateOrUpdate':
        return checkVirtualMachine(b);
      default:
        return [];
    }
  }

  /** A page of `items`, with a nextLink while more remain (`$skiptoken` is the offset). */
  private page(req: FakeRequest, origin: string, items: unknown[]): FakeReply {
    const top = Number(req.query.get('$top'));
    const size = Math.min(this.maxPerPage, Number.isInteger(top) && top > 0 ? top : Infinity);
    const start = Number(req.query.get('$skiptoken') ?? 0) || 0;
    const value = items.slice(start, start + size);
    const body: Json = { value };
    if (start + size < items.length) {
      const next = new URL(req.pathname, origin);
      for (const [k, v] of req.query) if (k !== '$skiptoken') next.searchParams.set(k, v);
      next.searchParams.set('$skiptoken', String(start + size));
      body.nextLink = next.toString();
    }
    return { status: 200, body };
  }

  /** `$filter` of Resource Groups - List: `tagName eq 'x'` optionally `and tagValue eq 'y'`. */
  private listGroups(req: FakeRequest, origin: string, subscription: string): FakeReply {
    const filter = req.query.get('$filter');
    let match: (g: Group) => boolean = () => true;
    if (filter) {
      const m = /^tagName eq '([^']*)'(?: and tagValue eq '([^']*)')?$/.exec(filter.trim());
      if (!m) {
        this.mismatches.push(`ResourceGroups_List: unsupported $filter "${filter}" (only tagName eq '…' [and tagValue eq '…'])`);
        return this.errorReply(400, 'InvalidFilterInQueryString', `Invalid $filter '${filter}' specified in the query string.`);
      }
      match = (g) => m[1] in g.tags && (m[2] === undefined || g.tags[m[1]] === m[2]);
    }
    const groups = [...this.store.groups.values()].filter((g) => g.subscription === subscription && match(g));
    for (const g of groups) this.store.observe(g.deleteOperation);
    const left = groups.filter((g) => this.store.groups.has(groupKey(g.subscription, g.name)));
    return this.page(req, origin, left.map(renderGroup));
  }

  private putGroup(subscription: string, name: string, body: Json): FakeReply {
    const violations = checkTracked(body, false);
    if (violations.length) return this.errorReply(violations[0].status, violations[0].code, violations[0].message);
    if (!/^[-\w._()]{1,90}$/.test(name) || name.endsWith('.')) return this.errorReply(400, 'InvalidResourceGroup', `The resource group name '${name}' is invalid.`);
    const key = groupKey(subscription, name);
    const existing = this.store.groups.get(key);
    if (existing?.state === 'Deleting') return this.errorReply(409, 'ResourceGroupBeingDeleted', `The resource group '${name}' is in deprovisioning state and cannot perform this operation.`);
    if (existing && existing.location !== body.location) return this.errorReply(409, 'InvalidResourceGroupLocation', `Invalid resource group location '${String(body.location)}'. The Resource group already exists in location '${existing.location}'.`);
    const group: Group = existing ?? { subscription, name, location: String(body.location), tags: {}, state: 'Succeeded', foreign: false };
    group.tags = { ...((body.tags as Record<string, string> | undefined) ?? {}) };
    this.store.groups.set(key, group);
    return { status: existing ? 200 : 201, body: renderGroup(group) };
  }

  private deleteGroup(origin: string, subscription: string, name: string): FakeReply {
    const group = this.store.groups.get(groupKey(subscription, name));
    if (!group) return this.groupNotFound(name);
    if (group.foreign) this.problems.push(`resource group ${name} was deleted, but inletsctl did not create it`);
    const op = group.state === 'Deleting' && group.deleteOperation ? this.store.operations.get(group.deleteOperation)! : this.store.deleteGroup(group);
    return { status: 202, headers: { location: `${origin}/subscriptions/${subscription}/operationresults/${op.id}?api-version=2025-04-01`, 'retry-after': '1' } };
  }

  /** Location polling: 202 while the operation runs, 200 when it is done. */
  private operationResult(origin: string, id: string): FakeReply {
    const op = this.store.operations.get(id);
    if (!op) return this.errorReply(404, 'OperationNotFound', `The operation '${id}' could not be found.`);
    this.store.observe(op.id);
    if (op.status === 'InProgress') return { status: 202, headers: { location: `${origin}/subscriptions/${op.target.split('/')[0]}/operationresults/${id}?api-version=2025-04-01`, 'retry-after': '1' } };
    if (op.status === 'Failed') return this.errorReply(400, op.error!.code, op.error!.message);
    return { status: 200 };
  }

  /** Azure-AsyncOperation status: `{ status, error? }`. */
  private asyncOperation(id: string): FakeReply {
    const op = this.store.operations.get(id);
    if (!op) return this.errorReply(404, 'OperationNotFound', `The operation '${id}' could not be found.`);
    this.store.observe(op.id);
    const body: Json = { id: `/providers/${op.namespace}/locations/${op.location}/operations/${op.id}`, name: op.id, status: op.status, startTime: op.startTime };
    if (op.endTime) body.endTime = op.endTime;
    if (op.error && op.status === 'Failed') body.error = op.error;
    return { status: 200, body };
  }

  private subnet(req: FakeRequest, op: string, p: string[]): FakeReply {
    const vnetId = `/subscriptions/${p[0]}/resourceGroups/${p[1]}/providers/Microsoft.Network/virtualNetworks/${p[2]}`;
    const vnet = this.store.resources.get(resourceKey(vnetId));
    if (!this.store.groups.has(groupKey(p[0], p[1]))) return this.groupNotFound(p[1]);
    if (!vnet) return this.notFound('Microsoft.Network/virtualNetworks', p[2], p[1]);
    const subnets = ((vnet.properties.subnets as Json[] | undefined) ?? []).slice();
    const i = subnets.findIndex((s) => String(s.name).toLowerCase() === p[3].toLowerCase());
    if (op === 'Subnets_Get') {
      this.store.observe(vnet.operation);
      return i < 0 ? this.notFound('Microsoft.Network/virtualNetworks/subnets', p[3], p[1]) : { status: 200, body: renderSubnet(vnet, subnets[i]) };
    }
    const violations = checkSubnet({ ...(req.body as Json), name: p[3] });
    if (violations.length) return this.errorReply(violations[0].status, violations[0].code, violations[0].message);
    const entry = { name: p[3], properties: (req.body as Json).properties };
    if (i < 0) subnets.push(entry);
    else subnets[i] = entry;
    const { resource } = this.store.put('virtualNetworks', vnet.id, p[0], p[1], vnet.name, { location: vnet.location, tags: vnet.tags, sku: vnet.sku, properties: { ...vnet.properties, subnets } });
    return { status: i < 0 ? 201 : 200, body: renderSubnet(resource, entry), headers: this.asyncHeaders(req, resource) };
  }

  private resourceCall(req: FakeRequest, op: string, origin: string, p: string[]): FakeReply {
    const [subscription, groupName, namespace, typeSegment, name] = p;
    const kind = KINDS[typeSegment.toLowerCase()].kind;
    const type = `${NAMESPACE[kind]}/${kind}`;
    const group = this.store.groups.get(groupKey(subscription, groupName));
    if (!group) return this.groupNotFound(groupName);
    const id = `/subscriptions/${subscription}/resourceGroups/${group.name}/providers/${NAMESPACE[kind]}/${kind}/${name}`;
    const existing = this.store.resources.get(resourceKey(id));
    void namespace;
    if (req.method === 'GET') {
      if (!existing) return this.notFound(type, name, groupName);
      this.store.observe(existing.operation);
      const now = this.store.resources.get(resourceKey(id));
      if (!now) return this.notFound(type, name, groupName);
      return { status: 200, body: renderResource(now, this.store, req.query.get('$expand') === 'instanceView') };
    }
    if (req.method === 'DELETE') {
      if (!existing) return { status: 204 };
      const blocker = this.inUse(existing);
      if (blocker) return this.errorReply(400, 'InUseByAnotherResource', `${type} ${name} is in use by ${blocker} and cannot be deleted.`);
      const operation = this.store.deleteResource(existing);
      return { status: 202, headers: { 'azure-asyncoperation': this.operationUrl(origin, subscription, operation.namespace, operation.location, operation.id), location: this.operationUrl(origin, subscription, operation.namespace, operation.location, operation.id) } };
    }
    if (group.state === 'Deleting') return this.errorReply(409, 'ResourceGroupBeingDeleted', `The resource group '${groupName}' is in deprovisioning state and cannot perform this operation.`);
    const violations = this.bodyViolations({ op, namespace: 'network', params: p }, req.body);
    if (violations.length) return this.errorReply(violations[0].status, violations[0].code, violations[0].message);
    const body = req.body as Json;
    const refProblem = this.checkReferences(kind, body, existing);
    if (refProblem) return this.errorReply(400, refProblem.code, refProblem.message);
    if (existing && existing.state !== 'Succeeded' && existing.state !== 'Failed') {
      return this.errorReply(409, 'AnotherOperationInProgress', `Operation on ${type} ${name} cannot be performed now because another operation is in progress.`);
    }
    const { resource, created } = this.store.put(kind, id, subscription, group.name, name, body);
    return { status: created ? 201 : 200, body: renderResource(resource, this.store, false), headers: this.asyncHeaders(req, resource) };
  }

  /** NICs reference a subnet, an IP and an NSG; VMs a NIC: each must exist and have Succeeded. */
  private checkReferences(kind: ResourceKind, body: Json, self?: Resource): { code: string; message: string } | undefined {
    const props = (body.properties ?? {}) as Json;
    const refs: string[] = [];
    if (kind === 'networkInterfaces') {
      const nsg = (props.networkSecurityGroup as Json | undefined)?.id;
      if (typeof nsg === 'string') refs.push(nsg);
      for (const c of (props.ipConfigurations as Json[]) ?? []) {
        const cp = (c.properties ?? {}) as Json;
        refs.push(String((cp.subnet as Json).id));
        const ip = (cp.publicIPAddress as Json | undefined)?.id;
        if (typeof ip === 'string') refs.push(ip);
      }
    }
    if (kind === 'virtualMachines') {
      for (const n of ((props.networkProfile as Json).networkInterfaces as Json[]) ?? []) refs.push(String(n.id));
    }
    for (const ref of refs) {
      const [resourceId, subnet] = ref.split(/\/subnets\//i);
      const target = this.store.resources.get(resourceKey(resourceId));
      const subnetFound = subnet === undefined || ((target?.properties.subnets as Json[] | undefined) ?? []).some((s) => String(s.name).toLowerCase() === subnet.toLowerCase());
      if (!target || !subnetFound) return { code: 'InvalidResourceReference', message: `Resource ${ref} referenced by resource ${kind}/${self?.name ?? ''} was not found.` };
      if (target.state !== 'Succeeded') return { code: 'ReferencedResourceNotProvisioned', message: `Cannot proceed with operation because resource ${ref} used by resource ${kind} is not in Succeeded state. Resource is in ${target.state} state.` };
      if (kind === 'virtualMachines') {
        const attached = [...this.store.resources.values()].find((r) => r.kind === 'virtualMachines' && r !== self && JSON.stringify(r.properties.networkProfile ?? {}).toLowerCase().includes(resourceKey(ref)));
        if (attached) return { code: 'NicInUse', message: `Network interface ${ref} is used by existing VM ${attached.id}.` };
      }
    }
    return undefined;
  }

  private inUse(resource: Resource): string | undefined {
    const key = resourceKey(resource.id);
    const user = [...this.store.resources.values()].find((r) => r !== resource && JSON.stringify(r.properties).toLowerCase().includes(`"${key}`));
    return user?.id;
  }

  private asyncHeaders(req: FakeRequest, resource: Resource): Record<string, string> {
    const origin = `${this.httpsOrigin ? 'https' : 'http'}://${String(req.headers.host)}`;
    return { 'azure-asyncoperation': this.operationUrl(origin, resource.subscription, NAMESPACE[resource.kind], resource.location, resource.operation!) };
  }

  private operationUrl(origin: string, subscription: string, namespace: string, location: string, id: string): string {
    const version = namespace === 'Microsoft.Network' ? '2025-05-01' : '2026-03-01';
    return `${origin}/subscriptions/${subscription}/providers/${namespace}/locations/${location}/operations/${id}?api-version=${version}`;
  }

  private groupNotFound(name: string): FakeReply {
    return this.errorReply(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`);
  }

  private notFound(type: string, name: string, group: string): FakeReply {
    return this.errorReply(404, 'ResourceNotFound', `The Resource '${type}/${name}' under resource group '${group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
  }
}
