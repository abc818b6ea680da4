/**
 * A stateful fake of the DigitalOcean API v2 (the calls inletsctl makes: Droplets, firewalls,
 * tags), on 127.0.0.1. Bodies follow the official OpenAPI description in
 * ../shared/cloud-specs/digitalocean/ (see SOURCES.md), and EVERY request and response is checked
 * against it: path and method documented, path and query parameters, bearer token, request body
 * and response body schemas. Mismatches are recorded in `mismatches`; tests fail on any.
 *
 * Lifecycle: a Droplet is `new`, with no IP, for `activeAfterPolls` observations (GETs that return
 * it), then `active` with an IPv4 (a loopback address) and its user-data booted there. Deleting it
 * stops it. Lists are paginated (`links.pages`, `meta.total`); errors use `{ id, message }`.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import { requireCloudSpec } from '../helpers/cloud-specs.js';
import { FakeCloudServer, type FakeCloudOptions, type FakeReply, type FakeRequest, type Holdings } from './fake-cloud-server.js';
import { InstanceBooter, allocateLoopbackAddress, type InstanceBooterOptions } from './instance-booter.js';
import { OpenApiSpec } from './openapi/openapi-spec.js';
import { OpenApiValidator, type MatchedOperation } from './openapi/openapi-validator.js';

const SPEC_FILE = 'digitalocean/specification/DigitalOcean-public.v2.yaml';

let sharedValidator: OpenApiValidator | undefined;
/** One parsed spec per process: parsing costs about half a second. */
export function digitalOceanValidator(): OpenApiValidator {
  sharedValidator ??= new OpenApiValidator(new OpenApiSpec(process.env.DIGITALOCEAN_SPEC ?? requireCloudSpec(SPEC_FILE)));
  return sharedValidator;
}

export interface DigitalOceanFakeOptions extends FakeCloudOptions, InstanceBooterOptions {
  /** Observations before a new Droplet turns active. Default 2. */
  activeAfterPolls?: number;
  /** Largest page served, whatever per_page asks (to exercise pagination). Default 200. */
  maxPerPage?: number;
  /** Droplets that exist before the test, not made by inletsctl; they must survive it. Default 0. */
  foreignDroplets?: number;
}

interface DropletRecord {
  id: number;
  name: string;
  region: string;
  size: string;
  image: string;
  tags: string[];
  userData: Buffer;
  createdAt: string;
  status: 'new' | 'active';
  polls: number;
  ip?: string;
  foreign: boolean;
}

interface FirewallRecord {
  id: string;
  name: string;
  created_at: string;
  inbound_rules: unknown[];
  outbound_rules: unknown[];
  tags: string[];
  droplet_ids: number[];
}

const SIZES: Record<string, { memory: number; vcpus: number; disk: number; transfer: number; price_monthly: number; price_hourly: number }> = {
  's-1vcpu-512mb-10gb': { memory: 512, vcpus: 1, disk: 10, transfer: 0.5, price_monthly: 4, price_hourly: 0.00595 },
  's-1vcpu-1gb': { memory: 1024, vcpus: 1, disk: 25, transfer: 1, price_monthly: 6, price_hourly: 0.00893 },
};
const IMAGES: Record<string, { id: number; name: string; distribution: string }> = {
  'debian-12-x64': { id: 160_000_012, name: '12 x64', distribution: 'Debian' },
  'debian-13-x64': { id: 160_000_013, name: '13 x64', distribution: 'Debian' },
};
const REGIONS: Record<string, string> = {
  lon1: 'London 1', ams3: 'Amsterdam 3', fra1: 'Frankfurt 1', nyc1: 'New York 1', nyc3: 'New York 3',
  sfo3: 'San Francisco 3', tor1: 'Toronto 1', sgp1: 'Singapore 1', blr1: 'Bangalore 1', syd1: 'Sydney 1',
};

export class DigitalOceanFake extends FakeCloudServer {
  private readonly validator = digitalOceanValidator();
  private readonly droplets = new Map<number, DropletRecord>();
  private readonly firewalls = new Map<string, FirewallRecord>();
  private readonly tags = new Set<string>();
  private readonly booter: InstanceBooter;
  private readonly matched = new WeakMap<FakeRequest, MatchedOperation>();
  private nextId = 500_000_001;
  private neverActiveAll = false;
  private readonly neverActiveNames = new Set<string>();
  private readonly foreignCount: number;

  constructor(private readonly options: DigitalOceanFakeOptions = {}) {
    super(options);
    this.booter = new InstanceBooter(options, (m) => this.problems.push(m));
    this.foreignCount = options.foreignDroplets ?? 0;
    for (let i = 0; i < this.foreignCount; i++) {
      const id = this.nextId++;
      this.droplets.set(id, {
        id, name: `web-${i + 1}`, region: 'nyc3', size: 's-1vcpu-1gb', image: 'debian-12-x64', tags: ['web'],
        userData: Buffer.alloc(0), createdAt: new Date().toISOString(), status: 'active', polls: 0, ip: `192.0.2.${i + 10}`, foreign: true,
      });
      this.tags.add('web');
    }
  }

  /** An active Droplet as another inletsctl made it (see FakeEntry.seedHost); nothing boots on it. */
  seedDroplet(host: { name: string; tunnelId?: string }): string {
    const tags = ['inletsctl', `inletsctl:${host.name}`, ...(host.tunnelId ? [`inletsctl-tunnel:${host.tunnelId}`] : [])];
    for (const t of tags) this.tags.add(t);
    const d: DropletRecord = {
      id: this.nextId++, name: host.name, region: 'lon1', size: 's-1vcpu-512mb-10gb', image: 'debian-12-x64', tags,
      userData: Buffer.alloc(0), createdAt: isoNow(), status: 'active', polls: 0, ip: allocateLoopbackAddress(), foreign: false,
    };
    this.droplets.set(d.id, d);
    return String(d.id);
  }

  /** Operations of the spec this fake has seen (checked against the description). */
  operationsValidated(): string[] {
    return [...this.validator.operationsSeen].sort();
  }

  holdings(): Holdings {
    const own = [...this.droplets.values()].filter((d) => !d.foreign);
    const foreign = [...this.droplets.values()].filter((d) => d.foreign).length;
    return {
      droplets: own.length,
      firewalls: this.firewalls.size,
      tags: [...this.tags].filter((t) => t !== 'web').length,
      reservedIps: 0,
      volumes: 0,
      running: this.booter.count(),
      foreignDropletsMissing: this.foreignCount - foreign,
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
    return this.validator.match(req.method, req.pathname)?.operationId;
  }

  protected checkRequest(req: FakeRequest): string[] {
    const { op, problems } = this.validator.checkRequest({ method: req.method, pathname: req.pathname, query: req.query, headers: req.headers, body: req.rawBody });
    if (op) this.matched.set(req, op);
    return problems;
  }

  protected checkReply(req: FakeRequest, reply: FakeReply): string[] {
    const op = this.matched.get(req);
    if (!op) return [];
    const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
    return this.validator.checkResponse(op, reply.status, body, body ? 'application/json; charset=utf-8' : undefined);
  }

  protected errorReply(status: number, code: string, message: string): FakeReply {
    const ids: Record<number, string> = { 401: 'unauthorized', 404: 'not_found', 422: 'unprocessable_entity', 429: 'too_many_requests', 500: 'server_error' };
    return { status, body: { id: ids[status] ?? code, message } };
  }

  protected rateLimitHeaders(limited: boolean): Record<string, string> {
    return {
      'ratelimit-limit': '5000',
      'ratelimit-remaining': String(limited ? 0 : this.remaining),
      'ratelimit-reset': String(Math.floor(Date.now() / 1000) + (limited ? 1 : 60)),
    };
  }

  protected handle(req: FakeRequest, op: string): FakeReply {
    const params = this.matched.get(req)?.pathParams ?? {};
    switch (op) {
      case 'droplets_create':
        return this.createDroplet(req.body as Record<string, unknown>);
      case 'droplets_list':
        return this.listDroplets(req.query);
      case 'droplets_get': {
        const d = this.droplets.get(Number(params.droplet_id));
        if (!d) return this.notFound();
        this.observe(d);
        return { status: 200, body: { droplet: this.dropletJson(d) } };
      }
      case 'droplets_destroy': {
        const d = this.droplets.get(Number(params.droplet_id));
        if (!d) return this.notFound();
        this.droplets.delete(d.id);
        void this.booter.stop(String(d.id));
        for (const fw of this.firewalls.values()) fw.droplet_ids = fw.droplet_ids.filter((x) => x !== d.id);
        return { status: 204 };
      }
      case 'firewalls_create':
        return this.createFirewall(req.body as Record<string, unknown>);
      case 'firewalls_list':
        return this.page(req.query, 'firewalls', [...this.firewalls.values()].map((f) => this.firewallJson(f)), '/v2/firewalls');
      case 'firewalls_get': {
        const fw = this.firewalls.get(params.firewall_id);
        return fw ? { status: 200, body: { firewall: this.firewallJson(fw) } } : this.notFound();
      }
      case 'firewalls_delete':
        return this.firewalls.delete(params.firewall_id) ? { status: 204 } : this.notFound();
      case 'tags_list':
        return this.page(req.query, 'tags', [...this.tags].sort(), '/v2/tags', (name) => this.tagJson(name));
      case 'tags_get': {
        const name = params.tag_id;
        if (!this.tags.has(name)) return this.notFound();
        return { status: 200, body: { tag: this.tagJson(name) } };
      }
      case 'tags_delete': {
        const name = params.tag_id;
        if (!this.tags.delete(name)) return this.notFound();
        for (const d of this.droplets.values()) d.tags = d.tags.filter((t) => t !== name);
        for (const fw of this.firewalls.values()) fw.tags = fw.tags.filter((t) => t !== name);
        return { status: 204 };
      }
      default:
        this.problems.push(`the fake does not implement ${op}`);
        return this.notFound();
    }
  }

  private createDroplet(body: Record<string, unknown>): FakeReply {
    const name = body.name;
    if (typeof name !== 'string') return this.unprocessable('Only single-Droplet creation with "name" is supported by this fake.');
    const size = String(body.size);
    const image = String(body.image);
    const region = String(body.region ?? 'nyc3');
    if (!SIZES[size]) return this.unprocessable('You specified an invalid size for Droplet creation.');
    if (!IMAGES[image]) return this.unprocessable('You specified an invalid image for Droplet creation.');
    if (!REGIONS[region]) return this.unprocessable('You specified an invalid region for Droplet creation.');
    const userData = Buffer.from(typeof body.user_data === 'string' ? body.user_data : '', 'utf8');
    if (userData.length > 64 * 1024) return this.unprocessable('user_data must not exceed 64 KiB.');
    const tags = Array.isArray(body.tags) ? (body.tags as string[]) : [];
    for (const t of tags) this.tags.add(t);
    const d: DropletRecord = {
      id: this.nextId++, name, region, size, image, tags, userData, createdAt: isoNow(), status: 'new', polls: 0, foreign: false,
    };
    this.droplets.set(d.id, d);
    const actionId = this.nextId++;
    return {
      status: 202,
      body: {
        droplet: this.dropletJson(d),
        links: { actions: [{ id: actionId, rel: 'create', href: `${this.url}/v2/actions/${actionId}` }] },
      },
    };
  }

  private listDroplets(query: URLSearchParams): FakeReply {
    const tag = query.get('tag_name');
    const name = query.get('name');
    const all = [...this.droplets.values()].filter((d) => (!tag || d.tags.includes(tag)) && (!name || d.name === name));
    const reply = this.page(query, 'droplets', all, '/v2/droplets', (d) => {
      this.observe(d);
      return this.dropletJson(d);
    });
    return reply;
  }

  /** One page of `items`, with DigitalOcean's `links.pages` and `meta.total`. */
  private page<T>(query: URLSearchParams, key: string, items: T[], path: string, render: (item: T) => unknown = (x) => x): FakeReply {
    const asked = Number(query.get('per_page') ?? 20);
    const perPage = Math.min(Math.max(asked, 1), 200, this.options.maxPerPage ?? 200);
    const page = Math.max(Number(query.get('page') ?? 1), 1);
    const last = Math.max(Math.ceil(items.length / perPage), 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const link = (p: number) => {
      const q = new URLSearchParams(query);
      q.set('page', String(p));
      q.set('per_page', String(perPage));
      return `${this.url}${path}?${q}`;
    };
    const pages: Record<string, string> = {};
    if (page > 1) Object.assign(pages, { first: link(1), prev: link(page - 1) });
    if (page < last) Object.assign(pages, { next: link(page + 1), last: link(last) });
    return { status: 200, body: { [key]: slice.map(render), links: { pages }, meta: { total: items.length } } };
  }

  private createFirewall(body: Record<string, unknown>): FakeReply {
    const name = String(body.name);
    const tags = Array.isArray(body.tags) ? (body.tags as string[]) : [];
    const missing = tags.find((t) => !this.tags.has(t));
    if (missing) return this.unprocessable(`tag "${missing}" does not exist`);
    const fw: FirewallRecord = {
      id: randomUUID(),
      name,
      created_at: isoNow(),
      inbound_rules: (body.inbound_rules as unknown[]) ?? [],
      outbound_rules: (body.outbound_rules as unknown[]) ?? [],
      tags,
      droplet_ids: Array.isArray(body.droplet_ids) ? (body.droplet_ids as number[]) : [],
    };
    this.firewalls.set(fw.id, fw);
    return { status: 202, body: { firewall: this.firewallJson(fw) } };
  }

  /** A GET saw the Droplet: after enough of them it is active, has an IP, and boots. */
  private observe(d: DropletRecord): void {
    if (d.status !== 'new') return;
    d.polls++;
    if (this.neverActiveAll || this.neverActiveNames.has(d.name)) return;
    if (d.polls < (this.options.activeAfterPolls ?? 2)) return;
    d.status = 'active';
    d.ip = allocateLoopbackAddress();
    this.booter.boot(String(d.id), d.userData, d.ip);
  }

  private dropletJson(d: DropletRecord): Record<string, unknown> {
    const size = SIZES[d.size] ?? SIZES['s-1vcpu-1gb'];
    const image = IMAGES[d.image] ?? IMAGES['debian-12-x64'];
    return {
      id: d.id,
      name: d.name,
      memory: size.memory,
      vcpus: size.vcpus,
      disk: size.disk,
      disk_info: [{ type: 'local', size: { amount: size.disk, unit: 'gib' } }],
      locked: false,
      status: d.status,
      kernel: null,
      created_at: d.createdAt,
      features: ['droplet_agent', 'private_networking'],
      backup_ids: [],
      next_backup_window: null,
      snapshot_ids: [],
      image: {
        id: image.id, name: image.name, distribution: image.distribution, slug: d.image, public: true,
        regions: Object.keys(REGIONS), created_at: '2025-08-20T10:00:00Z', type: 'base', min_disk_size: 10,
        size_gigabytes: 1.3, description: `${image.distribution} ${image.name}`, tags: [], status: 'available', error_message: '',
      },
      volume_ids: [],
      size: {
        slug: d.size, ...size, regions: Object.keys(REGIONS), available: true, description: 'Basic',
        disk_info: [{ type: 'local', size: { amount: size.disk, unit: 'gib' } }],
      },
      size_slug: d.size,
      networks: {
        v4: [
          ...(d.ip ? [{ ip_address: d.ip, netmask: '255.255.240.0', gateway: '127.0.0.1', type: 'public' }] : []),
          ...(d.status === 'active' ? [{ ip_address: `10.106.0.${(d.id % 250) + 2}`, netmask: '255.255.240.0', gateway: '10.106.0.1', type: 'private' }] : []),
        ],
        v6: [],
      },
      region: {
        name: REGIONS[d.region] ?? d.region, slug: d.region, features: ['backups', 'ipv6', 'metadata', 'install_agent', 'storage'],
        available: true, sizes: Object.keys(SIZES),
      },
      tags: d.tags,
      vpc_uuid: '5a4981aa-9653-4bd1-bef5-d6bff52042e4',
    };
  }

  private firewallJson(f: FirewallRecord): Record<string, unknown> {
    return { id: f.id, name: f.name, status: 'succeeded', created_at: f.created_at, pending_changes: [], inbound_rules: f.inbound_rules, outbound_rules: f.outbound_rules, tags: f.tags, droplet_ids: f.droplet_ids };
  }

  private tagJson(name: string): Record<string, unknown> {
    const tagged = [...this.droplets.values()].filter((d) => d.tags.includes(name));
    const last = tagged.at(-1);
    const droplets = { count: tagged.length, ...(last ? { last_tagged_uri: `${this.url}/v2/droplets/${last.id}` } : {}) };
    return {
      name,
      resources: {
        ...droplets, droplets,
        images: { count: 0 }, volumes: { count: 0 }, volume_snapshots: { count: 0 }, databases: { count: 0 },
      },
    };
  }

  private notFound(): FakeReply {
    return { status: 404, body: { id: 'not_found', message: 'The resource you were accessing could not be found.' } };
  }

  private unprocessable(message: string): FakeReply {
    return { status: 422, body: { id: 'unprocessable_entity', message } };
  }
}

function isoNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}
