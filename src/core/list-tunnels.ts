/**
 * `list`: the state file joined with what each provider reports, marking drift both ways.
 */
import type { Host } from './provider.js';
import type { TunnelRecord } from './state-store.js';

/**
 * - `ok`: in state and at the provider.
 * - `missing`: in state, but the provider no longer has it (deleted elsewhere, or never made).
 * - `untracked`: the provider has a host with our tag that the state file does not know.
 * - `unknown`: in state; the provider could not be asked.
 * - `broken`: in state and at the provider, which reports it failed (a local server that exited).
 */
export type Drift = 'ok' | 'missing' | 'untracked' | 'unknown' | 'broken';

export interface ListRow {
  name: string;
  /** The tunnel id, from state or from the host's marks (absent for hosts of older versions). */
  tunnelId?: string;
  provider: string;
  region?: string;
  id?: string;
  ip?: string;
  /** Status in the state file (absent for untracked hosts). */
  state?: TunnelRecord['status'];
  /** Status the provider reports, in the shared vocabulary, and in its own words. */
  cloud?: Host['status'];
  cloudStatus?: string;
  drift: Drift;
  createdAt?: string;
  /** ISO 8601 expiry (`create --ttl`), from state or the host's marks. */
  expiresAt?: string;
}

/** What one provider answered: its hosts, or why it could not be asked. */
export type ProviderListing = { hosts: Host[] } | { error: string };

/**
 * Joins records with listings (by provider name). A record matches a host by id when both have
 * one, else by tunnel id; by name only when the record has neither (a record of an older version
 * interrupted before its id was known). Rows keep state order, then untracked hosts.
 */
export function joinListings(records: TunnelRecord[], listings: Map<string, ProviderListing>): ListRow[] {
  const rows: ListRow[] = [];
  const claimed = new Set<Host>();
  for (const r of records) {
    const listing = listings.get(r.provider);
    const base: ListRow = { name: r.name, tunnelId: r.tunnelId, provider: r.provider, region: r.region, id: r.id, ip: r.ip, state: r.status, createdAt: r.createdAt, expiresAt: r.expiresAt, drift: 'unknown' };
    if (!listing || 'error' in listing) {
      rows.push(base);
      continue;
    }
    const host = listing.hosts.find((h) => !claimed.has(h) && matches(r, h));
    if (!host) {
      rows.push({ ...base, drift: 'missing' });
      continue;
    }
    claimed.add(host);
    const drift: Drift = host.status === 'error' ? 'broken' : 'ok';
    rows.push({ ...base, id: host.id, ip: host.ip ?? r.ip, cloud: host.status, cloudStatus: host.providerStatus, expiresAt: r.expiresAt ?? host.expiresAt, drift });
  }
  for (const [provider, listing] of listings) {
    if ('error' in listing) continue;
    for (const h of listing.hosts) {
      if (claimed.has(h)) continue;
      rows.push({ name: h.name, tunnelId: h.tunnelId, provider, region: h.region, id: h.id, ip: h.ip, cloud: h.status, cloudStatus: h.providerStatus, createdAt: h.createdAt, expiresAt: h.expiresAt, drift: 'untracked' });
    }
  }
  return rows;
}

function matches(r: TunnelRecord, h: Host): boolean {
  if (r.id && h.id) return h.id === r.id;
  if (r.tunnelId) return h.tunnelId === r.tunnelId;
  return h.name === r.name;
}
