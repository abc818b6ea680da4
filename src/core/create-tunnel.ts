/**
 * `create`, the product's main job: plan (name, token, TLS key, user-data), record in state, ask
 * the provider for a VM, wait until it is active, wait until the tunnel server answers, and on any
 * failure after the provider was called, delete everything again (unless told to keep it).
 *
 * Before anything is made, the provider's list is asked whether a host of that name (with our mark)
 * exists already: then create refuses. The state record is written BEFORE provider.create, with the
 * tunnel id every resource will carry, so an interrupted run can always be cleaned up with
 * `inletsctl delete NAME`, which removes only what carries that tunnel id.
 */
import { randomBytes } from 'node:crypto';
import { CodedError, ProviderError, UsageError, type ProviderErrorCode } from '../errors.js';
import { checkUserDataSize, renderWithin } from './user-data/render.js';
import type { HttpsInput } from './user-data/exit-node-plan.js';
import { deliverServer } from './deliver-server.js';
import { tunnelTls } from './tunnel-tls.js';
import { deleteCommandFor } from './connection-info.js';
import { deleteHost } from './delete-tunnel.js';
import { cannotHaveReachedCloud } from './reachability.js';
import { asProviderError, formatDuration, poll, retryCall } from './poller.js';
import type { Progress } from './progress.js';
import type { CreateRequest, Host, HostRef, Provider, ProviderDescription } from './provider.js';
import { waitUntilReady, type ReadinessOptions, type ServerStatus } from './readiness.js';
import type { StateStore, TunnelRecord } from './state-store.js';

export interface PlanInput {
  name: string;
  description: ProviderDescription;
  region: string;
  plan: string;
  image: string;
  zone?: string;
  controlPort: number;
  ports: number[];
  /** HTTPS mode (the http server with Let's Encrypt for these domains); absent: TCP mode. */
  https?: HttpsInput & { httpPort: number; httpsPort: number };
  firewall: boolean;
  /** The tunnel token; a 256-bit random hex token when undefined. */
  token?: string;
  apiUrl?: string;
  options: Record<string, string | number | boolean>;
  /**
   * ISO 8601 expiry (`--ttl`): recorded in state, marked on the host, and a node this run makes
   * powers off then (not a server the user already has: `placement: false`).
   */
  expiresAt?: string;
}

/** Everything decided before any API call; `dry-run` prints it. Holds secrets. */
export interface TunnelPlan {
  record: TunnelRecord;
  request: CreateRequest;
  /** The user-data's limit at this provider, in bytes. */
  userDataLimitBytes: number;
  /** A staged start (PROTOCOL.md §15): the server create delivers to the node's control port. */
  stagedServer?: Buffer;
}

/** Makes the token, TLS key and certificate, and renders the user-data; checks its size. */
export function planTunnel(input: PlanInput): TunnelPlan {
  const token = input.token ?? randomBytes(32).toString('hex');
  const tunnelId = newTunnelId();
  const tls = tunnelTls({ name: input.name, tunnelId });
  const { format, binary, limitBytes } = input.description.userData;
  // The power-off timer only on machines this run makes: a server the user already has (placement
  // false: ssh) is never powered off; its expiry is still recorded and marked, for prune.
  const powerOffAt = input.description.placement === false ? undefined : input.expiresAt;
  const https = input.https;
  const { userData, stagedServer: stagedServerBytes } = renderWithin(
    { mode: https ? 'https' : 'tcp', https, token, tls: { certPem: tls.certPem, keyPem: tls.keyPem }, controlPort: input.controlPort, format, binary, expiresAt: powerOffAt },
    limitBytes,
  );
  checkUserDataSize(userData, limitBytes, input.description.name);
  const now = new Date().toISOString();
  const record: TunnelRecord = {
    name: input.name,
    tunnelId,
    provider: input.description.name,
    region: input.region,
    plan: input.plan,
    image: input.image,
    zone: input.zone,
    status: 'creating',
    token,
    pin: tls.pin,
    controlPort: input.controlPort,
    ports: input.ports,
    ...(https && { mode: 'https' as const, domains: https.domains, httpPort: https.httpPort, httpsPort: https.httpsPort }),
    ...(stagedServerBytes && { staged: true }),
    apiUrl: input.apiUrl,
    options: Object.keys(input.options).length ? input.options : undefined,
    expiresAt: input.expiresAt,
    createdAt: now,
    updatedAt: now,
  };
  const request: CreateRequest = {
    name: input.name,
    tunnelId,
    region: input.region,
    plan: input.plan,
    image: input.image,
    zone: input.zone,
    userData,
    controlPort: input.controlPort,
    ports: input.ports,
    openPorts: portsToOpen(input.controlPort, https ? [...input.ports, https.httpPort, https.httpsPort] : input.ports),
    expiresAt: input.expiresAt,
    firewall: input.firewall,
  };
  return { record, request, userDataLimitBytes: limitBytes, stagedServer: stagedServerBytes };
}

/** A tunnel id: 48 random bits as 12 lowercase hex characters (fits every cloud's tag/label rules). */
export function newTunnelId(): string {
  return randomBytes(6).toString('hex');
}

/** The ports a firewall opens: the control port and the data ports, sorted, once each. */
export function portsToOpen(controlPort: number, ports: number[]): number[] {
  return [...new Set([controlPort, ...ports])].sort((a, b) => a - b);
}

export interface CreateOptions {
  /** First polling interval, in milliseconds. */
  pollMs: number;
  /** Limit for the VM to become active and the tunnel to answer, together, in milliseconds. */
  timeoutMs: number;
  /** Limit for deleting after a failure, in milliseconds (`--cleanup-timeout`). Default 2 minutes. */
  cleanupTimeoutMs?: number;
  /** Limit for the name check (the provider's list) before anything is made, in ms. Default 20 s. */
  nameCheckTimeoutMs?: number;
  /** Called when clean-up starts (the CLI then lets the next signal stop clean-up). */
  onCleanup?: () => void;
  keepOnFailure: boolean;
  /** Aborted on the first Ctrl-C / SIGTERM: stop waiting and clean up. */
  signal: AbortSignal;
  /** Aborted on the second: stop cleaning up, keep the state record. */
  cleanupSignal: AbortSignal;
  /** An extra last step (`--test`); a failure there is a failure of create. */
  finalCheck?: (record: TunnelRecord) => Promise<unknown>;
}

/** Milliseconds per phase. */
export interface CreateTimings {
  apiMs: number;
  activeMs: number;
  readyMs: number;
  testMs?: number;
  totalMs: number;
}

export interface CreatedTunnel {
  record: TunnelRecord;
  server: ServerStatus;
  timings: CreateTimings;
  /** What `finalCheck` returned. */
  check?: unknown;
}

/**
 * Creates the tunnel of `plan` and waits until it works.
 * @throws the first error, with a note saying what was cleaned up or kept. After a failure
 *   nothing is left at the provider nor in state, unless `keepOnFailure` or cleanup failed (then
 *   the record stays, status 'failed', and the message gives the delete command).
 */
export async function createTunnel(plan: TunnelPlan, provider: Provider, store: StateStore, progress: Progress, options: CreateOptions): Promise<CreatedTunnel> {
  const { record, request } = plan;
  const providerName = record.provider;
  const started = Date.now();
  let ref: HostRef = { name: record.name, tunnelId: record.tunnelId, region: record.region };
  await refuseTakenName(provider, providerName, record.name, progress, options);
  let phase = 'recording the tunnel in state';
  let createCalled = false;
  await store.insert(record);
  try {
    throwIfAborted(options.signal);

    phase = 'creating the VM';
    progress.start(`Creating ${record.name} at ${providerName} (${record.region}, ${record.plan})`);
    createCalled = true;
    const created = await retryCall(() => provider.create(request), {
      what: `${providerName} to accept the create request`,
      timeoutMs: options.timeoutMs,
      intervalMs: options.pollMs,
      // An abort is noticed between attempts only: a create in flight is always awaited, so its id is kept.
      signal: options.signal,
      // Only a refused request (429) is safe to repeat: after a 5xx the VM may exist already.
      retryIf: (err) => err.code === 'RATE_LIMITED',
    });
    ref = mergeRef(ref, created);
    await store.patch(record.name, { status: 'provisioning', id: ref.id, ip: ref.ip, data: ref.data });
    throwIfAborted(options.signal); // interrupted while the call was in flight: its id is recorded now
    const apiMs = Date.now() - started;
    progress.succeed(`${providerName} accepted the request${ref.id ? ` (id ${ref.id})` : ''} in ${formatDuration(apiMs)}`);

    phase = 'waiting for the VM to become active';
    const deadline = Date.now() + options.timeoutMs;
    progress.start('Waiting for the VM to become active');
    const active = created.status === 'active' && created.ip ? created : await waitActive(provider, providerName, () => ref, deadline, progress, options);
    ref = mergeRef(ref, active);
    await store.patch(record.name, { status: 'active', id: ref.id, ip: ref.ip, data: ref.data });
    const activeMs = Date.now() - started - apiMs;
    progress.succeed(`VM active at ${ref.ip} after ${formatDuration(activeMs)}`);

    /** Where the node's control plane is and how long to keep at it, for delivery and readiness alike. */
    const atNode = (next: string): ReadinessOptions => ({
      ip: ref.ip!,
      controlPort: record.controlPort,
      token: record.token,
      pin: record.pin,
      timeoutMs: Math.max(deadline - Date.now(), 1),
      intervalMs: options.pollMs,
      signal: options.signal,
      onWait: ({ detail, delayMs }) => progress.update(`${detail ?? 'not yet'}; next ${next} in ${formatDuration(delayMs)}`),
    });

    if (plan.stagedServer) {
      phase = 'delivering the server to the node';
      progress.start(`Delivering the server (${plan.stagedServer.length} bytes) to ${ref.ip}:${record.controlPort}`);
      await deliverServer({ ...atNode('attempt'), bytes: plan.stagedServer });
      progress.succeed('The node took its server (SHA-256 pinned in its user-data)');
    }

    phase = 'waiting for the tunnel server to answer';
    progress.start(`Waiting for the tunnel server on ${ref.ip}:${record.controlPort}`);
    const server = await waitUntilReady(atNode('check'));
    const ready = await store.patch(record.name, { status: 'ready' });
    const readyMs = Date.now() - started - apiMs - activeMs;
    progress.succeed(`Tunnel server ${server.version} answered after ${formatDuration(readyMs)}`);

    let check: unknown;
    let testMs: number | undefined;
    if (options.finalCheck) {
      phase = 'testing the tunnel';
      progress.start('Testing the tunnel end to end');
      const t0 = Date.now();
      check = await options.finalCheck(ready);
      throwIfAborted(options.signal);
      testMs = Date.now() - t0;
      progress.succeed(`Traffic went through the tunnel in ${formatDuration(testMs)}`);
    }
    return { record: ready, server, check, timings: { apiMs, activeMs, readyMs, testMs, totalMs: Date.now() - started } };
  } catch (err) {
    progress.fail(`Failed while ${phase}`);
    // A create that never reached the cloud made nothing: forget the record, wait for nothing.
    if (!createCalled || (ref.id === undefined && cannotHaveReachedCloud(err))) {
      await store.remove(record.name);
      throw createCalled ? withNote(err, `create failed while ${phase}: ${messageOf(err)}. The request never reached ${providerName}: nothing was created.`) : err;
    }
    throw await cleanUpAfterFailure(err, phase, ref, provider, store, progress, options);
  }
}

/** Default limit of the name check, in milliseconds. */
const NAME_CHECK_TIMEOUT_MS = 20_000;

/**
 * Refuses a name the provider already has (a host with our mark and that name), before anything
 * is made or written. An API that cannot be reached fails at once (nothing to retry for).
 * @throws UsageError `NAME_TAKEN` naming the existing host(s)
 */
async function refuseTakenName(provider: Provider, providerName: string, name: string, progress: Progress, options: CreateOptions): Promise<void> {
  progress.start(`Checking that ${providerName} has no tunnel named ${name}`);
  let hosts: Host[];
  try {
    hosts = await retryCall(() => provider.list(), {
      what: `${providerName} to list its hosts`,
      // its own limit: --timeout is for the VM and the tunnel server, which a slow list must not eat into
      timeoutMs: options.nameCheckTimeoutMs ?? NAME_CHECK_TIMEOUT_MS,
      intervalMs: options.pollMs,
      signal: options.signal,
      abortInFlight: true,
      retryIf: (err) => !cannotHaveReachedCloud(err),
    });
  } catch (err) {
    progress.fail(`Could not ask ${providerName} for its hosts`);
    throw err;
  }
  const taken = hosts.filter((h) => h.name === name);
  if (taken.length) {
    progress.fail(`${providerName} has a tunnel named ${name} already`);
    const which = taken.map((h) => `id ${h.id}, ${h.providerStatus ?? h.status}${h.ip ? `, ${h.ip}` : ''}`).join('; ');
    throw new UsageError(`${providerName} already has a host named "${name}" made by inletsctl (${which}); nothing was created: choose another name, or delete it with: inletsctl delete --id ${taken[0].id} --provider ${providerName}`, 'NAME_TAKEN');
  }
  progress.succeed(`The name ${name} is free at ${providerName}`);
}

/** How long a new VM may be unknown to the status API before that counts as a failure, in ms. */
const NOT_FOUND_GRACE_MS = 60_000;

/** Polls provider.status until the VM is active with an IP; 'error' fails at once. */
async function waitActive(provider: Provider, providerName: string, ref: () => HostRef, deadline: number, progress: Progress, options: CreateOptions): Promise<Host> {
  const since = Date.now();
  return poll<Host>(
    async () => {
      let host: Host;
      try {
        host = await provider.status(ref());
      } catch (err) {
        // Some APIs answer 404 for a moment after create (eventual consistency); not for long.
        if (asProviderError(err)?.code === 'NOT_FOUND' && Date.now() - since < NOT_FOUND_GRACE_MS) return { done: false, detail: 'not visible in the API yet' };
        throw err;
      }
      if (host.status === 'error') {
        throw new ProviderError(providerName, 'CREATE_FAILED', `the VM failed to start (${host.providerStatus ?? 'error'})`);
      }
      if (host.status === 'active' && host.ip) return { done: true, value: host };
      return { done: false, detail: `status ${host.providerStatus ?? host.status}${host.ip ? '' : ', no IP yet'}` };
    },
    {
      what: 'the VM to become active',
      timeoutMs: Math.max(deadline - Date.now(), 1),
      intervalMs: options.pollMs,
      signal: options.signal,
      onWait: ({ detail, delayMs }) => progress.update(`${detail ?? 'not yet'}; next check in ${formatDuration(delayMs)}`),
    },
  );
}

/** Default limit of the clean-up after a failed create (`--cleanup-timeout`), in milliseconds. */
export const CLEANUP_TIMEOUT_MS = 2 * 60_000;

/** Deletes what create made (or keeps it), and returns the error to throw. */
async function cleanUpAfterFailure(
  err: unknown,
  phase: string,
  ref: HostRef,
  provider: Provider,
  store: StateStore,
  progress: Progress,
  options: CreateOptions,
): Promise<unknown> {
  const name = ref.name;
  if (options.keepOnFailure) {
    await store.patch(name, { status: 'failed' }).catch(() => undefined);
    return withNote(err, `create failed while ${phase}: ${messageOf(err)}. Kept because of --keep-on-failure; delete it with: ${deleteCommandFor(name)}`);
  }
  const limitMs = options.cleanupTimeoutMs ?? CLEANUP_TIMEOUT_MS;
  options.onCleanup?.();
  progress.start(`Deleting everything created for ${name} (tunnel id ${ref.tunnelId ?? 'none'}; at most ${formatDuration(limitMs)}, Ctrl-C stops)`);
  const cleanupStarted = Date.now();
  try {
    await store.patch(name, { status: 'deleting' });
    await deleteHost(provider, ref, {
      intervalMs: options.pollMs,
      timeoutMs: limitMs,
      signal: options.cleanupSignal,
      onWait: ({ detail, delayMs }) =>
        progress.update(`${detail ?? 'not yet'}; ${formatDuration(Date.now() - cleanupStarted)} of at most ${formatDuration(limitMs)}; next check in ${formatDuration(delayMs)}`),
    });
    await store.remove(name);
    progress.succeed(`Deleted everything created for ${name}`);
  } catch (cleanupErr) {
    progress.fail(`Could not delete everything created for ${name}`);
    await store.patch(name, { status: 'failed' }).catch(() => undefined);
    return withNote(
      err,
      `create failed while ${phase}: ${messageOf(err)}. Cleaning up failed too (${messageOf(cleanupErr)}); the tunnel is kept in state: delete it with: ${deleteCommandFor(name)}`,
    );
  }
  return withNote(err, `create failed while ${phase}: ${messageOf(err)}. Everything it created has been deleted.`);
}

function mergeRef(ref: HostRef, host: Partial<Host>): HostRef {
  return {
    name: ref.name,
    // The tunnel id is ours, made at plan time: what the cloud reports never replaces it.
    tunnelId: ref.tunnelId,
    id: host.id ?? ref.id,
    ip: host.ip ?? ref.ip,
    region: host.region ?? ref.region,
    data: host.data ? { ...ref.data, ...host.data } : ref.data,
  };
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason ?? new CodedError('INTERRUPTED', 'interrupted');
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The same kind of error (so the exit code and `code` stay), with a new message. */
function withNote(err: unknown, message: string): Error {
  const providerError = asProviderError(err);
  if (providerError) {
    const { provider, code, status, retryable } = providerError;
    return new ProviderError(provider, code as ProviderErrorCode, message, { status, retryable, cause: err });
  }
  if (err instanceof UsageError) return new UsageError(message, err.code);
  const code = (err as { code?: unknown } | null)?.code;
  return new CodedError(typeof code === 'string' ? code : 'CREATE_FAILED', message, { cause: err });
}

