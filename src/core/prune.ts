/**
 * `prune`: finds tunnels whose `--ttl` expiry has passed, in the state file and at the providers
 * the state file names (hosts carrying our marks with an expiry mark), and deletes each through
 * the normal delete path ({@link deleteHost}, which removes only what carries its tunnel id).
 * A host without an expiry mark is never a candidate, however old.
 */
import type { ProviderListing } from './list-tunnels.js';
import type { Host, HostRef } from './provider.js';
import { refOf, refOfHost } from './delete-tunnel.js';
import type { TunnelRecord } from './state-store.js';

/** One tunnel to prune: where it was found, and the ref to delete it by. */
export interface PruneCandidate {
  name: string;
  provider: string;
  /** ISO 8601 expiry that has passed. */
  expiresAt: string;
  /** `state`: a record in the state file (removed after deletion); `provider`: only at the cloud. */
  from: 'state' | 'provider';
  ref: HostRef;
  record?: TunnelRecord;
}

function expired(expiresAt: string | undefined, now: number): expiresAt is string {
  if (!expiresAt) return false;
  const t = Date.parse(expiresAt);
  return !Number.isNaN(t) && t <= now;
}

/** The same host as a record: by tunnel id when both have one, else by instance id. */
function sameHost(record: TunnelRecord, host: Host): boolean {
  if (record.tunnelId && host.tunnelId) return record.tunnelId === host.tunnelId;
  return record.id !== undefined && record.id === host.id;
}

/**
 * Expired tunnels: state records first, then hosts at the providers that no record claims.
 * @param now epoch milliseconds
 */
export function findExpired(records: TunnelRecord[], listings: Map<string, ProviderListing>, now: number): PruneCandidate[] {
  const out: PruneCandidate[] = [];
  for (const r of records) {
    const listing = listings.get(r.provider);
    const host = listing && 'hosts' in listing ? listing.hosts.find((h) => sameHost(r, h)) : undefined;
    const expiresAt = r.expiresAt ?? host?.expiresAt;
    if (expired(expiresAt, now)) out.push({ name: r.name, provider: r.provider, expiresAt, from: 'state', ref: refOf(r), record: r });
  }
  for (const [provider, listing] of listings) {
    if (!('hosts' in listing)) continue;
    for (const h of listing.hosts) {
      if (!expired(h.expiresAt, now)) continue;
      if (records.some((r) => r.provider === provider && sameHost(r, h))) continue;
      out.push({ name: h.name, provider, expiresAt: h.expiresAt, from: 'provider', ref: refOfHost(h) });
    }
  }
  return out;
}
