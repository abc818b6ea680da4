/**
 * The tunnel id of a HostRef: `ref.tunnelId`, else the copy a provider's create left in
 * `ref.data.tunnelId`. The copy is there for callers that keep a Host's data but not its
 * tunnelId (a core that merged only id, ip, region and data), so a delete by instance id can
 * still find the firewall, address or group of the tunnel after the instance is gone.
 */
import type { HostRef } from '../../src/core/provider.js';

/** Tunnel ids are 12 lowercase hex characters (src/core/create-tunnel.ts). */
const TUNNEL_ID = /^[0-9a-f]{12}$/;

export function tunnelIdOfRef(ref: Pick<HostRef, 'tunnelId' | 'data'>): string | undefined {
  if (ref.tunnelId) return ref.tunnelId;
  const copy = ref.data?.tunnelId;
  return copy && TUNNEL_ID.test(copy) ? copy : undefined;
}
