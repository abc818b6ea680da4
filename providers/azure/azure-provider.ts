/**
 * The Azure provider: one resource group per tunnel, built by a chain of long-running ARM
 * operations that this provider never waits for. Each call does what can be done now and returns.
 *
 * The step machine (dependencies on the left must have provisioningState Succeeded first):
 *
 *   create:  PUT resource group (synchronous) → start PUT vnet, PUT public IP, PUT security group
 *   status:  vnet, IP, NSG Succeeded → start PUT NIC → NIC Succeeded → start PUT VM
 *            → VM Succeeded: 'active' with the IP's address; anything still Creating/Updating:
 *            'provisioning'; a step that does not exist yet is started (PUT is idempotent, so a
 *            PUT whose answer was lost is simply repeated); any step Failed: CREATE_FAILED with
 *            Azure's code and message, read from the operation's Azure-AsyncOperation status (or the
 *            VM's instance view).
 *   delete:  find the groups tagged inletsctl-name=<name> (and inletsctl=true): none → 'done';
 *            a group not yet Deleting → start DELETE (everything in it goes) → 'pending'.
 *
 * "Start" means the SDK's initial request: arm-network's and arm-resources' begin* send it and then
 * read the operation's status once (they do not wait); arm-compute's poller is only `submitted()`.
 * Progress is read with GETs of the resources, which is also how a step is found after an answer
 * was lost. The request (user-data included) is kept in memory between create and status: the
 * CLI polls from the process that created; another process can read and delete, not finish a create.
 */
import type { ResourceGroup } from '@azure/arm-resources';
import { ProviderError } from '../../src/errors.js';
import type { CreateRequest, Host, HostRef, HostStatus, Provider, ProviderContext } from '../../src/core/provider.js';
import { azureSettings, discoverSubscription, getJson, makeClients, type AzureClients, type AzureSettings } from './azure-clients.js';
import { azureCodeOf, azureError, isNotFound, PROVIDER, readAzureError, responseHeader } from './azure-errors.js';
import {
  checkRequest,
  groupName,
  NAME_TAG,
  networkInterfaceBody,
  publicIpBody,
  resourceName,
  securityGroupBody,
  SHARED_TAG,
  STEP_LABEL,
  tagsFor,
  virtualMachineBody,
  virtualNetworkBody,
  type StepKind,
} from './azure-resources.js';

const NETWORK_STEPS: StepKind[] = ['vnet', 'ip', 'nsg'];

/** What one status observation found for a step. */
interface StepState {
  kind: StepKind;
  state: 'absent' | 'running' | 'succeeded' | 'failed';
  /** Azure's provisioningState. */
  word?: string;
  /** The public IP's address, for the 'ip' step. */
  ip?: string;
}

/** What this process knows about a tunnel it is creating. */
interface Chain {
  req: CreateRequest;
  subscriptionId: string;
  /** Steps seen Succeeded (they do not go back), with the IP's address. */
  done: Map<StepKind, { ip?: string }>;
  /** Azure-AsyncOperation (or Location) URL of each step's last PUT, to explain a failure. */
  operations: Map<StepKind, string>;
}

/** The raw response the SDKs hand to `onResponse` (two SDK generations, two header shapes). */
interface RawResponse {
  status: number | string;
  headers: { get?(name: string): string | undefined } | Record<string, unknown>;
}

export function createAzureProvider(ctx: ProviderContext): Provider {
  return new AzureProvider(azureSettings(ctx));
}

/** Azure's provisioningState of a tunnel's VM, in our vocabulary. */
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
  private readonly chains = new Map<string, Chain>();
  private readonly clientsBySubscription = new Map<string, Promise<AzureClients>>();
  private discovered?: Promise<string>;

  constructor(private readonly settings: AzureSettings) {}

  async create(req: CreateRequest): Promise<Host> {
    checkRequest(req);
    const c = await this.clients();
    const group = groupName(req.name);
    await this.call(`PUT resourceGroups/${group}`, () => c.resources.resourceGroups.createOrUpdate(group, { location: req.region, tags: tagsFor(req.name) }));
    const chain: Chain = { req, subscriptionId: c.subscriptionId, done: new Map(), operations: new Map() };
    this.chains.set(req.name, chain);
    await settleAll(NETWORK_STEPS.map((kind) => this.start(c, chain, kind)));
    return this.host(req.name, c.subscriptionId, req.region, { status: 'provisioning', providerStatus: 'creating the network' });
  }

  async status(ref: HostRef): Promise<Host> {
    const c = await this.clients(ref);
    const chain = this.chains.get(ref.name);
    const region = chain?.req.region ?? ref.region;
    const provisioning = (providerStatus: string) => this.host(ref.name, c.subscriptionId, region, { status: 'provisioning', providerStatus });

    const network = await Promise.all(NETWORK_STEPS.map((kind) => this.observe(c, ref.name, kind, chain)));
    await this.failOnFailed(c, ref.name, network, chain);
    const missing = network.filter((s) => s.state === 'absent');
    if (missing.length > 0) {
      if (!chain) return this.incomplete(ref, c.subscriptionId, missing[0].kind);
      await settleAll(missing.map((s) => this.start(c, chain, s.kind)));
      return provisioning(`creating the ${missing.map((s) => STEP_LABEL[s.kind]).join(', ')}`);
    }
    const running = network.filter((s) => s.state === 'running');
    if (running.length > 0) return provisioning(`network ${running.map((s) => `${STEP_LABEL[s.kind]} ${s.word}`).join(', ')}`);

    for (const kind of ['nic', 'vm'] as const) {
      const step = await this.observe(c, ref.name, kind, chain);
      await this.failOnFailed(c, ref.name, [step], chain);
      if (step.state === 'absent') {
        if (!chain) return this.incomplete(ref, c.subscriptionId, kind);
        await this.start(c, chain, kind);
        return provisioning(`creating the ${STEP_LABEL[kind]}`);
      }
      if (step.state === 'running') return provisioning(`${STEP_LABEL[kind]} ${step.word}`);
    }
    const ip = network.find((s) => s.kind === 'ip')?.ip;
    if (!ip) return provisioning('public IP has no address yet');
    return this.host(ref.name, c.subscriptionId, region, { status: 'active', providerStatus: 'Succeeded', ip });
  }

  async delete(ref: HostRef): Promise<'done' | 'pending'> {
    const c = await this.clients(ref);
    const groups = await this.groups(c, `tagName eq '${NAME_TAG}' and tagValue eq '${ref.name.replace(/'/g, "''")}'`);
    if (groups.length === 0) {
      this.chains.delete(ref.name);
      return 'done';
    }
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

  /** Starts one step's PUT (see the file comment); errors after Azure accepted it are left to status. */
  private async start(c: AzureClients, chain: Chain, kind: StepKind): Promise<void> {
    const { req, subscriptionId } = chain;
    const group = groupName(req.name);
    const name = resourceName[kind](req.name);
    const what = `PUT ${STEP_LABEL[kind]} ${name}`;
    const accepted = { value: false };
    const onResponse = acceptance(accepted, (url) => chain.operations.set(kind, url));
    const n = c.network;
    try {
      let done: { status?: string; result?: { provisioningState?: string; ipAddress?: string } } | undefined;
      if (kind === 'vm') {
        const poller = c.compute.virtualMachines.createOrUpdate(group, name, virtualMachineBody(req, subscriptionId), { onResponse });
        await poller.submitted(); // the initial PUT only; never awaited as a whole (that would wait)
      } else if (kind === 'vnet') {
        done = (await n.virtualNetworks.beginCreateOrUpdate(group, name, virtualNetworkBody(req), { onResponse })).getOperationState();
      } else if (kind === 'ip') {
        done = (await n.publicIPAddresses.beginCreateOrUpdate(group, name, publicIpBody(req), { onResponse })).getOperationState();
      } else if (kind === 'nsg') {
        done = (await n.networkSecurityGroups.beginCreateOrUpdate(group, name, securityGroupBody(req), { onResponse })).getOperationState();
      } else {
        done = (await n.networkInterfaces.beginCreateOrUpdate(group, name, networkInterfaceBody(req, subscriptionId), { onResponse })).getOperationState();
      }
      if (done?.status === 'succeeded' && done.result?.provisioningState === 'Succeeded' && (kind !== 'ip' || done.result.ipAddress)) {
        chain.done.set(kind, { ip: done.result.ipAddress });
      }
    } catch (err) {
      if (!accepted.value) throw azureError(err, what, this.settings.timeoutMs);
    }
  }

  /** One GET of a step's resource (unless it was seen Succeeded before). */
  private async observe(c: AzureClients, name: string, kind: StepKind, chain: Chain | undefined): Promise<StepState> {
    const known = chain?.done.get(kind);
    if (known) return { kind, state: 'succeeded', word: 'Succeeded', ip: known.ip };
    const group = groupName(name);
    const rname = resourceName[kind](name);
    let resource: { provisioningState?: string; ipAddress?: string };
    try {
      resource = await this.read(c, group, rname, kind);
    } catch (err) {
      if (!isNotFound(err)) throw azureError(err, `GET ${STEP_LABEL[kind]} ${rname}`, this.settings.timeoutMs);
      if (azureCodeOf(err) === 'ResourceGroupNotFound') throw new ProviderError(PROVIDER, 'NOT_FOUND', `resource group ${group} does not exist`);
      return { kind, state: 'absent' };
    }
    const word = resource.provisioningState ?? 'unknown';
    if (word === 'Failed') return { kind, state: 'failed', word };
    if (word !== 'Succeeded' || (kind === 'ip' && !resource.ipAddress)) return { kind, state: 'running', word };
    chain?.done.set(kind, { ip: resource.ipAddress });
    return { kind, state: 'succeeded', word, ip: resource.ipAddress };
  }

  private read(c: AzureClients, group: string, name: string, kind: StepKind): Promise<{ provisioningState?: string; ipAddress?: string }> {
    switch (kind) {
      case 'vnet':
        return c.network.virtualNetworks.get(group, name);
      case 'ip':
        return c.network.publicIPAddresses.get(group, name);
      case 'nsg':
        return c.network.networkSecurityGroups.get(group, name);
      case 'nic':
        return c.network.networkInterfaces.get(group, name);
      case 'vm':
        return c.compute.virtualMachines.get(group, name);
    }
  }

  /** Throws CREATE_FAILED for the first Failed step, with Azure's reason when it can be read. */
  private async failOnFailed(c: AzureClients, name: string, steps: StepState[], chain: Chain | undefined): Promise<void> {
    const failed = steps.find((s) => s.state === 'failed');
    if (!failed) return;
    const rname = resourceName[failed.kind](name);
    let reason: string | undefined;
    const operation = chain?.operations.get(failed.kind);
    if (operation) {
      const body = await getJson(c.resources, operation, this.settings, 'GET operation status').catch(() => undefined);
      const { code, message } = readAzureError((body as { error?: unknown } | undefined)?.error ?? {});
      if (code || message) reason = `${code ?? 'error'}: ${message ?? ''}`.trim();
    }
    if (!reason && failed.kind === 'vm') {
      const vm = await c.compute.virtualMachines.get(groupName(name), rname, { expand: 'instanceView' }).catch(() => undefined);
      const status = vm?.instanceView?.statuses?.find((s) => s.level === 'Error');
      if (status) reason = `${status.code ?? 'error'}: ${status.message ?? status.displayStatus ?? ''}`.trim();
    }
    throw new ProviderError(PROVIDER, 'CREATE_FAILED', `Azure could not create the ${STEP_LABEL[failed.kind]} ${rname} in ${groupName(name)}: ${reason ?? 'provisioningState Failed'}`, {
      retryable: false,
    });
  }

  /** A step is missing and this process has no request to make it from (create was interrupted). */
  private incomplete(ref: HostRef, subscriptionId: string, kind: StepKind): Host {
    return this.host(ref.name, subscriptionId, ref.region, { status: 'error', providerStatus: `incomplete: no ${STEP_LABEL[kind]} (create was interrupted); delete it` });
  }

  private async describeGroup(c: AzureClients, g: ResourceGroup): Promise<Host> {
    const name = g.tags?.[NAME_TAG] ?? g.name!.replace(/^inletsctl-/, '');
    if (g.properties?.provisioningState === 'Deleting') return this.host(name, c.subscriptionId, g.location, { status: 'deleting', providerStatus: 'group Deleting' });
    const optional = async <T>(what: string, get: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await get();
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw azureError(err, what, this.settings.timeoutMs);
      }
    };
    const [vm, ip] = await Promise.all([
      optional(`GET VM ${name}`, () => c.compute.virtualMachines.get(g.name!, resourceName.vm(name))),
      optional(`GET public IP ${resourceName.ip(name)}`, () => c.network.publicIPAddresses.get(g.name!, resourceName.ip(name))),
    ]);
    return this.host(name, c.subscriptionId, g.location, {
      status: mapVmState(vm?.provisioningState),
      providerStatus: vm ? `VM ${vm.provisioningState ?? 'unknown'}` : 'no VM yet',
      ip: ip?.ipAddress,
      createdAt: vm?.timeCreated?.toISOString(),
    });
  }

  /** Resource groups matching an ARM tag filter (all pages), that inletsctl created. */
  private async groups(c: AzureClients, filter: string): Promise<ResourceGroup[]> {
    const out: ResourceGroup[] = [];
    try {
      for await (const g of c.resources.resourceGroups.list({ filter })) {
        if (g.tags?.[SHARED_TAG] === 'true' && g.name) out.push(g);
      }
    } catch (err) {
      throw azureError(err, 'GET resourceGroups', this.settings.timeoutMs);
    }
    return out;
  }

  private host(name: string, subscriptionId: string, region: string | undefined, fields: Pick<Host, 'status' | 'providerStatus'> & Partial<Host>): Host {
    return { name, id: groupName(name), region, data: { subscriptionId }, ...fields };
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

/**
 * An `onResponse` callback noting whether Azure accepted the first request of an operation (2xx)
 * and where its status can be read (Azure-AsyncOperation, else Location).
 */
function acceptance(accepted: { value: boolean }, onOperation?: (url: string) => void): (raw: RawResponse) => void {
  let first = true;
  return (raw) => {
    if (!first) return; // later calls are the SDK's status reads
    first = false;
    const status = Number(raw.status);
    if (status < 200 || status > 299) return;
    accepted.value = true;
    const url = responseHeader(raw.headers, 'azure-asyncoperation') ?? responseHeader(raw.headers, 'location');
    if (url) onOperation?.(url);
  };
}

/** Waits for every promise (none is left running), then throws the first failure. */
async function settleAll(work: Array<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
