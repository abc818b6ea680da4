/**
 * Deleting: find what to delete (by name from state; by id through the provider's status, which
 * reads the instance's marks; by name or IP through the provider's list), then call
 * provider.delete through the shared poller until it answers 'done'. What is deleted is always
 * an instance id and a tunnel id, never a name: see the contract in provider.ts.
 */
import { CodedError, ProviderError, UsageError, type ProviderErrorCode } from '../errors.js';
import { cannotHaveReachedCloud } from './reachability.js';
import { asProviderError, poll, retryCall, type PollOptions } from './poller.js';
import type { Host, HostRef, Provider } from './provider.js';
import type { TunnelRecord } from './state-store.js';

export interface DeleteWaitOptions {
  /** First interval in milliseconds. Default 2000. */
  intervalMs?: number;
  /** Overall limit in milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal;
  onWait?: PollOptions['onWait'];
}

/**
 * Repeats `provider.delete(ref)` until it answers 'done'. A NOT_FOUND answer counts as done (the
 * contract asks providers to be idempotent; this guards the ones that are not).
 * @throws CodedError `TIMEOUT` when resources are still there after `timeoutMs`.
 */
export async function deleteHost(provider: Provider, ref: HostRef, options: DeleteWaitOptions): Promise<void> {
  await poll<void>(
    async () => {
      try {
        const step = await provider.delete(ref);
        return step === 'done' ? { done: true, value: undefined } : { done: false, detail: 'resources are still being removed' };
      } catch (err) {
        const providerError = asProviderError(err);
        if (providerError?.code === 'NOT_FOUND') return { done: true, value: undefined };
        // An API that cannot be reached will not be reached by waiting: say so now, not at the limit.
        if (providerError && cannotHaveReachedCloud(err)) {
          throw new ProviderError(providerError.provider, providerError.code as ProviderErrorCode, providerError.message, { status: providerError.status, retryable: false, cause: err });
        }
        throw err;
      }
    },
    {
      what: `"${ref.name}" to be deleted`,
      intervalMs: options.intervalMs,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      // A hung delete call must not hold up a Ctrl-C or the limit: deleting again is safe.
      abortInFlight: true,
      onWait: options.onWait,
    },
  );
}

/** The HostRef of a recorded tunnel. */
export function refOf(record: TunnelRecord): HostRef {
  return { name: record.name, tunnelId: record.tunnelId, id: record.id, ip: record.ip, region: record.region, data: record.data };
}

/** What the user asked to delete: exactly one of these is set. */
export interface DeleteTarget {
  name?: string;
  id?: string;
  ip?: string;
}

/** A recorded tunnel matching the target, if any. */
export function findInState(records: TunnelRecord[], target: DeleteTarget, provider?: string): TunnelRecord | undefined {
  return records.find(
    (r) =>
      (provider === undefined || r.provider === provider) &&
      ((target.name !== undefined && r.name === target.name) ||
        (target.id !== undefined && r.id === target.id) ||
        (target.ip !== undefined && r.ip === target.ip)),
  );
}

/** Default limit for finding a host at the provider (`list` and lookups of `delete`), in ms. */
export const LOOKUP_TIMEOUT_MS = 20_000;

/**
 * Finds the target at the provider: an id through `status` (so its own marks give the tunnel id),
 * a name or IP through `list`.
 * @returns the ref to delete: exactly that instance and what carries its tunnel id
 * @throws CodedError `NOT_FOUND` when nothing matches; UsageError `AMBIGUOUS` (exit 2) listing ids
 *   and states when several hosts match a name or IP
 */
export async function findInProvider(
  provider: Provider,
  providerName: string,
  target: DeleteTarget,
  options: { timeoutMs: number; signal?: AbortSignal; onWait?: PollOptions['onWait'] },
): Promise<HostRef> {
  const call = { timeoutMs: options.timeoutMs, signal: options.signal, onWait: options.onWait, abortInFlight: true, retryIf: (err: { code: string }) => err.code !== 'NOT_FOUND' && !cannotHaveReachedCloud(err) };
  if (target.id !== undefined) {
    let host: Host;
    try {
      host = await retryCall(() => provider.status({ name: target.id!, id: target.id }), { ...call, what: `${providerName} to look up id ${target.id}` });
    } catch (err) {
      if (asProviderError(err)?.code === 'NOT_FOUND') throw new CodedError('NOT_FOUND', `no host with id ${target.id} in state or at ${providerName}`);
      throw err;
    }
    return refOfHost(host);
  }
  const hosts = await retryCall(() => provider.list(), { ...call, what: `${providerName} to list its hosts` });
  const matches = hosts.filter((h) => (target.name !== undefined && h.name === target.name) || (target.ip !== undefined && h.ip === target.ip));
  const what = target.name !== undefined ? `named "${target.name}"` : `with IP ${target.ip}`;
  if (matches.length === 0) throw new CodedError('NOT_FOUND', `no tunnel ${what} in state or at ${providerName}`);
  if (matches.length > 1) {
    const rows = matches.map((h) => `  --id ${h.id}  (${h.providerStatus ?? h.status}${h.ip ? `, ${h.ip}` : ''}${h.createdAt ? `, created ${h.createdAt}` : ''})`).join('\n');
    throw new UsageError(`${matches.length} hosts at ${providerName} are ${what}, and no state record says which is meant; nothing was deleted. Choose one with --id:\n${rows}`, 'AMBIGUOUS');
  }
  return refOfHost(matches[0]);
}

/** What to delete for a host the provider reported: its id and the tunnel id of its marks. */
export function refOfHost(host: Host): HostRef {
  return { name: host.name, tunnelId: host.tunnelId, id: host.id, ip: host.ip, region: host.region, data: host.data };
}
