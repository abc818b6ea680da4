/**
 * A stateful fake of the Exoscale API v2 (the calls inletsctl makes: instance types, templates,
 * security groups and their rules, instances, operations), on 127.0.0.1 under `/v2`.
 *
 * Every request and every 2xx response is checked against Exoscale's OpenAPI description
 * (../shared/cloud-specs/exoscale/source.yaml, see SOURCES.md): path and method documented, path
 * and query parameters, request and response body schemas. The description documents only the 200
 * answer of these operations (no error responses, no security scheme), so error answers are
 * checked against the `{ message }` body the compute API sends instead. Mismatches are recorded;
 * tests fail on any.
 *
 * Authentication: the EXO2-HMAC-SHA256 request signature
 * (https://openapi-v2.exoscale.com/topic/topic-api-request-signature), recomputed here from the
 * request as received with the secret the fake knows (a separate implementation from the
 * provider's): a wrong secret, an expired signature, an unsigned query parameter or another key
 * is refused with 401 and a message saying which. Those messages are the fake's, not Exoscale's.
 *
 * Behaviour modelled: every change answers an operation `{ id, state, reference }`. Security groups
 * and rules are made at once (state success). POST /instance answers `pending`; the instance is
 * `starting` for `activeAfterPolls` looks, then `running` with a public IPv4 (a loopback address)
 * and its user-data (base64, gzip allowed) booted there, and the operation turns `success`.
 * DELETE /instance answers `pending` and the instance is `destroying` until the next call; a
 * security group still used by an instance is refused (409). Lists are not paginated (Exoscale
 * pages none of these).
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { requireCloudSpec } from '../helpers/cloud-specs.js';
import { FakeCloudServer, type FakeCloudOptions, type FakeReply, type FakeRequest, type Holdings } from './fake-cloud-server.js';
import { InstanceBooter, allocateLoopbackAddress, type InstanceBooterOptions } from './instance-booter.js';
import { OpenApiSpec } from './openapi/openapi-spec.js';
import { OpenApiValidator, type MatchedOperation } from './openapi/openapi-validator.js';

const SPEC_FILE = 'exoscale/source.yaml';
/** The secret the fake signs with unless told otherwise (the contract suite's CLI gets it in $EXOSCALE_API_SECRET). */
export const EXOSCALE_FAKE_SECRET = 'fake-secret-for-the-exoscale-fake';

let sharedValidator: OpenApiValidator | undefined;
/** One parsed description per process. */
export function exoscaleValidator(): OpenApiValidator {
  sharedValidator ??= new OpenApiValidator(new OpenApiSpec(requireCloudSpec(SPEC_FILE)));
  return sharedValidator;
}

export interface ExoscaleFakeOptions extends FakeCloudOptions, InstanceBooterOptions {
  /** Looks before a new instance is running. Default 2. */
  activeAfterPolls?: number;
  /** Instances that exist before the test, not made by inletsctl; they must survive it. Default 0. */
  foreignInstances?: number;
  /** The API secret requests must be signed with. Default {@link EXOSCALE_FAKE_SECRET}. */
  secret?: string;
  /** The zone this endpoint serves. Default ch-gva-2. */
  zone?: string;
}

type InstanceState = 'starting' | 'running' | 'destroying';

interface InstanceRecord {
  id: string;
  name: string;
  typeId: string;
  templateId: string;
  diskSize: number;
  labels: Record<string, string>;
  securityGroups: string[];
  userData: Buffer;
  state: InstanceState;
  looks: number;
  ip?: string;
  createdAt: string;
  foreign: boolean;
  /** Set by {@link ExoscaleFake.failNextCreate}: the create operation fails with this message. */
  failure?: string;
  /** The request count at which a destroying instance is gone. */
  goneAt?: number;
}

interface RuleRecord {
  id: string;
  'flow-direction': string;
  protocol: string;
  network?: string;
  'start-port'?: number;
  'end-port'?: number;
  description?: string;
}

interface GroupRecord {
  id: string;
  name: string;
  description?: string;
  rules: RuleRecord[];
  foreign: boolean;
}

interface OperationRecord {
  id: string;
  command: string;
  kind: 'instance' | 'security-group';
  refId: string;
  /** For create-instance: the state follows the instance; otherwise fixed. */
  fixed?: 'success' | 'failure' | 'pending';
  message?: string;
}

const ZONES = ['ch-gva-2', 'ch-dk-2', 'de-fra-1', 'de-muc-1', 'at-vie-1', 'at-vie-2', 'bg-sof-1', 'hr-zag-1'];
/** A few instance types (ids are the fake's own stand-ins, not Exoscale's). */
export const INSTANCE_TYPES = [
  { id: '0b1a0000-0000-4000-8000-000000000001', family: 'standard', size: 'micro', cpus: 1, memory: 536_870_912 },
  { id: '0b1a0000-0000-4000-8000-000000000002', family: 'standard', size: 'tiny', cpus: 1, memory: 1_073_741_824 },
  { id: '0b1a0000-0000-4000-8000-000000000003', family: 'standard', size: 'small', cpus: 2, memory: 2_147_483_648 },
];
/** Public templates (ids are the fake's own). Two builds of Debian 12: the newest must be chosen. */
export const TEMPLATES = [
  { id: '7e3a0000-0000-4000-8000-000000000011', name: 'Linux Debian 11 (Bullseye) 64-bit', created: '2025-01-10T08:00:00Z' },
  { id: '7e3a0000-0000-4000-8000-000000000012', name: 'Linux Debian 12 (Bookworm) 64-bit', created: '2025-03-01T08:00:00Z' },
  { id: '7e3a0000-0000-4000-8000-000000000013', name: 'Linux Debian 12 (Bookworm) 64-bit', created: '2026-06-01T08:00:00Z' },
  { id: '7e3a0000-0000-4000-8000-000000000024', name: 'Linux Ubuntu 24.04 LTS 64-bit', created: '2026-05-01T08:00:00Z' },
];
/** The fake's own clock, taken before any test replaces Date.now (the expiry test moves the client's clock only). */
const fakeNow = Date.now.bind(Date);
const DEFAULT_GROUP_ID = '5e60d000-0000-4000-8000-000000000000';

export class ExoscaleFake extends FakeCloudServer {
  private readonly validator = exoscaleValidator();
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly groups = new Map<string, GroupRecord>();
  private readonly operations = new Map<string, OperationRecord>();
  private readonly booter: InstanceBooter;
  private readonly matched = new WeakMap<FakeRequest, MatchedOperation>();
  private neverActiveAll = false;
  private readonly neverActiveNames = new Set<string>();
  private readonly foreignCount: number;
  private failNext?: string;
  /** Create failures by instance id (kept after the instance is gone, for its operation). */
  private readonly failures = new Map<string, string>();
  private requests = 0;
  /** Why the last request was refused (the 401 message). */
  private authFailure = 'Unable to authenticate you';
  /** Every Authorization header seen (tests check no secret went on the wire). */
  readonly authorizations: string[] = [];
  readonly zone: string;

  constructor(private readonly options: ExoscaleFakeOptions = {}) {
    super(options);
    this.zone = options.zone ?? 'ch-gva-2';
    this.booter = new InstanceBooter(options, (m) => this.problems.push(m));
    this.groups.set(DEFAULT_GROUP_ID, { id: DEFAULT_GROUP_ID, name: 'default', description: 'Default Security Group', rules: [], foreign: true });
    this.foreignCount = options.foreignInstances ?? 0;
    for (let i = 0; i < this.foreignCount; i++) {
      const r = this.newInstance({ name: `web-${i + 1}`, labels: { env: 'prod' }, securityGroups: [DEFAULT_GROUP_ID], foreign: true });
      r.state = 'running';
      r.ip = `192.0.2.${10 + i}`;
    }
  }

  /** A running instance as another inletsctl made it (FakeEntry.seedHost), with its security group when it has a tunnel id. Nothing boots on it. */
  seedInstance(host: { name: string; tunnelId?: string }): string {
    const labels: Record<string, string> = { 'managed-by': 'inletsctl', 'inletsctl-name': host.name, ...(host.tunnelId ? { 'inletsctl-tunnel': host.tunnelId } : {}) };
    const groups = [DEFAULT_GROUP_ID];
    if (host.tunnelId) {
      const g = this.newGroup(`inletsctl-${host.name}-${host.tunnelId}`, `inletsctl tunnel ${host.tunnelId}`);
      groups.push(g.id);
    }
    const r = this.newInstance({ name: host.name, labels, securityGroups: groups, foreign: false });
    r.state = 'running';
    r.ip = allocateLoopbackAddress();
    return r.id;
  }

  /** The next instance created fails: its create operation ends in `failure` with `message`, and the instance goes away. */
  failNextCreate(message: string): void {
    this.failNext = message;
  }

  /** The security groups (tests: names, descriptions and rules). */
  securityGroups(): GroupRecord[] {
    return [...this.groups.values()].filter((g) => !g.foreign).map((g) => ({ ...g, rules: [...g.rules] }));
  }

  /** The labels of an instance (tests). */
  labelsOf(id: string): Record<string, string> | undefined {
    return this.instances.get(id)?.labels;
  }

  /** Operations of the description this fake has seen (checked against it). */
  operationsValidated(): string[] {
    return [...this.validator.operationsSeen].sort();
  }

  holdings(): Holdings {
    const own = [...this.instances.values()].filter((i) => !i.foreign);
    return {
      instances: own.length,
      securityGroups: [...this.groups.values()].filter((g) => !g.foreign).length,
      running: this.booter.count(),
      foreignInstancesMissing: this.foreignCount - [...this.instances.values()].filter((i) => i.foreign).length,
      defaultGroupMissing: this.groups.has(DEFAULT_GROUP_ID) ? 0 : 1,
    };
  }

  neverActive(name?: string): void {
    if (name === undefined) this.neverActiveAll = true;
    else this.neverActiveNames.add(name);
  }

  protected pathPrefix(): string {
    return '/v2';
  }

  protected async shutdown(): Promise<void> {
    await this.booter.stopAll();
  }

  protected operationOf(req: FakeRequest): string | undefined {
    return this.validator.match(req.method, req.pathname)?.operationId;
  }

  protected checkRequest(req: FakeRequest): string[] {
    const { op, problems } = this.validator.checkRequest({ method: req.method, pathname: req.pathname, query: req.query, headers: req.headers, body: req.rawBody });
    if (op) this.matched.set(req, op);
    return problems;
  }

  protected checkReply(req: FakeRequest, reply: FakeReply): string[] {
    if (reply.status >= 400) {
      const m = (reply.body as { message?: unknown } | undefined)?.message;
      return typeof m === 'string' && m ? [] : ['error body is not { message }'];
    }
    const op = this.matched.get(req);
    if (!op) return [];
    const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
    return this.validator.checkResponse(op, reply.status, body, body ? 'application/json; charset=utf-8' : undefined);
  }

  protected errorReply(status: number, _code: string, message: string): FakeReply {
    return { status, body: { message: status === 401 ? this.authFailure : message } };
  }

  protected rateLimitHeaders(): Record<string, string> {
    return {}; // Exoscale documents no rate-limit headers; a 429 carries Retry-After only
  }

  /** Checks the EXO2-HMAC-SHA256 signature of the request as received. */
  protected authorized(req: FakeRequest): boolean {
    const header = String(req.headers.authorization ?? '');
    this.authorizations.push(header);
    const reason = this.signatureProblem(req, header);
    if (reason) this.authFailure = reason;
    return reason === undefined;
  }

  private signatureProblem(req: FakeRequest, header: string): string | undefined {
    const m = /^EXO2-HMAC-SHA256 (.+)$/.exec(header);
    if (!m) return 'missing or malformed Authorization header: expected EXO2-HMAC-SHA256 credential=…,expires=…,signature=…';
    const fields = new Map<string, string>();
    for (const part of m[1].split(',')) {
      const at = part.indexOf('=');
      if (at > 0) fields.set(part.slice(0, at).trim(), part.slice(at + 1));
    }
    const key = fields.get('credential');
    const expires = fields.get('expires');
    const sig = fields.get('signature');
    if (!key || !expires || !sig || !/^\d+$/.test(expires)) return 'malformed Authorization header: credential, expires and signature are required';
    if (this.fakeOptions.acceptToken !== undefined && key !== this.fakeOptions.acceptToken) return 'invalid API key';
    if (Number(expires) < Math.floor(fakeNow() / 1000)) return 'request signature expired';
    const signedArgs = fields.get('signed-query-args')?.split(';').filter(Boolean) ?? [];
    const sent = [...new Set(req.query.keys())].sort();
    if (signedArgs.join(';') !== sent.join(';')) return `query parameters not signed as sent (signed-query-args: ${signedArgs.join(';') || 'none'})`;
    const values = signedArgs.map((k) => req.query.getAll(k).join('')).join('');
    const path = `${this.pathPrefix()}${req.pathname}`;
    const message = [`${req.method} ${path}`, req.rawBody, values, '', expires].join('\n');
    const want = createHmac('sha256', this.options.secret ?? EXOSCALE_FAKE_SECRET).update(message, 'utf8').digest();
    const got = Buffer.from(sig, 'base64');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return 'invalid request signature';
    return undefined;
  }

  protected handle(req: FakeRequest, op: string): FakeReply {
    this.requests++;
    this.tick();
    const id = this.matched.get(req)?.pathParams.id ?? '';
    switch (op) {
      case 'list-instance-types':
        return { status: 200, body: { 'instance-types': INSTANCE_TYPES.map((t) => ({ ...t, authorized: true, zones: ZONES })) } };
      case 'list-templates':
        return { status: 200, body: { templates: TEMPLATES.filter(() => req.query.get('visibility') !== 'private').map((t) => this.templateJson(t.id)) } };
      case 'create-security-group':
        return this.createGroup(req.body as { name: string; description?: string });
      case 'list-security-groups':
        return { status: 200, body: { 'security-groups': [...this.groups.values()].map((g) => this.groupJson(g)) } };
      case 'get-security-group': {
        const g = this.groups.get(id);
        return g ? { status: 200, body: this.groupJson(g) } : this.notFound('Security Group');
      }
      case 'add-rule-to-security-group':
        return this.addRule(id, req.body as Omit<RuleRecord, 'id'>);
      case 'delete-security-group': {
        const g = this.groups.get(id);
        if (!g) return this.notFound('Security Group');
        const users = [...this.instances.values()].filter((i) => i.securityGroups.includes(id));
        if (users.length > 0) return { status: 409, body: { message: `Security Group ${id} is in use by ${users.length} instance(s)` } };
        this.groups.delete(id);
        return { status: 200, body: this.operationJson(this.newOperation('delete-security-group', 'security-group', id, 'success')) };
      }
      case 'create-instance':
        return this.createInstance(req.body as Record<string, unknown>);
      case 'list-instances': {
        const all = [...this.instances.values()];
        for (const i of all) this.look(i);
        return { status: 200, body: { instances: [...this.instances.values()].map((i) => this.instanceJson(i, true)) } };
      }
      case 'get-instance': {
        const i = this.instances.get(id);
        if (!i) return this.notFound('Instance');
        this.look(i);
        return this.instances.has(id) ? { status: 200, body: this.instanceJson(i, false) } : this.notFound('Instance');
      }
      case 'delete-instance': {
        const i = this.instances.get(id);
        if (!i) return this.notFound('Instance');
        if (i.state !== 'destroying') {
          i.state = 'destroying';
          i.goneAt = this.requests;
          void this.booter.stop(i.id);
        }
        return { status: 200, body: this.operationJson(this.newOperation('delete-instance', 'instance', id, 'pending')) };
      }
      case 'get-operation': {
        const o = this.operations.get(id);
        return o ? { status: 200, body: this.operationJson(o) } : this.notFound('Operation');
      }
      default:
        this.problems.push(`the fake does not implement ${op}`);
        return { status: 404, body: { message: `${req.method} ${req.pathname} is not served by this fake` } };
    }
  }

  /** Instances being destroyed are gone once another call arrives. */
  private tick(): void {
    for (const i of [...this.instances.values()]) {
      if (i.state === 'destroying' && i.goneAt !== undefined && this.requests > i.goneAt) this.instances.delete(i.id);
    }
    for (const o of this.operations.values()) {
      if (o.command === 'delete-instance' && o.fixed === 'pending' && !this.instances.has(o.refId)) o.fixed = 'success';
    }
  }

  private createGroup(body: { name: string; description?: string }): FakeReply {
    if ([...this.groups.values()].some((g) => g.name === body.name)) return { status: 409, body: { message: `a Security Group named ${body.name} already exists` } };
    const g = this.newGroup(body.name, body.description);
    return { status: 200, body: this.operationJson(this.newOperation('create-security-group', 'security-group', g.id, 'success')) };
  }

  private addRule(groupId: string, body: Omit<RuleRecord, 'id'>): FakeReply {
    const g = this.groups.get(groupId);
    if (!g) return this.notFound('Security Group');
    if (body.protocol === 'tcp' || body.protocol === 'udp') {
      const start = body['start-port'];
      const end = body['end-port'];
      if (start === undefined || end === undefined || start > end) return { status: 400, body: { message: 'start-port and end-port are required for tcp and udp, start-port <= end-port' } };
    }
    if (!body.network && !(body as { 'security-group'?: unknown })['security-group']) return { status: 400, body: { message: 'a rule needs a network or a security group' } };
    g.rules.push({ ...body, id: randomUUID() });
    return { status: 200, body: this.operationJson(this.newOperation('add-rule-to-security-group', 'security-group', g.id, 'success')) };
  }

  private createInstance(body: Record<string, unknown>): FakeReply {
    const typeId = (body['instance-type'] as { id?: string } | undefined)?.id;
    if (!INSTANCE_TYPES.some((t) => t.id === typeId)) return { status: 400, body: { message: `invalid instance-type ${String(typeId)}` } };
    const templateId = (body.template as { id?: string } | undefined)?.id;
    if (!TEMPLATES.some((t) => t.id === templateId)) return { status: 400, body: { message: `invalid template ${String(templateId)}` } };
    const groups = ((body['security-groups'] as Array<{ id?: string }> | undefined) ?? []).map((g) => String(g.id));
    const missing = groups.find((g) => !this.groups.has(g));
    if (missing) return { status: 404, body: { message: `Security Group ${missing} not found` } };
    let userData = Buffer.alloc(0);
    if (body['user-data'] !== undefined) {
      const text = String(body['user-data']);
      userData = Buffer.from(text, 'base64');
      if (userData.toString('base64') !== text) return { status: 400, body: { message: 'user-data must be base64 encoded' } };
    }
    const name = String(body.name ?? '');
    if (!name) return { status: 400, body: { message: 'name is required' } };
    const r = this.newInstance({ name, labels: { ...((body.labels as Record<string, string>) ?? {}) }, securityGroups: groups.length ? groups : [DEFAULT_GROUP_ID], foreign: false });
    r.typeId = typeId!;
    r.templateId = templateId!;
    r.diskSize = Number(body['disk-size']);
    r.userData = userData;
    if (this.failNext) {
      r.failure = this.failNext;
      this.failures.set(r.id, this.failNext);
      this.failNext = undefined;
    }
    const o = this.newOperation('create-instance', 'instance', r.id);
    return { status: 200, body: this.operationJson(o) };
  }

  /** A look at an instance moves it along its lifecycle. */
  private look(i: InstanceRecord): void {
    if (i.foreign || i.state !== 'starting') return;
    if (i.failure) {
      this.instances.delete(i.id); // the create failed: nothing is left of it
      return;
    }
    i.looks++;
    if (this.neverActiveAll || this.neverActiveNames.has(i.name) || i.looks < (this.options.activeAfterPolls ?? 2)) return;
    i.state = 'running';
    i.ip = allocateLoopbackAddress();
    this.booter.boot(i.id, i.userData, i.ip);
  }

  private newInstance(o: Pick<InstanceRecord, 'name' | 'labels' | 'securityGroups' | 'foreign'>): InstanceRecord {
    const r: InstanceRecord = {
      ...o, id: randomUUID(), typeId: INSTANCE_TYPES[0].id, templateId: TEMPLATES[2].id, diskSize: 10, userData: Buffer.alloc(0), state: 'starting', looks: 0, createdAt: new Date().toISOString(),
    };
    this.instances.set(r.id, r);
    return r;
  }

  private newGroup(name: string, description: string | undefined): GroupRecord {
    const g: GroupRecord = { id: randomUUID(), name, description, rules: [], foreign: false };
    this.groups.set(g.id, g);
    return g;
  }

  private newOperation(command: string, kind: OperationRecord['kind'], refId: string, fixed?: OperationRecord['fixed']): OperationRecord {
    const o: OperationRecord = { id: randomUUID(), command, kind, refId, fixed };
    this.operations.set(o.id, o);
    return o;
  }

  private operationJson(o: OperationRecord): Record<string, unknown> {
    let state: 'pending' | 'success' | 'failure';
    let extra: Record<string, string> = {};
    if (o.fixed) state = o.fixed;
    else {
      const i = this.instances.get(o.refId);
      const failure = this.failures.get(o.refId);
      if (failure && !i) {
        state = 'failure';
        extra = { reason: 'unavailable', message: failure };
      } else state = i && (i.state === 'starting' || i.failure) ? 'pending' : 'success';
    }
    return { id: o.id, state, reference: { id: o.refId, link: `/v2/${o.kind}/${o.refId}`, command: o.command }, ...extra };
  }

  private templateJson(id: string): Record<string, unknown> {
    const t = TEMPLATES.find((x) => x.id === id) ?? TEMPLATES[2];
    return {
      id: t.id, name: t.name, family: /debian/i.test(t.name) ? 'debian' : 'ubuntu', visibility: 'public', 'boot-mode': 'uefi', size: 10_737_418_240,
      'default-user': /debian/i.test(t.name) ? 'debian' : 'ubuntu', 'ssh-key-enabled': true, 'password-enabled': false, maintainer: 'Exoscale',
      'created-at': t.created, zones: ZONES, version: t.created.slice(0, 10), build: t.created.slice(0, 10).replace(/-/g, ''),
    };
  }

  private groupJson(g: GroupRecord): Record<string, unknown> {
    return { id: g.id, name: g.name, ...(g.description !== undefined ? { description: g.description } : {}), 'external-sources': [] };
  }

  private instanceJson(i: InstanceRecord, listed: boolean): Record<string, unknown> {
    const type = INSTANCE_TYPES.find((t) => t.id === i.typeId) ?? INSTANCE_TYPES[0];
    const groups = i.securityGroups.filter((g) => this.groups.has(g));
    return {
      id: i.id,
      name: i.name,
      state: i.state,
      labels: i.labels,
      'created-at': i.createdAt,
      'instance-type': { ...type, authorized: true, zones: ZONES },
      template: this.templateJson(i.templateId),
      // The list answers whole security groups, the details only references (see the description).
      'security-groups': listed ? groups.map((g) => this.groupJson(this.groups.get(g)!)) : groups.map((id) => ({ id })),
      'public-ip-assignment': 'inet4',
      'mac-address': '06:00:00:00:00:01',
      'private-networks': [],
      'ssh-keys': [],
      ...(listed ? {} : { 'disk-size': i.diskSize, 'elastic-ips': [], 'anti-affinity-groups': [], snapshots: [] }),
      ...(i.ip && i.state !== 'starting' ? { 'public-ip': i.ip } : {}),
    };
  }

  private notFound(what: string): FakeReply {
    return { status: 404, body: { message: `${what} not found` } };
  }
}
