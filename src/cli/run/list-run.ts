/** `inletsctl list`: state joined with each provider's own list, with drift marked. */
import { retryCall } from '../../core/poller.js';
import { joinListings, type ProviderListing } from '../../core/list-tunnels.js';
import { printJson, printText, warn } from '../../core/output.js';
import { stateModeWarning, usableRecords } from '../../core/state-records.js';
import { formatListTable } from './list-table.js';
import { registry } from '../../core/registry.js';
import { StateStore, configDir } from '../../core/state-store.js';
import { buildProviderContext } from './provider-context.js';

/** How long to keep asking one provider for its list, in milliseconds. */
const LIST_TIMEOUT_MS = 60_000;

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
    for (const name of names) listings.set(name, await listProvider(name, args, records.find((r) => r.provider === name)));
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
async function listProvider(name: string, args: Record<string, unknown>, record: Parameters<typeof buildProviderContext>[2]['record']): Promise<ProviderListing> {
  try {
    const reg = registry();
    const description = reg.describe(name);
    const context = await buildProviderContext(description, args, { record, interactive: false, needCredentials: true });
    if (context.missing.length) return { error: `missing ${context.missing.join('; ')}` };
    const provider = await reg.instantiate(name, context.ctx);
    return { hosts: await retryCall(() => provider.list(), { what: `${name} to list its hosts`, timeoutMs: LIST_TIMEOUT_MS }) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}
