/**
 * "Never touch what this run did not make", in one place: deleting by instance id requires the
 * instance to carry our shared mark, and everything else is found by tunnel id only.
 */
import { ProviderError } from '../../src/errors.js';
import type { HostRef } from '../../src/core/provider.js';
import type { Marks } from './marks.js';

/**
 * Refuses a resource that does not carry the shared mark.
 * @param what names it for the message: `droplet 123`, `server 456`
 * @throws ProviderError FORBIDDEN (not retryable)
 */
export function refuseUnmarked(provider: string, what: string, marks: Marks): void {
  if (!marks.ours) {
    throw new ProviderError(provider, 'FORBIDDEN', `${what} was not created by inletsctl (it lacks the inletsctl mark); not touching it`, { retryable: false });
  }
}

/**
 * A delete needs something to go by: an instance id or a tunnel id. A bare name is not enough.
 * @throws ProviderError INVALID when `ref` has neither
 */
export function requireIdentity(provider: string, ref: HostRef): void {
  if (!ref.id && !ref.tunnelId) {
    throw new ProviderError(provider, 'INVALID', `"${ref.name}" has neither an instance id nor a tunnel id: nothing can be deleted safely by name; find its id with: inletsctl list`, { retryable: false });
  }
}

/** Whether a resource belongs to the tunnel of `ref`: it carries our mark and the same tunnel id. */
export function carriesTunnel(ref: HostRef, marks: Marks): boolean {
  return marks.ours && ref.tunnelId !== undefined && marks.tunnelId === ref.tunnelId;
}
