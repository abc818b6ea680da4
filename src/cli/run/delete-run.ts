/**
 * `inletsctl delete`: find the tunnel (state first, then the provider's own list), confirm on a
 * terminal, delete until the provider says nothing is left, then forget it in state.
 */
import { CodedError, UsageError } from '../../errors.js';
import { LOOKUP_TIMEOUT_MS, deleteHost, findInProvider, findInState, refOf, type DeleteTarget } from '../../core/delete-tunnel.js';
import { parseDuration } from '../../core/duration.js';
import { printJson, printText } from '../../core/output.js';
import { formatDuration } from '../../core/poller.js';
import { createProgress } from '../../core/progress.js';
import type { HostRef } from '../../core/provider.js';
import { registry } from '../../core/registry.js';
import { StateStore, configDir } from '../../core/state-store.js';
import { askConfirm, isInteractive } from './interactive.js';
import { buildProviderContext } from './provider-context.js';
import { onInterrupt } from './signals.js';

export async function runDelete(args: Record<string, unknown>): Promise<void> {
  const json = args.json === true;
  const yes = args.yes === true;
  const interactive = isInteractive();
  const target: DeleteTarget = { name: str(args.name), id: str(args.id), ip: str(args.ip) };
  const what = target.name ?? (target.id ? `id ${target.id}` : `IP ${target.ip}`);
  if (!yes && !interactive) {
    throw new UsageError(`refusing to delete ${what} without confirmation: stdin is not a terminal; add --yes`, 'CONFIRMATION_REQUIRED');
  }
  const pollMs = parseDuration(args.poll as string, 'poll');
  const timeoutMs = parseDuration(args.timeout as string, 'timeout');
  const reg = registry();
  const store = new StateStore(configDir());
  const providerFlag = str(args.provider);
  const record = findInState(await store.list(), target, providerFlag);
  const providerName = record?.provider ?? providerFlag;
  if (!providerName) {
    throw new UsageError(`no tunnel with ${target.name ? `name "${target.name}"` : what} in ${store.path}; to delete one made elsewhere, add --provider`, 'NOT_IN_STATE');
  }
  const description = reg.describe(providerName);
  // Confirm before asking for a cloud token: someone who answers no should not have typed a secret.
  if (!yes) {
    const place = record ? `${record.name} at ${providerName}${record.ip ? ` (${record.ip})` : ''}` : `${what} at ${providerName}`;
    if (!(await askConfirm(`Delete ${place} and everything created with it?`))) {
      throw new CodedError('DECLINED', 'not confirmed: nothing was deleted');
    }
  }
  const context = await buildProviderContext(description, args, { record, interactive, needCredentials: true });
  if (context.missing.length) throw new UsageError(`missing ${context.missing.join('; ')}`, 'MISSING_VALUES');
  const provider = await reg.instantiate(providerName, context.ctx);

  const abort = new AbortController();
  const stopListening = onInterrupt((signal) => abort.abort(new CodedError('INTERRUPTED', `interrupted by ${signal}; run the same delete again to finish`)));
  const progress = await createProgress();
  try {
    let ref: HostRef;
    if (record) {
      ref = refOf(record);
    } else {
      const lookupMs = Math.min(timeoutMs, LOOKUP_TIMEOUT_MS);
      progress.start(`Looking for ${what} at ${providerName} (at most ${formatDuration(lookupMs)})`);
      try {
        ref = await findInProvider(provider, providerName, target, {
          timeoutMs: lookupMs,
          signal: abort.signal,
          onWait: ({ detail, delayMs }) => progress.update(`${detail ?? 'not yet'}; next check in ${formatDuration(delayMs)}`),
        });
      } catch (err) {
        progress.fail(`Could not find ${what} at ${providerName}`);
        throw err;
      }
      progress.succeed(`Found ${ref.name} (id ${ref.id}${ref.tunnelId ? `, tunnel id ${ref.tunnelId}` : ', made before tunnel ids: deleting exactly this instance'}${ref.ip ? `, ${ref.ip}` : ''})`);
    }
    const started = Date.now();
    if (record) await store.patch(record.name, { status: 'deleting' });
    progress.start(`Deleting ${ref.name} at ${providerName}`);
    await deleteHost(provider, ref, {
      intervalMs: pollMs,
      timeoutMs,
      signal: abort.signal,
      onWait: ({ detail, delayMs }) => progress.update(`${detail ?? 'not yet'}; next check in ${formatDuration(delayMs)}`),
    });
    // Forget it in state: the record found, or records of this very host (same id or tunnel id), never others of its name.
    const gone = (t: { name: string; provider: string; id?: string; tunnelId?: string }) =>
      t.provider === providerName && (record ? t.name === record.name : (ref.id !== undefined && t.id === ref.id) || (ref.tunnelId !== undefined && t.tunnelId === ref.tunnelId));
    await store.update((tunnels) => tunnels.filter((t) => !gone(t)));
    const ms = Date.now() - started;
    progress.succeed(`Deleted ${ref.name} in ${formatDuration(ms)}`);
    progress.stop();
    if (json) printJson({ deleted: true, name: ref.name, provider: providerName, id: ref.id, tunnelId: ref.tunnelId, ip: ref.ip, durationMs: ms });
    else printText(`Deleted ${ref.name} (${providerName}${ref.ip ? `, ${ref.ip}` : ''}) and everything created with it.`);
  } finally {
    stopListening();
    progress.stop();
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
