/**
 * Deleting: find what to delete (by name from state, or by id or IP through the provider's list),
 * then call provider.delete through the shared poller until it answers 'done'.
 */
import { CodedError } from '../errors.js';
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
        if (asProviderError(err)?.code === 'NOT_FOUND') return { done: true, value: undefined };
        throw err;
      }
    },
    { what: `"${ref.name}" to be deleted`, intervalMs: options.intervalMs, timeoutMs: options.timeoutMs, signal: options.signal, onWait: options.onWait },
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

/**
 * Finds the target among the hosts the provider reports (by tag or label).
 * @throws CodedError `NOT_FOUND` when none matches; `AMBIGUOUS` when several do.
 */
export async function findInProvider(
  provider: Provider,
  providerName: string,
  target: DeleteTarget,
  options: { timeoutMs: number; signal?: AbortSignal; onWait?: PollOptions['onWait'] },
): Promise<Host> {
  const hosts = await retryCall(() => provider.list(), { what: `${providerName} to list its hosts`, timeoutMs: options.timeoutMs, signal: options.signal, onWait: options.onWait });
  const matches = hosts.filter(
    (h) => (target.name !== undefined && h.name === target.name) || (target.id !== undefined && h.id === target.id) || (target.ip !== undefined && h.ip === target.ip),
  );
  const what = target.name !== undefined ? `named "${target.name}"` : target.id !== undefined ? `with id ${target.id}` : `with IP ${target.ip}`;
  if (matches.length === 0) throw new CodedError('NOT_FOUND', `no tunnel ${what} in state or at ${providerName}`);
  if (matches.length > 1) throw new CodedError('AMBIGUOUS', `${matches.length} hosts at ${providerName} match ${what}: ${matches.map((h) => h.id).join(', ')}; delete by --id`);
  return matches[0];
}
