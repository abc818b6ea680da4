/**
 * The marks every resource inletsctl creates carries, in the two shapes clouds offer: key/value
 * labels (Hetzner, GCE, Azure, EC2, Scaleway…) and flat string tags (DigitalOcean, Linode, Vultr…).
 * One place decides the spelling so every provider reads and writes the same marks:
 *
 * - the shared mark: this tool made it (what `list` filters on);
 * - the tunnel's name: for people and for `list`; never an identity;
 * - the tunnel id: the identity; delete and clean-up remove only what carries it;
 * - the expiry (`create --ttl`), as epoch seconds, so `prune` can find expired hosts at the cloud.
 *
 * Values stay within every cloud's label rules: lowercase [a-z0-9-], at most 63 characters.
 */
import type { CreateRequest } from '../../src/core/provider.js';

/** Label keys (key/value clouds). `managed-by=inletsctl` is the shared mark. */
export const LABEL = {
  managedBy: 'managed-by',
  name: 'inletsctl-name',
  tunnel: 'inletsctl-tunnel',
  expires: 'inletsctl-expires',
} as const;
export const MANAGED_BY_VALUE = 'inletsctl';

/** Flat tags: `inletsctl`, `inletsctl:<name>`, `inletsctl-tunnel:<id>`, `inletsctl-expires:<s>`. */
export const SHARED_TAG = 'inletsctl';
const NAME_PREFIX = 'inletsctl:';
const TUNNEL_PREFIX = 'inletsctl-tunnel:';
const EXPIRES_PREFIX = 'inletsctl-expires:';

/** What a resource's marks say. `ours` is false for anything without the shared mark. */
export interface Marks {
  ours: boolean;
  name?: string;
  tunnelId?: string;
  /** ISO 8601 expiry, when the tunnel was made with a TTL. */
  expiresAt?: string;
}

type Marked = Pick<CreateRequest, 'name' | 'tunnelId' | 'expiresAt'>;

function epochSeconds(iso: string): string {
  return String(Math.floor(Date.parse(iso) / 1000));
}

function isoFromEpoch(s: string | undefined): string | undefined {
  if (!s || !/^\d{1,12}$/.test(s)) return undefined;
  return new Date(Number(s) * 1000).toISOString();
}

/** The labels of a resource made for `req`. */
export function labelsFor(req: Marked): Record<string, string> {
  const labels: Record<string, string> = { [LABEL.managedBy]: MANAGED_BY_VALUE, [LABEL.name]: req.name, [LABEL.tunnel]: req.tunnelId };
  if (req.expiresAt) labels[LABEL.expires] = epochSeconds(req.expiresAt);
  return labels;
}

/** Reads labels written by {@link labelsFor} (or by older versions: shared mark and name only). */
export function readLabels(labels: Record<string, string | undefined> | undefined | null): Marks {
  const l = labels ?? {};
  return {
    ours: l[LABEL.managedBy] === MANAGED_BY_VALUE,
    name: l[LABEL.name] || undefined,
    tunnelId: l[LABEL.tunnel] || undefined,
    expiresAt: isoFromEpoch(l[LABEL.expires]),
  };
}

/** The flat tags of a resource made for `req`. */
export function tagsFor(req: Marked): string[] {
  const tags = [SHARED_TAG, NAME_PREFIX + req.name, TUNNEL_PREFIX + req.tunnelId];
  if (req.expiresAt) tags.push(EXPIRES_PREFIX + epochSeconds(req.expiresAt));
  return tags;
}

/** The flat tag of a tunnel's name (shared by every tunnel of that name: never an identity). */
export function nameTag(name: string): string {
  return NAME_PREFIX + name;
}

/** The flat tag that names one tunnel id (for clouds that filter by tag). */
export function tunnelTag(tunnelId: string): string {
  return TUNNEL_PREFIX + tunnelId;
}

/** Reads flat tags written by {@link tagsFor} (or by older versions: `inletsctl` and `inletsctl:<name>`). */
export function readTags(tags: readonly string[] | undefined | null): Marks {
  const t = tags ?? [];
  const value = (prefix: string) => t.find((x) => x.startsWith(prefix))?.slice(prefix.length) || undefined;
  return { ours: t.includes(SHARED_TAG), name: value(NAME_PREFIX), tunnelId: value(TUNNEL_PREFIX), expiresAt: isoFromEpoch(value(EXPIRES_PREFIX)) };
}
