/**
 * The Exoscale provider: one Compute instance per tunnel, in the zone of `--region`, in a security
 * group of its own that opens only the tunnel's ports.
 *
 * - create: resolves the instance type (GET /instance-type: `family.size`, offered in the zone)
 *   and the template (GET /template?visibility=public, by name or id), creates the security group
 *   and its rules, then the instance, and returns. Each change answers an operation; create checks
 *   the state it was answered with (failure ends it) and never polls one: the instance's create
 *   operation id goes into the HostRef, and `status` reads it.
 * - status: the instance (by id, else by its tunnel-id label); while it is not running, the create
 *   operation (GET /operation/{id}) tells a failure from work in progress. Changes nothing.
 * - delete, a step at a time: delete the instances of the tunnel (by label, plus `ref.id` if it
 *   carries our shared mark) → 'pending' until they are gone → delete the security groups whose
 *   name carries the tunnel id → 'done'. Nothing is found by name.
 *
 * Instances carry the labels of providers/shared/marks.ts; security groups have no labels, so their
 * name carries the marks (exoscale-security-group.ts). Exoscale is zonal: one endpoint per zone,
 * `status` and `delete` use the HostRef's zone and walk every zone only when it is unknown.
 * API reference: https://openapi-v2.exoscale.com/
 */
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest, Host, HostRef, HostStatus, Provider, ProviderContext } from '../../src/core/provider.js';
import { labelsFor, readLabels } from '../shared/marks.js';
import { carriesTunnel, refuseUnmarked, requireIdentity } from '../shared/ownership.js';
import { tunnelIdOfRef } from '../shared/ref-tunnel-id.js';
import { notRetryable } from '../shared/rest-client.js';
import { ExoscaleApi, PROVIDER, apiOverride, checkOperation, operationFailure, type Operation } from './exoscale-api.js';
import { addTunnelRules, createSecurityGroup, tunnelSecurityGroups } from './exoscale-security-group.js';
import { EXOSCALE_ZONES } from './index.js';

/** The system disk in GiB: the smallest the API takes (`disk-size` minimum 10), enough for Debian. */
export const DISK_GB = 10;

/** The instance fields we read. */
interface Instance {
  id: string;
  name?: string;
  state?: string;
  labels?: Record<string, string>;
  'public-ip'?: string;
  'created-at'?: string;
  'security-groups'?: Array<{ id?: string }>;
}

interface InstanceType {
  id: string;
  family?: string;
  size?: string;
  authorized?: boolean;
  zones?: string[];
}

interface Template {
  id: string;
  name?: string;
  zones?: string[];
  'created-at'?: string;
}

/** Exoscale's words for an instance's state (`instance-state`), in our vocabulary. */
export function mapInstanceState(state: string | undefined): HostStatus {
  switch (state) {
    case 'starting':
    case 'migrating':
      return 'provisioning';
    case 'running':
      return 'active';
    case 'destroying':
    case 'expunging':
    case 'destroyed':
      return 'deleting';
    default: // stopping, stopped, error: an instance that will not serve the tunnel
      return 'error';
  }
}

export function createExoscaleProvider(ctx: ProviderContext): Provider {
  const key = ctx.credentials['api-key'];
  const secret = ctx.credentials['api-secret'];
  if (!key || !secret) {
    const missing = !key ? 'an API key (--api-key or $EXOSCALE_API_KEY)' : 'the API secret of that key (--api-secret, --api-secret-file or $EXOSCALE_API_SECRET)';
    throw new ProviderError(PROVIDER, 'AUTH', `no Exoscale credentials: give ${missing}; Exoscale signs every request with the key and its secret`, { retryable: false });
  }
  return new ExoscaleProvider(new ExoscaleApi(key, secret, apiOverride(ctx.apiUrl)));
}

class ExoscaleProvider implements Provider {
  constructor(private readonly api: ExoscaleApi) {}

  async create(req: CreateRequest): Promise<Host> {
    const zone = req.region;
    const typeId = await this.instanceType(zone, req.plan);
    const templateId = await this.template(zone, req.image);
    const securityGroupId = await createSecurityGroup(this.api, req);
    try {
      await addTunnelRules(this.api, req, securityGroupId);
      const { body } = await this.api.request<unknown>(zone, 'POST', '/instance', {
        body: {
          name: req.name,
          'instance-type': { id: typeId },
          template: { id: templateId },
          'disk-size': DISK_GB,
          'security-groups': [{ id: securityGroupId }],
          'public-ip-assignment': 'inet4',
          'auto-start': true,
          labels: labelsFor(req),
          'user-data': req.userData.toString('base64'),
        },
      });
      const op = checkOperation(body, 'POST /instance', 'CREATE_FAILED');
      const id = op.reference?.id;
      if (typeof id !== 'string' || !id) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'POST /instance answered an operation without the instance\'s id');
      return {
        name: req.name,
        tunnelId: req.tunnelId,
        id,
        region: zone,
        status: 'provisioning',
        providerStatus: `create operation ${op.state}`,
        // The operation is kept so status can tell a failed create from a slow one; the tunnel id
        // so a delete by instance id still finds the security group once the instance is gone.
        data: { tunnelId: req.tunnelId, securityGroupId, ...(op.id ? { createOperation: op.id } : {}) },
      };
    } catch (err) {
      // The security group exists now: the CLI must clean up by tunnel id, not repeat the create.
      throw notRetryable(err, PROVIDER, `security group ${securityGroupId} was created but the instance was not`);
    }
  }

  async status(ref: HostRef): Promise<Host> {
    const tunnelId = tunnelIdOfRef(ref);
    for (const zone of this.zonesOf(ref)) {
      let found: Instance | undefined;
      if (ref.id) found = await this.byId(zone, ref.id);
      else if (tunnelId) [found] = await this.instancesCarrying(zone, { ...ref, tunnelId });
      if (!found) continue;
      const host = this.toHost(found, zone, ref.data);
      if (host.status === 'active' && !host.ip) return { ...host, status: 'provisioning', providerStatus: 'running, no public IP yet' };
      if (host.status === 'active') return host;
      return this.withOperation(zone, host, ref.data?.createOperation);
    }
    // Not visible yet: the create operation says whether it failed.
    const opId = ref.data?.createOperation;
    const zone = ref.region;
    if (opId && zone) {
      const op = await this.operation(zone, opId);
      if (op.state === 'failure' || op.state === 'timeout') {
        return { name: ref.name, tunnelId, id: ref.id ?? '', region: zone, status: 'error', providerStatus: operationFailure(op, 'creating the instance'), data: ref.data };
      }
      if (op.state === 'pending') return { name: ref.name, tunnelId, id: ref.id ?? '', region: zone, status: 'provisioning', providerStatus: 'create operation pending', data: ref.data };
    }
    if (!ref.id && !tunnelId) throw new ProviderError(PROVIDER, 'NOT_FOUND', `no id nor tunnel id to look up "${ref.name}" by`);
    throw new ProviderError(PROVIDER, 'NOT_FOUND', ref.id ? `no instance ${ref.id} in ${this.zonesOf(ref).join(', ')}` : `no instance labelled inletsctl-tunnel=${tunnelId}`);
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    requireIdentity(PROVIDER, ref);
    let tunnelId = tunnelIdOfRef(ref);
    const zones = this.zonesOf(ref);
    let pending = false;
    for (const zone of zones) {
      const instances = tunnelId ? await this.instancesCarrying(zone, { ...ref, tunnelId }) : [];
      if (ref.id && !instances.some((i) => i.id === ref.id)) {
        const byId = await this.byId(zone, ref.id);
        if (byId) {
          const marks = readLabels(byId.labels);
          refuseUnmarked(PROVIDER, `instance ${ref.id}`, marks);
          tunnelId ??= marks.tunnelId; // delete --id: the instance, and what carries its tunnel id
          instances.push(byId);
        }
      }
      for (const i of instances) {
        if (mapInstanceState(i.state) === 'deleting') continue; // on its way
        const res = await this.api.request<unknown>(zone, 'DELETE', `/instance/${encodeURIComponent(i.id)}`, { accept: [404] });
        if (res.status !== 404) checkOperation(res.body, `DELETE /instance/${i.id}`);
      }
      if (instances.length > 0) pending = true;
    }
    if (pending) return 'pending'; // next step: confirm they are gone, then their security group
    if (!tunnelId) return 'done'; // a host of an older version: nothing else carries a tunnel id
    for (const zone of zones) {
      for (const group of await tunnelSecurityGroups(this.api, zone, tunnelId)) {
        const res = await this.api.request<unknown>(zone, 'DELETE', `/security-group/${encodeURIComponent(group.id)}`, { accept: [404, 409] });
        if (res.status === 409) pending = true; // still attached to an instance on its way out
        else if (res.status !== 404 && checkOperation(res.body, `DELETE /security-group/${group.id}`).state !== 'success') pending = true;
      }
    }
    return pending ? 'pending' : 'done';
  }

  async list(): Promise<Host[]> {
    const hosts: Host[] = [];
    for (const zone of this.allZones()) {
      const ours = (await this.instances(zone)).filter((i) => readLabels(i.labels).ours);
      hosts.push(...ours.map((i) => this.toHost(i, zone)));
    }
    return hosts;
  }

  /** The ref's zone, or every zone when the ref does not know it. */
  private zonesOf(ref: HostRef): string[] {
    return ref.region ? [ref.region] : this.allZones();
  }

  /** Every zone; with an override one endpoint answers for all, so it is asked once. */
  private allZones(): string[] {
    return this.api.singleEndpoint ? [EXOSCALE_ZONES[0]] : [...EXOSCALE_ZONES];
  }

  /** A host not running yet: a failed create operation makes it an error. */
  private async withOperation(zone: string, host: Host, opId: string | undefined): Promise<Host> {
    if (!opId || host.status !== 'provisioning') return host;
    const op = await this.operation(zone, opId);
    if (op.state === 'failure' || op.state === 'timeout') return { ...host, status: 'error', providerStatus: operationFailure(op, 'creating the instance') };
    return host;
  }

  private async operation(zone: string, id: string): Promise<Operation> {
    const res = await this.api.request<Operation>(zone, 'GET', `/operation/${encodeURIComponent(id)}`);
    const op = res.body;
    if (!op || typeof op.state !== 'string') throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `GET /operation/${id} answered without an operation`);
    return op;
  }

  /** The instances of `zone` that carry the tunnel id of `ref` (and our shared mark). */
  private async instancesCarrying(zone: string, ref: HostRef): Promise<Instance[]> {
    return (await this.instances(zone)).filter((i) => carriesTunnel(ref, readLabels(i.labels)));
  }

  /** GET /instance: every instance of the zone (the API does not page this list). */
  private async instances(zone: string): Promise<Instance[]> {
    const { body } = await this.api.request<{ instances?: unknown }>(zone, 'GET', '/instance');
    const items = body?.instances;
    if (!Array.isArray(items)) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'GET /instance answered without "instances"');
    return (items as Instance[]).filter((i) => typeof i?.id === 'string');
  }

  private async byId(zone: string, id: string): Promise<Instance | undefined> {
    const res = await this.api.request<Instance>(zone, 'GET', `/instance/${encodeURIComponent(id)}`, { accept: [404] });
    if (res.status === 404) return undefined;
    if (typeof res.body?.id !== 'string') throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `GET /instance/${id} answered without an instance`);
    return res.body;
  }

  /** The id of instance type `plan` (`family.size`, e.g. standard.micro, or an id) offered in `zone`. */
  private async instanceType(zone: string, plan: string): Promise<string> {
    const { body } = await this.api.request<{ 'instance-types'?: unknown }>(zone, 'GET', '/instance-type');
    const types = body?.['instance-types'];
    if (!Array.isArray(types)) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'GET /instance-type answered without "instance-types"');
    const usable = (types as InstanceType[]).filter((t) => typeof t?.id === 'string' && (!t.zones || t.zones.includes(zone)) && t.authorized !== false);
    const found = usable.find((t) => t.id === plan || `${t.family}.${t.size}` === plan);
    if (found) return found.id;
    const standard = usable.filter((t) => t.family === 'standard').map((t) => `${t.family}.${t.size}`);
    throw new ProviderError(PROVIDER, 'INVALID', `no instance type "${plan}" in ${zone}${standard.length ? `; standard types there: ${standard.join(', ')}` : ''}`, { retryable: false });
  }

  /** The id of the public template named (or with the id) `image` in `zone`; the newest of that name. */
  private async template(zone: string, image: string): Promise<string> {
    const { body } = await this.api.request<{ templates?: unknown }>(zone, 'GET', '/template', { query: { visibility: 'public' } });
    const templates = body?.templates;
    if (!Array.isArray(templates)) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', 'GET /template answered without "templates"');
    const inZone = (templates as Template[]).filter((t) => typeof t?.id === 'string' && (!t.zones || t.zones.includes(zone)));
    const found = inZone.filter((t) => t.id === image || t.name === image).sort((a, b) => (b['created-at'] ?? '').localeCompare(a['created-at'] ?? ''))[0];
    if (found) return found.id;
    const debian = inZone.filter((t) => /debian/i.test(t.name ?? '')).map((t) => `"${t.name}"`);
    throw new ProviderError(PROVIDER, 'INVALID', `no public template "${image}" in ${zone}${debian.length ? `; Debian templates there: ${[...new Set(debian)].join(', ')}` : ''}`, { retryable: false });
  }

  private toHost(i: Instance, zone: string, data?: Record<string, string>): Host {
    const marks = readLabels(i.labels);
    return {
      name: marks.name ?? i.name ?? i.id,
      tunnelId: marks.tunnelId,
      expiresAt: marks.expiresAt,
      id: i.id,
      ip: i['public-ip'] || undefined,
      region: zone,
      status: mapInstanceState(i.state),
      providerStatus: i.state,
      createdAt: i['created-at'],
      data,
    };
  }
}
