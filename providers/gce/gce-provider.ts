/**
 * The Google Compute Engine provider. Per tunnel: an instance, a firewall rule and a static
 * external address (see gce-resources.ts for names, labels and why the boot configuration is a
 * startup script). It never waits; each long-running operation it starts is remembered and
 * looked at on the next call, and its error (quota, no capacity in the zone…) is reported:
 *
 * - create: inserts the firewall rule (adopting it when a repeated create finds it already made)
 *   and the instance, and returns at once: the instance's id comes with the insert operation.
 * - status: 'provisioning' until the instance is RUNNING with its IP, its insert and the firewall
 *   rule's insert are done, and its ephemeral IP has been promoted to a static address (a step
 *   status takes itself: the address can only name the IP once the instance has one).
 * - delete, a step at a time: delete the instances labelled with the tunnel's name (in any zone)
 *   → 'pending' until they are gone → delete the firewall rule and release the address →
 *   'pending' until both are gone → 'done'. Everything is found by name and label alone.
 */
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest, Host, HostRef, HostStatus, Provider, ProviderContext } from '../../src/core/provider.js';
import { GceApi, type GceInstance, type GceOperation, type OperationScope } from './gce-api.js';
import { operationError, reasonOf } from './gce-errors.js';
import { GCE_API_URL_ENV } from './index.js';
import {
  NAME_LABEL, SHARED_LABEL, addressBody, firewallBody, instanceBody, isOurFirewall, lastSegment, regionOfZone, resourceNames, zoneFor,
} from './gce-resources.js';

const PROVIDER = 'gce';

/** Compute Engine's instance states in our vocabulary. */
export function mapInstanceStatus(status: string | null | undefined): HostStatus {
  switch (status) {
    case 'PROVISIONING':
    case 'STAGING':
    case 'REPAIRING':
      return 'provisioning';
    case 'RUNNING':
      return 'active';
    default: // STOPPING, STOPPED, SUSPENDING, SUSPENDED, TERMINATED: a new exit node that will not serve
      return 'error';
  }
}

export function createGceProvider(ctx: ProviderContext): Provider {
  const projectId = ctx.options['project-id'];
  const api = new GceApi({
    secret: ctx.credentials['access-token'],
    projectId: typeof projectId === 'string' && projectId ? projectId : undefined,
    apiUrl: ctx.apiUrl || process.env[GCE_API_URL_ENV] || undefined,
  });
  return new GceProvider(api);
}

/** How a failed operation is reported: inserts as CREATE_FAILED, deletes as API_UNAVAILABLE. */
type FailCode = 'CREATE_FAILED' | 'API_UNAVAILABLE';

/** An operation this process started and has not yet seen finish. */
interface Pending {
  scope: OperationScope;
  name: string;
  /** What it does, for messages: `creating instance x in us-central1-b`. */
  what: string;
  failCode: FailCode;
}

export class GceProvider implements Provider {
  /** By purpose (`insert instance x`…). */
  private readonly pending = new Map<string, Pending>();
  /** Tunnels whose static address is in place. */
  private readonly addressDone = new Set<string>();
  /** Zones where a tunnel's instances were seen, for the steps of delete after they are gone. */
  private readonly zones = new Map<string, string>();

  constructor(private readonly api: GceApi) {}

  async create(req: CreateRequest): Promise<Host> {
    const zone = zoneFor(req);
    const names = resourceNames(req.name);
    try {
      const op = await this.api.insertFirewall(firewallBody(req));
      this.track(`insert firewall ${req.name}`, { kind: 'global' }, op, `creating firewall rule ${names.firewall}`);
    } catch (err) {
      if (reasonOf(err) !== 'alreadyExists') throw err;
      // A repeated create (after a 429) finds the rule its first attempt made.
      const fw = await this.api.getFirewall(names.firewall);
      if (!fw || !isOurFirewall(fw, req.name)) {
        throw new ProviderError(PROVIDER, 'INVALID', `a firewall rule named ${names.firewall} exists and was not made by inletsctl for ${req.name}`, { retryable: false });
      }
    }
    const op = await this.api.insertInstance(zone, instanceBody(req, zone));
    this.track(`insert instance ${req.name}`, { kind: 'zone', zone }, op, `creating instance ${names.instance} in ${zone}`);
    this.zones.set(req.name, zone);
    return {
      name: req.name,
      id: op.targetId ?? '',
      region: regionOfZone(zone),
      status: 'provisioning',
      providerStatus: 'PROVISIONING',
      data: { zone },
    };
  }

  async status(ref: HostRef): Promise<Host> {
    const zone = ref.data?.zone ?? this.zones.get(ref.name) ?? (await this.findInstances(ref.name))[0]?.zone;
    if (!zone) throw new ProviderError(PROVIDER, 'NOT_FOUND', `no instance labelled ${NAME_LABEL}=${ref.name}`);
    const insertPending = (await this.settle(`insert instance ${ref.name}`)) === 'pending';
    const instance = await this.api.getInstance(zone, resourceNames(ref.name).instance);
    if (!instance) {
      if (insertPending) return { name: ref.name, id: ref.id ?? '', region: regionOfZone(zone), status: 'provisioning', providerStatus: 'insert in progress', data: { zone } };
      throw new ProviderError(PROVIDER, 'NOT_FOUND', `instance ${ref.name} not found in ${zone}`);
    }
    const host = toHost(instance, zone, ref.name);
    if (host.status !== 'active') return host;
    if (!host.ip) return { ...host, status: 'provisioning', providerStatus: 'RUNNING, no external IP yet' };
    if ((await this.settle(`insert firewall ${ref.name}`)) === 'pending') return { ...host, status: 'provisioning', providerStatus: 'RUNNING, firewall rule being made' };
    if ((await this.ensureStaticAddress(ref.name, regionOfZone(zone), host.ip)) === 'pending') {
      return { ...host, status: 'provisioning', providerStatus: 'RUNNING, reserving its IP as a static address' };
    }
    return host;
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    const instances = await this.findInstances(ref.name);
    for (const { zone, instance } of instances) {
      this.zones.set(ref.name, zone);
      const key = `delete instance ${ref.name} ${zone}`;
      if ((await this.settle(key)) === 'pending' || instance.status === 'STOPPING') continue; // on its way
      const op = await this.tolerateNotReady(() => this.api.deleteInstance(zone, instance.name ?? ref.name));
      if (op) this.track(key, { kind: 'zone', zone }, op, `deleting instance ${instance.name} in ${zone}`, 'API_UNAVAILABLE');
    }
    if (instances.length > 0) return 'pending';

    const zone = ref.data?.zone ?? this.zones.get(ref.name);
    const region = zone ? regionOfZone(zone) : ref.region;
    const firewallLeft = await this.deleteFirewall(ref.name);
    const addressLeft = region ? await this.deleteAddress(ref.name, region) : false;
    return firewallLeft || addressLeft ? 'pending' : 'done';
  }

  async list(): Promise<Host[]> {
    const found = await this.api.listInstances(`labels.${SHARED_LABEL} = "true"`);
    return found.map(({ zone, instance }) => toHost(instance, zone, instance.labels?.[NAME_LABEL] ?? instance.name ?? ''));
  }

  /** The tunnel's instances, by label, in every zone (inletsctl never touches unlabelled ones). */
  private findInstances(name: string): Promise<Array<{ zone: string; instance: GceInstance }>> {
    return this.api.listInstances(`(labels.${SHARED_LABEL} = "true") (labels.${NAME_LABEL} = "${name}")`);
  }

  /** Promotes the instance's ephemeral IP to the tunnel's static address; 'pending' until it is. */
  private async ensureStaticAddress(name: string, region: string, ip: string): Promise<'ready' | 'pending'> {
    if (this.addressDone.has(name)) return 'ready';
    if ((await this.settle(`insert address ${name}`)) === 'pending') return 'pending';
    const addressName = resourceNames(name).address;
    const address = await this.api.getAddress(region, addressName);
    if (address) {
      if (address.address !== ip) {
        throw new ProviderError(PROVIDER, 'INVALID', `the static address ${addressName} in ${region} holds ${address.address}, not the instance's ${ip}; delete it and try again`, { retryable: false });
      }
      if (address.status === 'RESERVING') return 'pending';
      this.addressDone.add(name);
      return 'ready';
    }
    try {
      const op = await this.api.insertAddress(region, addressBody(name, ip));
      this.track(`insert address ${name}`, { kind: 'region', region }, op, `reserving ${ip} as static address ${addressName}`);
    } catch (err) {
      if (reasonOf(err) !== 'alreadyExists') throw err; // made meanwhile: the next look finds it
    }
    return 'pending';
  }

  /** One step of removing the firewall rule; true while it exists. */
  private async deleteFirewall(name: string): Promise<boolean> {
    const key = `delete firewall ${name}`;
    const fwName = resourceNames(name).firewall;
    const pending = (await this.settle(key)) === 'pending';
    const fw = await this.api.getFirewall(fwName);
    if (!fw) return false;
    if (!isOurFirewall(fw, name)) {
      throw new ProviderError(PROVIDER, 'INVALID', `firewall rule ${fwName} was not made by inletsctl for ${name}; not deleting it`, { retryable: false });
    }
    if (!pending) {
      const op = await this.tolerateNotReady(() => this.api.deleteFirewall(fwName));
      if (op) this.track(key, { kind: 'global' }, op, `deleting firewall rule ${fwName}`, 'API_UNAVAILABLE');
    }
    return true;
  }

  /** One step of releasing the static address; true while it exists. */
  private async deleteAddress(name: string, region: string): Promise<boolean> {
    const key = `delete address ${name}`;
    const addressName = resourceNames(name).address;
    const pending = (await this.settle(key)) === 'pending';
    const address = await this.api.getAddress(region, addressName);
    if (!address) return false;
    if (address.labels?.[NAME_LABEL] !== name) {
      throw new ProviderError(PROVIDER, 'INVALID', `address ${addressName} in ${region} was not made by inletsctl for ${name}; not releasing it`, { retryable: false });
    }
    if (!pending) {
      const op = await this.tolerateNotReady(() => this.api.deleteAddress(region, addressName));
      if (op) this.track(key, { kind: 'region', region }, op, `releasing address ${addressName}`, 'API_UNAVAILABLE');
    }
    return true;
  }

  /** A delete refused because the resource is busy (being deleted already) is tried again next step. */
  private async tolerateNotReady(call: () => Promise<GceOperation>): Promise<GceOperation | undefined> {
    try {
      return await call();
    } catch (err) {
      const reason = reasonOf(err);
      if (reason === 'resourceNotReady' || reason === 'notFound') return undefined;
      throw err;
    }
  }

  /** Remembers an operation until it is seen DONE; one that is DONE already is checked now. */
  private track(key: string, scope: OperationScope, op: GceOperation, what: string, failCode: FailCode = 'CREATE_FAILED'): void {
    const error = operationError(op, what, failCode);
    if (error) throw error;
    if (op.status !== 'DONE' && op.name) this.pending.set(key, { scope: scopeOf(op, scope), name: op.name, what, failCode });
  }

  /**
   * Looks at a remembered operation: 'pending' while it runs, 'done' when it finished (or none is
   * remembered).
   * @throws ProviderError with the operation's own error when it failed.
   */
  private async settle(key: string): Promise<'pending' | 'done'> {
    const p = this.pending.get(key);
    if (!p) return 'done';
    const op = await this.api.getOperation(p.scope, p.name);
    if (op.status !== 'DONE') return 'pending';
    this.pending.delete(key);
    const error = operationError(op, p.what, p.failCode);
    if (error) throw error;
    return 'done';
  }
}

/** Where to look the operation up: where it says it is, else where it was started. */
function scopeOf(op: GceOperation, started: OperationScope): OperationScope {
  const zone = lastSegment(op.zone);
  if (zone) return { kind: 'zone', zone };
  const region = lastSegment(op.region);
  if (region) return { kind: 'region', region };
  return started;
}

function toHost(instance: GceInstance, zone: string, name: string): Host {
  const ip = instance.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP || undefined;
  return {
    name,
    id: instance.id ?? '',
    ip,
    region: regionOfZone(zone),
    status: mapInstanceStatus(instance.status),
    providerStatus: instance.status ?? undefined,
    createdAt: instance.creationTimestamp ?? undefined,
    data: { zone },
  };
}
