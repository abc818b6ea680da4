/**
 * The Azure provider: one resource group per tunnel, and in it ONE ARM deployment that Azure runs
 * by itself (azure-template.ts). Nothing is kept in process memory: any process given the HostRef
 * (name and tunnel id, or the group's name as `id`) reads, finishes or deletes the tunnel.
 *
 *   create:  PUT the resource group (tagged with the marks; synchronous), then PUT the deployment
 *            (Microsoft.Resources/deployments) of the template: VNet/subnet, public IP, NSG, NIC
 *            and VM with their dependsOn. Returns once Azure accepted it; a PUT repeated after a
 *            refusal (429) is the same PUT, and one that finds the deployment running is fine.
 *   status:  GET the deployment: Accepted/Running → 'provisioning'; Failed → CREATE_FAILED with
 *            Azure's error; Succeeded → its outputs give the IP, and the VM's power state (GET VM
 *            with its instance view) says whether it runs. Reads only.
 *   delete:  the groups carrying the tunnel id (tag filter), plus group `ref.id` when given (which
 *            must carry our mark, else FORBIDDEN): start DELETE of each (everything in it goes) →
 *            'pending' until none is left → 'done'. Never by name.
 */
import type { ResourceGroup } from '@azure/arm-resources';
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest, Host, HostRef, HostStatus, Provider, ProviderContext } from '../../src/core/provider.js';
import { tunnelIdOfRef } from '../shared/ref-tunnel-id.js';
import { azureSettings, discoverSubscription, makeClients, requestJson, type AzureClients, type AzureSettings } from './azure-clients.js';
import { azureError, isNotFound, PROVIDER, readAzureError } from './azure-errors.js';
import { checkRequest, DEPLOYMENT_NAME, groupName, legacyGroupName, readTagMarks, resourceName, SHARED_TAG, tagsFor, TUNNEL_TAG } from './azure-resources.js';
import { deploymentProperties, OUTPUTS } from './azure-template.js';

/** Deployments - Create Or Update / Get: https://learn.microsoft.com/rest/api/resources/deployments */
const DEPLOYMENTS_API_VERSION = '2025-04-01';

/** The raw response the SDKs hand to `onResponse` (two SDK generations, two header shapes). */
interface RawResponse {
  status: number | string;
}

interface Deployment {
  provisioningState?: string;
  outputs?: Record<string, { value?: unknown }>;
  error?: { code?: string; message?: string; details?: Array<{ code?: string; message?: string }> };
}

export function createAzureProvider(ctx: ProviderContext): Provider {
  return new AzureProvider(azureSettings(ctx));
}

/** A deployment's provisioningState in our vocabulary. */
export function mapDeploymentState(state: string | undefined): HostStatus {
  switch (state) {
    case 'Succeeded':
      return 'active';
    case 'Failed':
    case 'Canceled':
      return 'error';
    case 'Deleting':
    case 'Deleted':
      return 'deleting';
    default: // NotSpecified, Accepted, Running, Ready, Creating, Created, Updating
      return 'provisioning';
  }
}

/** Azure's provisioningState of a VM (of tunnels made before v2), in our vocabulary. */
export function mapVmState(state: string | undefined): HostStatus {
  switch (state) {
    case 'Succeeded':
      return 'active';
    case 'Failed':
      return 'error';
    case 'Deleting':
      return 'deleting';
    default: // Creating, Updating, or no VM yet
      return 'provisioning';
  }
}

class AzureProvider implements Provider {
  private readonly clientsBySubscription = new Map<string, Promise<AzureClients>>();
  private discovered?: Promise<string>;

  constructor(private readonly settings: AzureSettings) {}

  async create(req: CreateRequest): Promise<Host> {
    checkRequest(req);
    const c = await this.clients();
    const group = groupName(req);
    await this.call(`PUT resourceGroups/${group}`, () => c.resources.resourceGroups.createOrUpdate(group, { location: req.region, tags: tagsFor(req) }));
    const what = `PUT deployment ${DEPLOYMENT_NAME} in ${group}`;
    try {
      const put = await requestJson(c.resources, 'PUT', this.deploymentUrl(c.subscriptionId, group), { properties: deploymentProperties(req) }, this.settings, what);
      if (put.status === 404) throw new ProviderError(PROVIDER, 'API_UNAVAILABLE', `${what} failed with HTTP 404 (${put.code ?? 'NotFound'}): the group vanished`);
    } catch (err) {
      // A repeat of an accepted create finds its deployment still running: that is the same work.
      if (!(err instanceof ProviderError && err.status === 409 && /DeploymentActive/.test(err.message))) throw err;
    }
    return this.host(req.name, req.tunnelId, group, c.subscriptionId, req.region, { status: 'provisioning', providerStatus: 'deployment Accepted' });
  }

  async status(ref: HostRef): Promise<Host> {
    const c = await this.clients(ref);
    if (ref.id && !tunnelIdOfRef(ref)) {
      // delete --id: the name and tunnel id are read from the group's own marks, never assumed
      const g = await this.groupById(c, ref.id);
      if (!g) throw new ProviderError(PROVIDER, 'NOT_FOUND', `resource group ${ref.id} does not exist`);
      const marks = readTagMarks(g.tags);
      ref = { ...ref, name: marks.name ?? ref.name, tunnelId: marks.tunnelId, region: ref.region ?? g.location };
    }
    const tunnelId = tunnelIdOfRef(ref);
    const group = ref.id ?? (tunnelId ? groupName({ name: ref.name, tunnelId }) : legacyGroupName(ref.name));
    if (!tunnelId) return this.legacyStatus(c, group, ref); // made before v2: no deployment
    const here = (fields: Pick<Host, 'status' | 'providerStatus'> & Partial<Host>) => this.host(ref.name, tunnelId, group, c.subscriptionId, ref.region, fields);
    const got = await requestJson(c.resources, 'GET', this.deploymentUrl(c.subscriptionId, group), undefined, this.settings, `GET deployment ${DEPLOYMENT_NAME} in ${group}`);
    if (got.status === 404) {
      if (got.code === 'ResourceGroupNotFound') throw new ProviderError(PROVIDER, 'NOT_FOUND', `resource group ${group} does not exist`);
      // The group was made but the deployment never was: nothing can finish it; delete it.
      return here({ status: 'error', providerStatus: 'incomplete: the group has no deployment (create was interrupted before it); delete it' });
    }
    const d = (got.body.properties ?? {}) as Deployment;
    const state = d.provisioningState ?? 'NotSpecified';
    if (state === 'Failed' || state === 'Canceled') {
      throw new ProviderError(PROVIDER, 'CREATE_FAILED', `Azure could not deploy the tunnel in ${group}: ${deploymentError(d) ?? `deployment ${state}`}`, { retryable: false });
    }
    if (state !== 'Succeeded') return here({ status: mapDeploymentState(state), providerStatus: `deployment ${state}` });
    const ip = typeof d.outputs?.[OUTPUTS.ip]?.value === 'string' ? (d.outputs[OUTPUTS.ip].value as string) : undefined;
    const vm = await this.call(`GET VM ${resourceName.vm(ref.name)}`, () => c.compute.virtualMachines.get(group, resourceName.vm(ref.name), { expand: 'instanceView' }));
    const power = vm.instanceView?.statuses?.find((s) => s.code?.startsWith('PowerState/'))?.code?.slice('PowerState/'.length);
    const createdAt = vm.timeCreated?.toISOString();
    if (power === 'running' && ip) return here({ status: 'active', providerStatus: 'VM running', ip, createdAt });
    if (power === 'stopped' || power === 'deallocated' || power === 'deallocating' || power === 'stopping') return here({ status: 'error', providerStatus: `VM ${power}`, ip, createdAt });
    return here({ status: 'provisioning', providerStatus: `deployment Succeeded, VM ${power ?? 'starting'}`, ip, createdAt });
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    const c = await this.clients(ref);
    let tunnelId = tunnelIdOfRef(ref);
    const groups: ResourceGroup[] = [];
    if (ref.id) {
      const g = await this.groupById(c, ref.id);
      if (g) {
        const marks = readTagMarks(g.tags);
        if (!marks.ours) throw new ProviderError(PROVIDER, 'FORBIDDEN', `resource group ${ref.id} was not created by inletsctl (no ${SHARED_TAG} tag); not deleting it`, { retryable: false });
        tunnelId ??= marks.tunnelId; // delete --id: the group and what carries its tunnel id
        groups.push(g);
      }
    } else if (!tunnelId) {
      throw new ProviderError(PROVIDER, 'INVALID', `no group id or tunnel id for "${ref.name}": Azure is never searched by name`, { retryable: false });
    }
    if (tunnelId) {
      for (const g of await this.groups(c, `tagName eq '${TUNNEL_TAG}' and tagValue eq '${tunnelId}'`)) {
        if (readTagMarks(g.tags).tunnelId === tunnelId && !groups.some((x) => x.name === g.name)) groups.push(g);
      }
    }
    if (groups.length === 0) return 'done';
    for (const g of groups) {
      if (g.properties?.provisioningState === 'Deleting') continue;
      const what = `DELETE resourceGroups/${g.name}`;
      const accepted = { value: false };
      try {
        await c.resources.resourceGroups.beginDelete(g.name!, { onResponse: acceptance(accepted) });
      } catch (err) {
        // Gone already, or the delete was accepted and only the SDK's first status read failed.
        if (!accepted.value && !isNotFound(err)) throw azureError(err, what, this.settings.timeoutMs);
      }
    }
    return 'pending';
  }

  async list(): Promise<Host[]> {
    const c = await this.clients();
    const groups = await this.groups(c, `tagName eq '${SHARED_TAG}' and tagValue eq 'true'`);
    return Promise.all(groups.map((g) => this.describeGroup(c, g)));
  }

  private deploymentUrl(subscriptionId: string, group: string): string {
    return `${this.settings.endpoint}/subscriptions/${subscriptionId}/resourcegroups/${encodeURIComponent(group)}/providers/Microsoft.Resources/deployments/${DEPLOYMENT_NAME}?api-version=${DEPLOYMENTS_API_VERSION}`;
  }

  /** A group of the list: its deployment's state and outputs (or, made before v2, its VM and IP). */
  private async describeGroup(c: AzureClients, g: ResourceGroup): Promise<Host> {
    const marks = readTagMarks(g.tags);
    const name = marks.name ?? g.name!.replace(/^inletsctl-/, '');
    const host = (fields: Pick<Host, 'status' | 'providerStatus'> & Partial<Host>) => ({ ...this.host(name, marks.tunnelId, g.name!, c.subscriptionId, g.location, fields), expiresAt: marks.expiresAt });
    if (g.properties?.provisioningState === 'Deleting') return host({ status: 'deleting', providerStatus: 'group Deleting' });
    if (!marks.tunnelId) return { ...(await this.legacyStatus(c, g.name!, { name, region: g.location })), expiresAt: marks.expiresAt };
    const got = await requestJson(c.resources, 'GET', this.deploymentUrl(c.subscriptionId, g.name!), undefined, this.settings, `GET deployment ${DEPLOYMENT_NAME} in ${g.name}`);
    if (got.status === 404) return host({ status: 'error', providerStatus: 'no deployment' });
    const d = (got.body.properties ?? {}) as Deployment;
    const ip = d.outputs?.[OUTPUTS.ip]?.value;
    return host({ status: mapDeploymentState(d.provisioningState), providerStatus: `deployment ${d.provisioningState ?? 'unknown'}`, ip: typeof ip === 'string' ? ip : undefined });
  }

  /** A tunnel made before v2: no deployment; its VM's provisioningState and its IP. */
  private async legacyStatus(c: AzureClients, group: string, ref: Pick<HostRef, 'name' | 'region'>): Promise<Host> {
    const optional = async <T>(what: string, get: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await get();
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw azureError(err, what, this.settings.timeoutMs);
      }
    };
    const vm = await optional(`GET VM ${ref.name}`, () => c.compute.virtualMachines.get(group, resourceName.vm(ref.name)));
    if (!vm) throw new ProviderError(PROVIDER, 'NOT_FOUND', `no VM ${ref.name} in ${group}`);
    const ip = await optional(`GET public IP ${resourceName.ip(ref.name)}`, () => c.network.publicIPAddresses.get(group, resourceName.ip(ref.name)));
    return this.host(ref.name, undefined, group, c.subscriptionId, ref.region, {
      status: mapVmState(vm.provisioningState),
      providerStatus: `VM ${vm.provisioningState ?? 'unknown'}`,
      ip: ip?.ipAddress,
      createdAt: vm.timeCreated?.toISOString(),
    });
  }

  /** The group named `name`, or undefined when there is none. */
  private async groupById(c: AzureClients, name: string): Promise<ResourceGroup | undefined> {
    try {
      return await c.resources.resourceGroups.get(name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw azureError(err, `GET resourceGroups/${name}`, this.settings.timeoutMs);
    }
  }

  /** Resource groups matching an ARM tag filter (all pages), that inletsctl created. */
  private async groups(c: AzureClients, filter: string): Promise<ResourceGroup[]> {
    const out: ResourceGroup[] = [];
    try {
      for await (const g of c.resources.resourceGroups.list({ filter })) {
        if (readTagMarks(g.tags).ours && g.name) out.push(g);
      }
    } catch (err) {
      throw azureError(err, 'GET resourceGroups', this.settings.timeoutMs);
    }
    return out;
  }

  /** A Host; its data keeps the subscription and the tunnel id (for callers that keep data but not tunnelId). */
  private host(name: string, tunnelId: string | undefined, group: string, subscriptionId: string, region: string | undefined, fields: Pick<Host, 'status' | 'providerStatus'> & Partial<Host>): Host {
    return { name, tunnelId, id: group, region, data: { subscriptionId, ...(tunnelId ? { tunnelId } : {}) }, ...fields };
  }

  /** The clients of the tunnel's subscription: from state, the flag or file, or the only one visible. */
  private async clients(ref?: HostRef): Promise<AzureClients> {
    let subscriptionId = ref?.data?.subscriptionId ?? this.settings.subscriptionId;
    if (!subscriptionId) {
      this.discovered ??= discoverSubscription(this.settings).catch((err: unknown) => {
        this.discovered = undefined; // a transient failure is tried again on the next call
        throw err;
      });
      subscriptionId = await this.discovered;
    }
    let clients = this.clientsBySubscription.get(subscriptionId);
    if (!clients) {
      clients = makeClients(this.settings, subscriptionId);
      this.clientsBySubscription.set(subscriptionId, clients);
    }
    return clients;
  }

  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw azureError(err, what, this.settings.timeoutMs);
    }
  }
}

/** Azure's reason for a failed deployment: its error, and the first detail (the resource's own error). */
function deploymentError(d: Deployment): string | undefined {
  const outer = readAzureError(d.error ?? {});
  const inner = d.error?.details?.[0];
  const parts = [outer.code && `${outer.code}: ${outer.message ?? ''}`.trim(), inner?.code && `${inner.code}: ${inner.message ?? ''}`.trim()].filter(Boolean);
  return parts.length > 0 ? parts.join(' — ') : undefined;
}

/** An `onResponse` callback noting whether Azure accepted the first request of an operation (2xx). */
function acceptance(accepted: { value: boolean }): (raw: RawResponse) => void {
  let first = true;
  return (raw) => {
    if (!first) return; // later calls are the SDK's status reads
    first = false;
    const status = Number(raw.status);
    if (status >= 200 && status <= 299) accepted.value = true;
  };
}
