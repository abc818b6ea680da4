/**
 * The Google Compute Engine provider. Per tunnel: a static external address, a firewall rule and
 * an instance (see gce-resources.ts for names, marks and why the boot configuration is a startup
 * script). Nothing is kept in process memory: any process given the HostRef (at least the name,
 * the tunnel id and the region) reads, finishes or deletes the tunnel from Compute Engine alone.
 *
 * - create: reserves the address (addresses.insert, then one regionOperations.wait call, which
 *   Compute Engine answers when the reservation is done: the instance needs the IP), inserts the
 *   firewall rule and the instance with that IP as its natIP, and returns. A repeated create adopts
 *   what carries its own tunnel id; anything else of the same name is refused.
 * - status: reads the instance (instances.get in the zone create returned, else by the tunnel-id
 *   label); 'provisioning' until it is RUNNING with its IP and its firewall rule exists. When the
 *   instance or the rule is missing and create left its operation in the HostRef, that operation's
 *   error is reported. Changes nothing.
 * - delete, a step at a time: delete instance `ref.id` (with our mark, else FORBIDDEN) and the
 *   instances labelled with the tunnel id → 'pending' until they are gone → delete the firewall rule
 *   and release the address named with the tunnel id (each checked for its mark) → 'pending' until
 *   both are gone → 'done'. Nothing is found by name.
 */
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest, Host, HostRef, HostStatus, Provider, ProviderContext } from '../../src/core/provider.js';
import { tunnelIdOfRef } from '../shared/ref-tunnel-id.js';
import { GceApi, type GceInstance, type GceOperation, type OperationScope } from './gce-api.js';
import { operationError, reasonOf } from './gce-errors.js';
import { GCE_API_URL_ENV } from './index.js';
import {
  SHARED_LABEL, TUNNEL_LABEL, addressBody, firewallBody, instanceBody, isOurFirewall, lastSegment, readMarks, regionOfZone, resourceNames, zoneFor,
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

/** `--project-id` (the core gives it in ctx.options, from the flag or $GOOGLE_CLOUD_PROJECT), else gcloud's $CLOUDSDK_CORE_PROJECT. */
export function projectIdOf(ctx: Pick<ProviderContext, 'options'>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = ctx.options['project-id'];
  if (typeof given === 'string' && given) return given;
  return env.CLOUDSDK_CORE_PROJECT || undefined;
}

export function createGceProvider(ctx: ProviderContext): Provider {
  const api = new GceApi({
    secret: ctx.credentials['access-token'],
    projectId: projectIdOf(ctx),
    apiUrl: ctx.apiUrl || process.env[GCE_API_URL_ENV] || undefined,
  });
  return new GceProvider(api);
}

export class GceProvider implements Provider {
  constructor(private readonly api: GceApi) {}

  async create(req: CreateRequest): Promise<Host> {
    const zone = zoneFor(req);
    const region = regionOfZone(zone);
    const names = resourceNames(req);
    const natIP = await this.reserveAddress(req, region);
    let firewallOp: GceOperation | undefined;
    try {
      firewallOp = await this.api.insertFirewall(firewallBody(req));
      throwIfFailed(firewallOp, `creating firewall rule ${names.firewall}`);
    } catch (err) {
      if (reasonOf(err) !== 'alreadyExists') throw err;
      // A repeated create (after a 429) finds the rule its first attempt made.
      const fw = await this.api.getFirewall(names.firewall);
      if (!fw || !isOurFirewall(fw, req.tunnelId)) {
        throw new ProviderError(PROVIDER, 'INVALID', `a firewall rule named ${names.firewall} exists and was not made by inletsctl for tunnel ${req.tunnelId}`, { retryable: false });
      }
    }
    let op: GceOperation;
    try {
      op = await this.api.insertInstance(zone, instanceBody(req, zone, natIP));
      throwIfFailed(op, `creating instance ${names.instance} in ${zone}`);
    } catch (err) {
      if (reasonOf(err) !== 'alreadyExists') throw err;
      const existing = await this.api.getInstance(zone, names.instance);
      if (readMarks(existing?.labels).tunnelId !== req.tunnelId) {
        throw new ProviderError(PROVIDER, 'INVALID', `an instance named ${names.instance} already exists in ${zone} and is not tunnel ${req.tunnelId}'s`, { retryable: false });
      }
      return { ...toHost(existing!, zone, req.name), data: { zone, tunnelId: req.tunnelId } };
    }
    return {
      name: req.name,
      tunnelId: req.tunnelId,
      id: op.targetId ?? '',
      region,
      status: 'provisioning',
      providerStatus: 'PROVISIONING',
      // The operations are kept in state so a later status can report how they failed.
      // The tunnel id too: a caller that keeps data but not the HostRef's tunnelId (delete by id
      // after the instance is gone) still finds the rule and the address.
      data: { zone, tunnelId: req.tunnelId, ...(op.name ? { insertOperation: op.name } : {}), ...(firewallOp?.name ? { firewallOperation: firewallOp.name } : {}) },
    };
  }

  async status(ref: HostRef): Promise<Host> {
    const found = await this.findInstance(ref);
    if (!found) {
      const zone = ref.data?.zone;
      const opName = ref.data?.insertOperation;
      if (zone && opName) {
        const op = await this.api.getOperation({ kind: 'zone', zone }, opName);
        const error = operationError(op, `creating instance ${ref.name} in ${zone}`, 'CREATE_FAILED');
        if (error) throw error;
        if (op.status !== 'DONE') return { name: ref.name, tunnelId: ref.tunnelId, id: ref.id ?? '', region: regionOfZone(zone), status: 'provisioning', providerStatus: 'insert in progress', data: ref.data };
      }
      throw new ProviderError(PROVIDER, 'NOT_FOUND', `no instance ${ref.tunnelId ? `labelled ${TUNNEL_LABEL}=${ref.tunnelId}` : ref.id ?? ref.name}`);
    }
    const host = { ...toHost(found.instance, found.zone, ref.name), data: { ...ref.data, zone: found.zone } };
    if (host.status !== 'active') return host;
    if (!host.ip) return { ...host, status: 'provisioning', providerStatus: 'RUNNING, no external IP yet' };
    if (host.tunnelId && !(await this.firewallReady(host.tunnelId, ref.data?.firewallOperation))) {
      return { ...host, status: 'provisioning', providerStatus: 'RUNNING, firewall rule being made' };
    }
    return host;
  }

  /**
   * Whether the tunnel's firewall rule is in place (read only).
   * @throws ProviderError CREATE_FAILED when its insert operation (known from create) failed.
   */
  private async firewallReady(tunnelId: string, opName: string | undefined): Promise<boolean> {
    if (await this.api.getFirewall(`inletsctl-${tunnelId}`)) return true;
    if (opName) throwIfFailed(await this.api.getOperation({ kind: 'global' }, opName), `creating firewall rule inletsctl-${tunnelId}`);
    return false;
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    let tunnelId = tunnelIdOfRef(ref);
    const instances: Array<{ zone: string; instance: GceInstance }> = [];
    if (ref.id) {
      const [byId] = await this.api.listInstances(`id = "${ref.id}"`);
      if (byId) {
        const marks = readMarks(byId.instance.labels);
        if (!marks.ours) throw new ProviderError(PROVIDER, 'FORBIDDEN', `instance ${ref.id} was not created by inletsctl (no ${SHARED_LABEL} label); not deleting it`, { retryable: false });
        tunnelId ??= marks.tunnelId; // delete --id: the instance and what carries its tunnel id
        instances.push(byId);
      }
    } else if (!tunnelId) {
      throw new ProviderError(PROVIDER, 'INVALID', `no instance id or tunnel id for "${ref.name}": Compute Engine is never searched by name`, { retryable: false });
    }
    if (tunnelId) for (const i of await this.instancesOf(tunnelId)) if (!instances.some((x) => x.instance.id === i.instance.id)) instances.push(i);
    for (const { zone, instance } of instances) {
      if (instance.status === 'STOPPING') continue; // on its way
      await this.tolerateNotReady(() => this.api.deleteInstance(zone, instance.name!));
    }
    if (instances.length > 0) return 'pending';
    // A host made before v2 has no tunnel id: its instance goes, its rule and address (named after it) stay.
    if (!tunnelId) return 'done';
    const zone = ref.data?.zone;
    const region = zone ? regionOfZone(zone) : ref.region;
    const firewallLeft = await this.deleteFirewall(tunnelId);
    const addressLeft = region ? await this.deleteAddress(tunnelId, region) : false;
    return firewallLeft || addressLeft ? 'pending' : 'done';
  }

  async list(): Promise<Host[]> {
    const found = await this.api.listInstances(`labels.${SHARED_LABEL} = "true"`);
    return found.map(({ zone, instance }) => toHost(instance, zone, instance.name ?? ''));
  }

  /**
   * Reserves the tunnel's address and returns its IP. The reservation must be done before the
   * instance can name the IP: one regionOperations.wait call, answered when it is.
   */
  private async reserveAddress(req: CreateRequest, region: string): Promise<string> {
    const name = resourceNames(req).address;
    try {
      const op = await this.api.insertAddress(region, addressBody(req));
      throwIfFailed(op, `reserving static address ${name}`);
      if (op.status !== 'DONE' && op.name) {
        const done = await this.api.waitRegionOperation(region, op.name);
        throwIfFailed(done, `reserving static address ${name}`);
      }
    } catch (err) {
      if (reasonOf(err) !== 'alreadyExists') throw err; // a repeated create finds its own below
    }
    const address = await this.api.getAddress(region, name);
    if (!address || readMarks(address.labels).tunnelId !== req.tunnelId) {
      throw new ProviderError(PROVIDER, 'INVALID', `the address ${name} in ${region} is not tunnel ${req.tunnelId}'s`, { retryable: false });
    }
    if (address.status === 'RESERVING' || !address.address) {
      throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `the static address ${name} in ${region} is still being reserved`, { retryable: true });
    }
    return address.address;
  }

  /** The instance of `ref`: in its zone by name when create told the zone, else by the tunnel-id label. */
  private async findInstance(ref: HostRef): Promise<{ zone: string; instance: GceInstance } | undefined> {
    const zone = ref.data?.zone;
    const tunnelId = tunnelIdOfRef(ref);
    if (zone) {
      const instance = await this.api.getInstance(zone, ref.name);
      const marks = readMarks(instance?.labels);
      if (instance && marks.ours && (tunnelId ? marks.tunnelId === tunnelId : !ref.id || instance.id === ref.id)) return { zone, instance };
      if (!tunnelId) return undefined;
    }
    if (tunnelId) return (await this.instancesOf(tunnelId))[0];
    if (ref.id) return (await this.api.listInstances(`id = "${ref.id}"`)).find((i) => readMarks(i.instance.labels).ours);
    return undefined;
  }

  /** The instances labelled with `tunnelId`, in every zone (inletsctl never touches unlabelled ones). */
  private async instancesOf(tunnelId: string): Promise<Array<{ zone: string; instance: GceInstance }>> {
    const found = await this.api.listInstances(`(labels.${SHARED_LABEL} = "true") (labels.${TUNNEL_LABEL} = "${tunnelId}")`);
    return found.filter((i) => readMarks(i.instance.labels).tunnelId === tunnelId);
  }

  /** One step of removing the tunnel's firewall rule; true while it exists. */
  private async deleteFirewall(tunnelId: string): Promise<boolean> {
    const fwName = `inletsctl-${tunnelId}`;
    const fw = await this.api.getFirewall(fwName);
    if (!fw) return false;
    if (!isOurFirewall(fw, tunnelId)) {
      throw new ProviderError(PROVIDER, 'FORBIDDEN', `firewall rule ${fwName} was not made by inletsctl for tunnel ${tunnelId}; not deleting it`, { retryable: false });
    }
    await this.tolerateNotReady(() => this.api.deleteFirewall(fwName));
    return true;
  }

  /** One step of releasing the tunnel's static address; true while it exists. */
  private async deleteAddress(tunnelId: string, region: string): Promise<boolean> {
    const addressName = `inletsctl-${tunnelId}`;
    const address = await this.api.getAddress(region, addressName);
    if (!address) return false;
    if (readMarks(address.labels).tunnelId !== tunnelId) {
      throw new ProviderError(PROVIDER, 'FORBIDDEN', `address ${addressName} in ${region} was not made by inletsctl for tunnel ${tunnelId}; not releasing it`, { retryable: false });
    }
    await this.tolerateNotReady(() => this.api.deleteAddress(region, addressName));
    return true;
  }

  /**
   * A delete refused because the resource is busy (being deleted already, or an address still
   * held by its instance for a moment) is tried again next step.
   */
  private async tolerateNotReady(call: () => Promise<GceOperation>): Promise<void> {
    try {
      await call();
    } catch (err) {
      const reason = reasonOf(err);
      if (reason === 'resourceNotReady' || reason === 'notFound' || reason === 'resourceInUseByAnotherResource') return;
      throw err;
    }
  }
}

/** An operation that is DONE already with an error is reported now. */
function throwIfFailed(op: GceOperation, what: string): void {
  const error = operationError(op, what, 'CREATE_FAILED');
  if (error) throw error;
}

/** Where to look the operation up: where it says it is, else where it was started. */
function scopeOf(op: GceOperation, started: OperationScope): OperationScope {
  const zone = lastSegment(op.zone);
  if (zone) return { kind: 'zone', zone };
  const region = lastSegment(op.region);
  if (region) return { kind: 'region', region };
  return started;
}

function toHost(instance: GceInstance, zone: string, fallbackName: string): Host {
  const ip = instance.networkInterfaces?.[0]?.accessConfigs?.[0]?.natIP || undefined;
  const marks = readMarks(instance.labels);
  return {
    name: marks.name ?? fallbackName,
    tunnelId: marks.tunnelId,
    expiresAt: marks.expiresAt,
    id: instance.id ?? '',
    ip,
    region: regionOfZone(zone),
    status: mapInstanceStatus(instance.status),
    providerStatus: instance.status ?? undefined,
    createdAt: instance.creationTimestamp ?? undefined,
    data: { zone },
  };
}
