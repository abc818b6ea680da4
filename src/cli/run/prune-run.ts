/**
 * `inletsctl prune`: lists expired tunnels (state, then each provider state names), confirms, and
 * deletes them one by one through the normal delete path. A failure to delete one does not stop
 * the others; the command then fails naming each.
 */
import { CodedError, UsageError } from '../../errors.js';
import { deleteHost } from '../../core/delete-tunnel.js';
import { parseDuration } from '../../core/duration.js';
import type { ProviderListing } from '../../core/list-tunnels.js';
import { formatTable, printJson, printText, warn } from '../../core/output.js';
import { formatDuration, retryCall } from '../../core/poller.js';
import { createProgress } from '../../core/progress.js';
import type { Provider } from '../../core/provider.js';
import { findExpired, type PruneCandidate } from '../../core/prune.js';
import { cannotHaveReachedCloud } from '../../core/reachability.js';
import { registry } from '../../core/registry.js';
import { usableRecords } from '../../core/state-records.js';
import { StateStore, configDir, type TunnelRecord } from '../../core/state-store.js';
import { withDetails } from '../error-details.js';
import { askConfirm, isInteractive } from './interactive.js';
import { buildProviderContext } from './provider-context.js';
import { onInterrupt } from './signals.js';

export async function runPrune(args: Record<string, unknown>): Promise<void> {
  const json = args.json === true;
  const dryRun = args['dry-run'] === true;
  const pollMs = parseDuration(args.poll as string, 'poll');
  const timeoutMs = parseDuration(args.timeout as string, 'timeout');
  if (!dryRun && args.yes !== true && !isInteractive()) {
    throw new UsageError('refusing to prune without confirmation: stdin is not a terminal; add --yes (or look first with --dry-run)', 'CONFIRMATION_REQUIRED');
  }
  const store = new StateStore(configDir());
  const checked = usableRecords(await store.list(), store.path);
  checked.warnings.forEach((w) => warn(w));
  const providerFlag = typeof args.provider === 'string' ? args.provider : undefined;
  const records = checked.records.filter((r) => !providerFlag || r.provider === providerFlag);
  const names = providerFlag ? [providerFlag] : [...new Set(records.map((r) => r.provider))];

  const providers = new Map<string, Provider>();
  const listings = new Map<string, ProviderListing>();
  for (const name of names) {
    try {
      const provider = await providerFor(name, args, records.find((r) => r.provider === name));
      providers.set(name, provider);
      // As list does (v2): a hung call is dropped at the limit, and an unreachable API fails at once.
      const hosts = await retryCall(() => provider.list(), { what: `${name} to list its hosts`, timeoutMs, abortInFlight: true, retryIf: (err) => !cannotHaveReachedCloud(err) });
      listings.set(name, { hosts });
    } catch (err) {
      listings.set(name, { error: err instanceof Error ? err.message : String(err) });
      warn(`could not list ${name} (only its tunnels in state are pruned): ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const candidates = findExpired(records, listings, Date.now());
  const providerErrors = Object.fromEntries([...listings].flatMap(([n, l]) => ('error' in l ? [[n, l.error]] : [])));
  const summary = (c: PruneCandidate) => ({ name: c.name, provider: c.provider, id: c.ref.id, ip: c.ref.ip, expiresAt: c.expiresAt, from: c.from });

  if (dryRun || candidates.length === 0) {
    if (json) printJson({ dryRun, wouldDelete: dryRun ? candidates.map(summary) : [], deleted: [], providerErrors });
    else printText(candidates.length ? `Would delete (dry run, nothing deleted):\n${table(candidates)}` : 'No expired tunnels.');
    return;
  }
  if (args.yes !== true) {
    process.stderr.write(`${table(candidates)}\n`);
    if (!(await askConfirm(`Delete these ${candidates.length} expired tunnels and everything created with them?`))) {
      throw new CodedError('DECLINED', 'not confirmed: nothing was deleted');
    }
  }

  const abort = new AbortController();
  const stopListening = onInterrupt((signal) => abort.abort(new CodedError('INTERRUPTED', `interrupted by ${signal}; run prune again to finish`)));
  const progress = await createProgress();
  const deleted: ReturnType<typeof summary>[] = [];
  const failed: (ReturnType<typeof summary> & { error: string })[] = [];
  try {
    for (const c of candidates) {
      let provider = providers.get(c.provider);
      try {
        provider ??= await providerFor(c.provider, args, c.record);
        progress.start(`Deleting ${c.name} at ${c.provider} (expired ${c.expiresAt})`);
        if (c.record) await store.patch(c.record.name, { status: 'deleting' });
        await deleteHost(provider, c.ref, {
          intervalMs: pollMs,
          timeoutMs,
          signal: abort.signal,
          onWait: ({ detail, delayMs }) => progress.update(`${detail ?? 'not yet'}; next check in ${formatDuration(delayMs)}`),
        });
        if (c.record) await store.update((tunnels) => tunnels.filter((t) => !(t.name === c.name && t.provider === c.provider)));
        progress.succeed(`Deleted ${c.name}`);
        deleted.push(summary(c));
      } catch (err) {
        if (abort.signal.aborted) throw err;
        progress.fail(`Could not delete ${c.name}`);
        failed.push({ ...summary(c), error: err instanceof Error ? err.message : String(err) });
      }
    }
  } finally {
    stopListening();
    progress.stop();
  }
  if (failed.length) {
    const err = new CodedError('PRUNE_INCOMPLETE', `deleted ${deleted.length} of ${candidates.length} expired tunnels; not: ${failed.map((f) => `${f.name} (${f.error})`).join('; ')}`);
    throw withDetails(err, { deleted, failed });
  }
  if (json) printJson({ dryRun: false, deleted, providerErrors });
  else printText(`Deleted ${deleted.length} expired tunnel${deleted.length === 1 ? '' : 's'}: ${deleted.map((d) => d.name).join(', ')}`);
}

async function providerFor(name: string, args: Record<string, unknown>, record: TunnelRecord | undefined): Promise<Provider> {
  const reg = registry();
  const description = reg.describe(name);
  const context = await buildProviderContext(description, args, { record, interactive: false, needCredentials: true });
  if (context.missing.length) throw new UsageError(`missing ${context.missing.join('; ')}`, 'MISSING_VALUES');
  return reg.instantiate(name, context.ctx);
}

function table(candidates: PruneCandidate[]): string {
  return formatTable([
    ['NAME', 'PROVIDER', 'ID', 'EXPIRED', 'FOUND IN'],
    ...candidates.map((c) => [c.name, c.provider, c.ref.id ?? '', c.expiresAt, c.from === 'state' ? 'state' : 'provider only']),
  ]);
}
