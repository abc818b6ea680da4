/** `inletsctl list`: state joined with each provider's own list, with drift marked. */
import { LOOKUP_TIMEOUT_MS } from '../../core/delete-tunnel.js';
import { parseDuration } from '../../core/duration.js';
import { formatDuration, retryCall } from '../../core/poller.js';
import { createProgress } from '../../core/progress.js';
import { cannotHaveReachedCloud } from '../../core/reachability.js';
import { joinListings, type ProviderListing } from '../../core/list-tunnels.js';
import { printJson, printText, warn } from '../../core/output.js';
import { stateModeWarning, usableRecords } from '../../core/state-records.js';
import { formatListTable } from './list-table.js';
import { registry } from '../../core/registry.js';
import { StateStore, configDir } from '../../core/state-store.js';
import { buildProviderContext } from './provider-context.js';

export async function runList(args: Record<string, unknown>): Promise<void> {
  const json = args.json === true;
  const reg = registry();
  const store = new StateStore(configDir());
  const providerFlag = typeof args.provider === 'string' ? args.provider : undefined;
  const checked = usableRecords(await store.list(), store.path);
  for (const line of [...checked.warnings, await stateModeWarning(store.path)]) if (line) warn(line);
  const records = checked.records.filter((r) => !providerFlag || r.provider === providerFlag);
  const listings = new Map<string, ProviderListing>();
  if (args['state-only'] !== true) {
    const names = providerFlag ? [providerFlag] : [...new Set(records.map((r) => r.provider))];
    const timeoutMs = args.timeout === undefined ? LOOKUP_TIMEOUT_MS : parseDuration(String(args.timeout), 'timeout');
    if (names.length) {
      // Every provider at once, each with its own limit: one slow cloud does not hold up the others.
      const progress = await createProgress();
      progress.start(`Asking ${names.join(', ')} for their hosts (at most ${formatDuration(timeoutMs)} each)`);
      try {
        const answers = await Promise.all(names.map((name) => listProvider(name, args, records.find((r) => r.provider === name), timeoutMs)));
        names.forEach((name, i) => listings.set(name, answers[i]));
        progress.succeed(`Asked ${names.join(', ')}`);
      } finally {
        progress.stop();
      }
    }
  }
  const rows = joinListings(records, listings);
  const errors = Object.fromEntries([...listings].filter(([, l]) => 'error' in l).map(([n, l]) => [n, (l as { error: string }).error]));
  if (json) {
    printJson({ statePath: store.path, tunnels: rows, providerErrors: errors });
    return;
  }
  for (const [name, error] of Object.entries(errors)) warn(`could not list ${name}: ${error}`);
  if (rows.length === 0) {
    printText(`No tunnels (state: ${store.path}). Create one: inletsctl create --provider ${reg.defaultName} --tcp`);
    return;
  }
  printText(formatListTable(rows));
}

/** One provider's hosts, or why they could not be listed (a missing credential is not fatal here). */
async function listProvider(name: string, args: Record<string, unknown>, record: Parameters<typeof buildProviderContext>[2]['record'], timeoutMs: number): Promise<ProviderListing> {
  try {
    const reg = registry();
    const description = reg.describe(name);
    const context = await buildProviderContext(description, args, { record, interactive: false, needCredentials: true });
    if (context.missing.length) return { error: `missing ${context.missing.join('; ')}` };
    const provider = await reg.instantiate(name, context.ctx);
    const hosts = await retryCall(() => provider.list(), {
      what: `${name} to list its hosts`,
      timeoutMs,
      intervalMs: 500,
      abortInFlight: true,
      // An API that cannot be reached will not be reachable in a second either: warn now.
      retryIf: (err) => !cannotHaveReachedCloud(err),
    });
    return { hosts };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}
