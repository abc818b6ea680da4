/**
 * A stateful fake of the Compute Engine API v1 on 127.0.0.1, for the real `@google-cloud/compute`
 * client (REST transport, pointed here with `apiEndpoint`/`port`/`protocol: 'http'`).
 *
 * Every request is matched to a method of Google's discovery document and checked against it (see
 * gce-discovery.ts); so is every answer. Served: instances.insert/get/list/aggregatedList/delete,
 * firewalls.insert/get/list/delete, addresses.insert/get/list/delete, zoneOperations.get/wait,
 * regionOperations.get/wait, globalOperations.get, images.getFromFamily. Anything else is recorded as
 * a problem.
 *
 * Behaviour: inserts and deletes answer an Operation that goes PENDING → RUNNING → DONE as it (or
 * its resource) is looked at, with `error.errors[]` when a failure was injected
 * ({@link GceFake.failNextOperation}). Instances go PROVISIONING → STAGING (ephemeral external IP
 * assigned, a loopback address) → RUNNING after `activeAfterPolls` looks, and then boot their
 * `startup-script` with the shared booter; deleting one shows STOPPING for a look, then it is gone
 * with its auto-delete boot disk, and a static address it used turns RESERVED. An address insert
 * naming an instance's ephemeral IP promotes it (IN_USE). Lists page with maxResults/pageToken and
 * understand a subset of `filter`. Errors use Google's format; a 429 says rateLimitExceeded.
 * With `serviceAccount`, bearer tokens must be self-signed JWTs of that key (RS256, right issuer,
 * audience or scope, not expired).
 */
import { createPublicKey, createVerify, type KeyObject } from 'node:crypto';
import { FakeCloudServer, type FakeCloudOptions, type FakeReply, type FakeRequest, type Holdings } from './fake-cloud-server.js';
import { checkBody, checkErrorBody, checkParameters, matchMethod } from './gce-discovery.js';
import { aggregatedPage, listPage, type ListOptions } from './gce-fake-lists.js';
import { FakeOperations, type OperationKind } from './gce-fake-operations.js';
import {
  API_ROOT, addressJson, firewallJson, instanceJson, operationJson, timestamp,
  type AddressRecord, type DiskRecord, type FirewallRecord, type InstanceRecord,
} from './gce-fake-json.js';
import { InstanceBooter, allocateLoopbackAddress, type InstanceBooterOptions } from './instance-booter.js';

export interface GceFakeOptions extends FakeCloudOptions, InstanceBooterOptions {
  /** The one project the fake serves. Default 'inletsctl-fake'. */
  project?: string;
  /** Looks before a new instance is RUNNING. Default 2. */
  activeAfterPolls?: number;
  /** Largest page served, whatever maxResults asks. Default 500 (Compute Engine's maximum). */
  maxPerPage?: number;
  /** Instances (with disks), a firewall rule and an address that exist before the test; they must survive. */
  foreign?: number;
  /** Accept only self-signed JWTs of this service account. */
  serviceAccount?: { email: string; publicKeyPem: string };
}

const MACHINE_TYPES = new Set(['e2-micro', 'e2-small', 'e2-medium', 'n1-standard-1', 'n2-standard-2', 't2a-standard-1']);
const IMAGE_FAMILIES: Record<string, string> = { 'debian-12': 'debian-12-bookworm-v20260910', 'debian-13': 'debian-13-trixie-v20260910' };
const ZONES = ['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f', 'us-east1-b', 'us-east1-c', 'europe-west1-b', 'europe-west1-c'];
const STATUS_NAMES: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ALREADY_EXISTS', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };
const REASONS: Record<number, string> = { 400: 'invalid', 401: 'authError', 403: 'forbidden', 404: 'notFound', 409: 'alreadyExists', 429: 'rateLimitExceeded', 500: 'backendError', 503: 'backendError' };

export class GceFake extends FakeCloudServer {
  readonly project: string;
  private readonly instances = new Map<string, InstanceRecord>(); // by zone/name
  private readonly disks = new Map<string, DiskRecord>(); // by zone/name
  private readonly firewalls = new Map<string, FirewallRecord>(); // by name
  private readonly addresses = new Map<string, AddressRecord>(); // by region/name
  private readonly operations: FakeOperations;
  private readonly booter: InstanceBooter;
  private readonly publicKey?: KeyObject;
  private readonly foreignCount: number;
  private nextId = 7_000_000_000_000_000_001n;
  private neverActiveAll = false;
  private readonly neverActiveNames = new Set<string>();

  constructor(private readonly options: GceFakeOptions = {}) {
    super(options);
    this.project = options.project ?? 'inletsctl-fake';
    this.operations = new FakeOperations(this.project, () => this.id());
    this.booter = new InstanceBooter(options, (m) => this.problems.push(m));
    if (options.serviceAccount) this.publicKey = createPublicKey(options.serviceAccount.publicKeyPem);
    this.foreignCount = options.foreign ?? 0;
    for (let i = 0; i < this.foreignCount; i++) {
      const inst = this.newInstance({ name: `db-${i + 1}`, zone: 'us-east1-b', machineType: 'e2-small', labels: { env: 'prod' }, tags: ['db'], metadata: [], sourceImage: 'debian-12', autoDelete: true, networkTier: 'PREMIUM' }, true);
      inst.status = 'RUNNING';
      inst.natIP = `192.0.2.${10 + i}`;
    }
    if (this.foreignCount > 0) {
      this.firewalls.set('default-allow-ssh', { id: this.id(), name: 'default-allow-ssh', description: 'Allow SSH from anywhere', network: 'global/networks/default', direction: 'INGRESS', priority: 65534, sourceRanges: ['0.0.0.0/0'], targetTags: [], allowed: [{ IPProtocol: 'tcp', ports: ['22'] }], created: timestamp(), foreign: true });
      this.addresses.set('us-central1/prod-ip', { id: this.id(), name: 'prod-ip', region: 'us-central1', address: '192.0.2.200', status: 'RESERVED', labels: { env: 'prod' }, networkTier: 'PREMIUM', users: [], created: timestamp(), observed: 0, foreign: true });
    }
  }

  /** The next insert or delete of this kind answers an operation that ends with this error. */
  failNextOperation(kind: OperationKind, code = 'ZONE_RESOURCE_POOL_EXHAUSTED', message = 'The zone does not have enough resources available to fulfill the request (injected).'): void {
    this.operations.failNext(kind, code, message);
  }

  holdings(): Holdings {
    const own = <T extends { foreign: boolean }>(m: Map<string, T>) => [...m.values()].filter((x) => !x.foreign).length;
    const foreign = <T extends { foreign: boolean }>(m: Map<string, T>) => [...m.values()].filter((x) => x.foreign).length;
    const foreignMade = this.foreignCount > 0 ? 2 * this.foreignCount + 2 : 0; // instances and their disks, one rule, one address
    return {
      instances: own(this.instances),
      disks: own(this.disks),
      firewalls: own(this.firewalls),
      addresses: own(this.addresses),
      running: this.booter.count(),
      foreignMissing: foreignMade - (foreign(this.instances) + foreign(this.disks) + foreign(this.firewalls) + foreign(this.addresses)),
    };
  }

  /** The startup script of an instance (for tests), or undefined. */
  startupScript(name: string): string | undefined {
    return [...this.instances.values()].find((i) => i.name === name)?.metadata.find((m) => m.key === 'startup-script')?.value;
  }

  /** Rendered resources, for tests. */
  snapshot(): { instances: Record<string, unknown>[]; firewalls: Record<string, unknown>[]; addresses: Record<string, unknown>[] } {
    return {
      instances: [...this.instances.values()].map((i) => instanceJson(this.project, i)),
      firewalls: [...this.firewalls.values()].map((f) => firewallJson(this.project, f)),
      addresses: [...this.addresses.values()].map((a) => addressJson(this.project, a)),
    };
  }

  /**
   * A RUNNING instance as another inletsctl made it (see FakeEntry.seedHost) in `zone` (default
   * us-central1-b, the provider's default): our labels, the tunnel label only with a tunnel id.
   * Names are unique per zone, so a taken name gets a suffix; the name label keeps `host.name`.
   * Nothing boots on it. Returns its id, as the provider reports it.
   */
  seedInstance(host: { name: string; tunnelId?: string }, zone = 'us-central1-b'): string {
    const labels: Record<string, string> = { inletsctl: 'true', 'managed-by': 'inletsctl', 'inletsctl-name': host.name, ...(host.tunnelId ? { 'inletsctl-tunnel': host.tunnelId } : {}) };
    let name = host.name;
    for (let i = 2; this.instances.has(`${zone}/${name}`); i++) name = `${host.name}-${i}`;
    const inst = this.newInstance({ name, zone, machineType: 'e2-micro', labels, tags: [], metadata: [], sourceImage: 'debian-12', autoDelete: true, networkTier: 'STANDARD' }, false);
    inst.status = 'RUNNING';
    inst.natIP = allocateLoopbackAddress();
    return inst.id;
  }

  neverActive(name?: string): void {
    if (name === undefined) this.neverActiveAll = true;
    else this.neverActiveNames.add(name);
  }

  protected async shutdown(): Promise<void> {
    await this.booter.stopAll();
  }

  protected operationOf(req: FakeRequest): string | undefined {
    return matchMethod(req.method, req.pathname)?.method.id.replace(/^compute\./, '');
  }

  protected checkRequest(req: FakeRequest): string[] {
    const hit = matchMethod(req.method, req.pathname);
    if (!hit) return [`${req.method} ${req.pathname} is no method of the compute v1 discovery document`];
    const problems = checkParameters(hit.method, hit.params, req.query);
    if (!/^Bearer \S+$/.test(String(req.headers.authorization ?? ''))) problems.push('no bearer token in Authorization');
    if (hit.method.request) {
      if (!String(req.headers['content-type'] ?? '').includes('application/json')) problems.push('content-type is not application/json');
      if (req.body === undefined) problems.push('a JSON body is required');
      else problems.push(...checkBody(req.body, hit.method.request.$ref, hit.method.id));
    } else if (req.rawBody.length > 0 && !(req.method === 'POST' && String(req.rawBody) === '""')) {
      // The SDK's REST transport sends the JSON string "" as the body of a POST that takes none
      // (regionOperations.wait); Compute Engine ignores it, so only other bodies are flagged.
      problems.push('a body was sent, but the method takes none');
    }
    return problems;
  }

  protected checkReply(req: FakeRequest, reply: FakeReply): string[] {
    if (reply.status >= 400) return checkErrorBody(reply.status, reply.body);
    const hit = matchMethod(req.method, req.pathname);
    return hit?.method.response ? checkBody(reply.body, hit.method.response.$ref) : [];
  }

  protected errorReply(status: number, _code: string, message: string): FakeReply {
    const reason = REASONS[status] ?? 'invalid';
    const domain = status === 429 ? 'usageLimits' : 'global';
    return { status, body: { error: { code: status, message, errors: [{ message, domain, reason }], status: STATUS_NAMES[status] ?? 'UNKNOWN' } } };
  }

  protected rateLimitHeaders(): Record<string, string> {
    return {}; // Compute Engine sends no rate-limit headers
  }

  protected handle(req: FakeRequest, op: string): FakeReply {
    const hit = matchMethod(req.method, req.pathname)!;
    const p = hit.params;
    const jwtProblem = this.checkJwt(req);
    if (jwtProblem) return this.errorReply(401, '', `Request had invalid authentication credentials: ${jwtProblem}`);
    const publicImages = op === 'images.getFromFamily' && p.project === 'debian-cloud';
    if (p.project !== this.project && !publicImages) return this.errorReply(403, '', `Required 'compute.${op}' permission for 'projects/${p.project}'`);
    const body = (req.body ?? {}) as Record<string, unknown>;
    switch (op) {
      case 'instances.insert':
        return this.insertInstance(p.zone, body);
      case 'instances.get': {
        const i = this.observeInstance(p.zone, p.instance);
        return i ? { status: 200, body: instanceJson(this.project, i) } : this.notFound(`zones/${p.zone}/instances/${p.instance}`);
      }
      case 'instances.list': {
        const here = [...this.instances.values()].filter((i) => i.zone === p.zone).map((i) => this.observeInstance(i.zone, i.name)).filter(present);
        return this.list(() => listPage(req.query, here.map((i) => instanceJson(this.project, i)), this.listOptions(`zones/${p.zone}/instances`, 'compute#instanceList')));
      }
      case 'instances.aggregatedList': {
        const all = [...this.instances.values()].map((i) => this.observeInstance(i.zone, i.name)).filter(present);
        const rendered = all.map((i) => ({ zone: i.zone, json: instanceJson(this.project, i) }));
        return this.list(() => aggregatedPage(req.query, rendered, ZONES, this.listOptions('aggregated/instances', 'compute#instanceAggregatedList')));
      }
      case 'instances.delete':
        return this.deleteInstance(p.zone, p.instance);
      case 'firewalls.insert':
        return this.insertFirewall(body);
      case 'firewalls.get': {
        const f = this.firewalls.get(p.firewall);
        return f ? { status: 200, body: firewallJson(this.project, f) } : this.notFound(`global/firewalls/${p.firewall}`);
      }
      case 'firewalls.list':
        return this.list(() => listPage(req.query, [...this.firewalls.values()].map((f) => firewallJson(this.project, f)), this.listOptions('global/firewalls', 'compute#firewallList')));
      case 'firewalls.delete':
        return this.deleteFirewall(p.firewall);
      case 'addresses.insert':
        return this.insertAddress(p.region, body);
      case 'addresses.get': {
        const a = this.observeAddress(p.region, p.address);
        return a ? { status: 200, body: addressJson(this.project, a) } : this.notFound(`regions/${p.region}/addresses/${p.address}`);
      }
      case 'addresses.list':
        return this.list(() => listPage(req.query, [...this.addresses.values()].filter((a) => a.region === p.region).map((a) => addressJson(this.project, a)), this.listOptions(`regions/${p.region}/addresses`, 'compute#addressList')));
      case 'addresses.delete':
        return this.deleteAddress(p.region, p.address);
      case 'zoneOperations.get':
      case 'regionOperations.get':
      case 'globalOperations.get':
      case 'zoneOperations.wait':
      case 'regionOperations.wait': {
        const o = this.operations.get(p.operation);
        const where = p.zone ? { kind: 'zone', zone: p.zone } : p.region ? { kind: 'region', region: p.region } : { kind: 'global' };
        if (!o || JSON.stringify(o.scope) !== JSON.stringify(where)) return this.notFound(`operations/${p.operation}`);
        this.operations.tick(o);
        if (op.endsWith('.wait')) for (let n = 0; n < 3; n++) this.operations.tick(o); // waits until DONE
        return { status: 200, body: operationJson(this.project, o) };
      }
      case 'images.getFromFamily': {
        const image = p.project === 'debian-cloud' ? IMAGE_FAMILIES[p.family] : undefined;
        if (!image) return this.notFound(`global/images/family/${p.family}`);
        return { status: 200, body: { kind: 'compute#image', id: '1234567890123', name: image, family: p.family, status: 'READY', diskSizeGb: '10', architecture: 'X86_64', selfLink: `${API_ROOT}/projects/debian-cloud/global/images/${image}`, creationTimestamp: timestamp() } };
      }
      default:
        this.problems.push(`the fake does not implement ${op}`);
        return this.errorReply(400, '', `${op} is not implemented by the fake`);
    }
  }

  private insertInstance(zone: string, body: Record<string, unknown>): FakeReply {
    if (!ZONES.includes(zone)) return this.notFound(`zones/${zone}`);
    const name = String(body.name);
    if (this.instances.has(`${zone}/${name}`)) return this.conflict(`zones/${zone}/instances/${name}`);
    const machine = /^(?:.*\/)?zones\/([^/]+)\/machineTypes\/([^/]+)$/.exec(String(body.machineType ?? ''));
    if (!machine || machine[1] !== zone || !MACHINE_TYPES.has(machine[2])) return this.invalid(`Invalid value for field 'resource.machineType': '${String(body.machineType)}'.`);
    const disk = (body.disks as Array<Record<string, unknown>> | undefined)?.find((d) => d.boot) ?? {};
    const init = (disk.initializeParams ?? {}) as Record<string, unknown>;
    const family = /^(?:.*\/)?projects\/debian-cloud\/global\/images\/family\/([^/]+)$/.exec(String(init.sourceImage ?? ''));
    if (!family || !IMAGE_FAMILIES[family[1]]) return this.notFound(String(init.sourceImage ?? 'sourceImage'));
    const nics = (body.networkInterfaces ?? []) as Array<{ network?: string; accessConfigs?: Array<{ natIP?: string; networkTier?: string }> }>;
    if (nics.length !== 1 || !/(^|\/)global\/networks\/default$/.test(nics[0].network ?? 'global/networks/default')) return this.invalid('Only the default network is known to the fake.');
    // A natIP must be a static address of the instance's region that no one uses (Compute Engine's rule).
    const natIP = nics[0].accessConfigs?.[0]?.natIP;
    const reserved = natIP === undefined ? undefined : [...this.addresses.values()].find((a) => a.address === natIP && a.region === zone.replace(/-[a-z]$/, ''));
    if (natIP !== undefined && (!reserved || reserved.status !== 'RESERVED')) return this.invalid(`Invalid value for field 'resource.networkInterfaces[0].accessConfigs[0].natIP': '${natIP}'. The specified external IP address '${natIP}' was not found in region '${zone.replace(/-[a-z]$/, '')}' or is not free.`);
    const metadata = ((body.metadata as { items?: Array<{ key: string; value: string }> } | undefined)?.items ?? []).map((m) => ({ key: m.key, value: m.value }));
    if (metadata.some((m) => Buffer.byteLength(m.value) > 256 * 1024)) return this.invalid('Metadata value must be at most 262144 bytes.');
    const inst = this.newInstance({
      name, zone, machineType: machine[2], labels: (body.labels as Record<string, string>) ?? {}, tags: (body.tags as { items?: string[] } | undefined)?.items ?? [],
      metadata, sourceImage: family[1], autoDelete: disk.autoDelete === true, networkTier: nics[0].accessConfigs?.[0]?.networkTier ?? 'PREMIUM', description: body.description as string | undefined,
    }, false);
    const op = this.operations.start('instances.insert', { kind: 'zone', zone }, `zones/${zone}/instances/${name}`, inst.id);
    if (op.error) this.removeInstance(inst); // the VM never comes to be
    else {
      inst.op = op;
      if (reserved) {
        inst.staticIP = reserved.address;
        reserved.users = [`${API_ROOT}/projects/${this.project}/zones/${zone}/instances/${name}`];
        reserved.status = 'IN_USE';
      }
    }
    return { status: 200, body: operationJson(this.project, op) };
  }

  private newInstance(o: { name: string; zone: string; machineType: string; labels: Record<string, string>; tags: string[]; metadata: Array<{ key: string; value: string }>; sourceImage: string; autoDelete: boolean; networkTier: string; description?: string }, foreign: boolean): InstanceRecord {
    const inst: InstanceRecord = {
      id: this.id(), name: o.name, zone: o.zone, status: 'PROVISIONING', description: o.description, machineType: o.machineType, labels: o.labels, tags: o.tags, metadata: o.metadata,
      networkIP: `10.128.0.${2 + (this.instances.size % 250)}`, networkTier: o.networkTier, diskName: o.name, diskAutoDelete: o.autoDelete, sourceImage: o.sourceImage,
      created: timestamp(), observed: 0, foreign,
    };
    this.instances.set(`${o.zone}/${o.name}`, inst);
    this.disks.set(`${o.zone}/${o.name}`, { name: o.name, zone: o.zone, sizeGb: 10, foreign });
    return inst;
  }

  /** A look at an instance moves it along; returns it unless that look saw it go. */
  private observeInstance(zone: string, name: string): InstanceRecord | undefined {
    const inst = this.instances.get(`${zone}/${name}`);
    if (!inst || inst.foreign) return inst;
    inst.observed++;
    if (inst.op) this.operations.tick(inst.op);
    if (inst.status === 'STOPPING') {
      if (inst.observed >= 2) {
        if (inst.op) this.operations.finish(inst.op);
        this.removeInstance(inst);
        return undefined;
      }
      return inst;
    }
    if (this.neverActiveAll || this.neverActiveNames.has(inst.name)) return inst;
    if (inst.status === 'PROVISIONING' && inst.observed >= 1) {
      inst.status = 'STAGING';
      inst.natIP = inst.staticIP ?? allocateLoopbackAddress();
    }
    if (inst.status === 'STAGING' && inst.observed >= (this.options.activeAfterPolls ?? 2)) {
      inst.status = 'RUNNING';
      const script = inst.metadata.find((m) => m.key === 'startup-script')?.value;
      if (script === undefined) this.problems.push(`instance ${inst.name} has no startup-script to boot`);
      else this.booter.boot(inst.id, Buffer.from(script, 'utf8'), inst.natIP!);
    }
    return inst;
  }

  private removeInstance(inst: InstanceRecord): void {
    this.instances.delete(`${inst.zone}/${inst.name}`);
    if (inst.diskAutoDelete) this.disks.delete(`${inst.zone}/${inst.diskName}`);
    void this.booter.stop(inst.id);
    const link = `${API_ROOT}/projects/${this.project}/zones/${inst.zone}/instances/${inst.name}`;
    for (const a of this.addresses.values()) {
      if (a.users.includes(link)) {
        a.users = a.users.filter((u) => u !== link);
        a.status = 'RESERVED';
      }
    }
  }

  private deleteInstance(zone: string, name: string): FakeReply {
    const inst = this.instances.get(`${zone}/${name}`);
    if (!inst) return this.notFound(`zones/${zone}/instances/${name}`);
    const op = this.operations.start('instances.delete', { kind: 'zone', zone }, `zones/${zone}/instances/${name}`, inst.id);
    if (!op.error) {
      inst.status = 'STOPPING';
      inst.observed = 0;
      inst.op = op;
      void this.booter.stop(inst.id);
    }
    return { status: 200, body: operationJson(this.project, op) };
  }

  private insertFirewall(body: Record<string, unknown>): FakeReply {
    const name = String(body.name);
    if (this.firewalls.has(name)) return this.conflict(`global/firewalls/${name}`);
    const allowed = (body.allowed ?? []) as Array<{ IPProtocol: string; ports?: string[] }>;
    if (allowed.length === 0 && !body.denied) return this.invalid("Invalid value for field 'resource.allowed': at least one rule is required.");
    for (const rule of allowed) for (const port of rule.ports ?? []) if (!/^\d{1,5}(-\d{1,5})?$/.test(port)) return this.invalid(`Invalid value for field 'resource.allowed[].ports[]': '${port}'.`);
    const fw: FirewallRecord = {
      id: this.id(), name, description: body.description as string | undefined, network: String(body.network ?? 'global/networks/default'), direction: String(body.direction ?? 'INGRESS'),
      priority: Number(body.priority ?? 1000), sourceRanges: (body.sourceRanges as string[]) ?? [], targetTags: (body.targetTags as string[]) ?? [], allowed, created: timestamp(), foreign: false,
    };
    const op = this.operations.start('firewalls.insert', { kind: 'global' }, `global/firewalls/${name}`, fw.id);
    if (!op.error) this.firewalls.set(name, fw);
    return { status: 200, body: operationJson(this.project, op) };
  }

  private deleteFirewall(name: string): FakeReply {
    const fw = this.firewalls.get(name);
    if (!fw) return this.notFound(`global/firewalls/${name}`);
    const op = this.operations.start('firewalls.delete', { kind: 'global' }, `global/firewalls/${name}`, fw.id);
    if (!op.error) this.firewalls.delete(name);
    return { status: 200, body: operationJson(this.project, op) };
  }

  private insertAddress(region: string, body: Record<string, unknown>): FakeReply {
    const name = String(body.name);
    const key = `${region}/${name}`;
    if (this.addresses.has(key)) return this.conflict(`regions/${region}/addresses/${name}`);
    const wanted = typeof body.address === 'string' ? body.address : undefined;
    let users: string[] = [];
    if (wanted !== undefined) {
      const owner = [...this.instances.values()].find((i) => i.natIP === wanted && i.zone.replace(/-[a-z]$/, '') === region);
      if (!owner) return this.invalid(`Invalid value for field 'resource.address': '${wanted}'. Specified IP address is not available.`);
      users = [`${API_ROOT}/projects/${this.project}/zones/${owner.zone}/instances/${owner.name}`];
    }
    const address: AddressRecord = {
      id: this.id(), name, region, address: wanted ?? allocateLoopbackAddress(), status: 'RESERVING', description: body.description as string | undefined,
      labels: (body.labels as Record<string, string>) ?? {}, networkTier: String(body.networkTier ?? 'PREMIUM'), users: [], created: timestamp(), observed: 0, foreign: false,
    };
    const op = this.operations.start('addresses.insert', { kind: 'region', region }, `regions/${region}/addresses/${name}`, address.id);
    if (!op.error) {
      this.addresses.set(key, address);
      address.op = op;
      op.onDone = () => {
        address.users = users;
        address.status = users.length > 0 ? 'IN_USE' : 'RESERVED';
      };
    }
    return { status: 200, body: operationJson(this.project, op) };
  }

  private observeAddress(region: string, name: string): AddressRecord | undefined {
    const a = this.addresses.get(`${region}/${name}`);
    if (a && !a.foreign && a.op) this.operations.tick(a.op);
    return a;
  }

  private deleteAddress(region: string, name: string): FakeReply {
    const a = this.addresses.get(`${region}/${name}`);
    if (!a) return this.notFound(`regions/${region}/addresses/${name}`);
    if (a.status === 'IN_USE') {
      return { status: 400, body: { error: { code: 400, message: `The address resource 'projects/${this.project}/regions/${region}/addresses/${name}' is already being used by '${a.users[0]}'`, errors: [{ message: 'in use', domain: 'global', reason: 'resourceInUseByAnotherResource' }], status: 'FAILED_PRECONDITION' } } };
    }
    const op = this.operations.start('addresses.delete', { kind: 'region', region }, `regions/${region}/addresses/${name}`, a.id);
    if (!op.error) this.addresses.delete(`${region}/${name}`);
    return { status: 200, body: operationJson(this.project, op) };
  }

  /** A list answer; a filter outside the understood subset is a 400 and a problem (the provider must not send one). */
  private list(render: () => Record<string, unknown>): FakeReply {
    try {
      return { status: 200, body: render() };
    } catch (err) {
      this.problems.push((err as Error).message);
      return this.invalid(`Invalid value for field 'filter': ${(err as Error).message}`);
    }
  }

  /** Why a bearer token is not a valid self-signed JWT of the configured service account, or undefined. */
  private checkJwt(req: FakeRequest): string | undefined {
    if (!this.publicKey) return undefined;
    const token = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
    const [head, payload, signature] = token.split('.');
    if (!head || !payload || !signature) return 'not a JWT';
    const verify = createVerify('RSA-SHA256');
    verify.update(`${head}.${payload}`);
    if (!verify.verify(this.publicKey, Buffer.from(signature, 'base64url'))) return 'bad signature';
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: string; aud?: string; scope?: string; exp?: number };
    if (claims.iss !== this.options.serviceAccount!.email) return 'wrong issuer';
    if (claims.aud !== 'https://compute.googleapis.com/' && !claims.scope) return 'no audience or scope for Compute Engine';
    if (!claims.exp || claims.exp * 1000 < Date.now()) return 'expired';
    return undefined;
  }

  private listOptions(where: string, kind: string): ListOptions {
    return { project: this.project, where, kind, maxPerPage: this.options.maxPerPage };
  }

  private id(): string {
    return String(this.nextId++);
  }

  private notFound(what: string): FakeReply {
    return this.errorReply(404, '', `The resource 'projects/${this.project}/${what}' was not found`);
  }

  private conflict(what: string): FakeReply {
    return this.errorReply(409, '', `The resource 'projects/${this.project}/${what}' already exists`);
  }

  private invalid(message: string): FakeReply {
    return this.errorReply(400, '', message);
  }
}

function present<T>(x: T | undefined): x is T {
  return x !== undefined;
}
