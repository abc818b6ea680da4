/**
 * How inletsctl marks what it creates at EC2. Every instance, root volume, network interface and
 * security group carries the shared marks of providers/shared/marks.ts as tags (managed-by,
 * inletsctl-name, inletsctl-tunnel and, with --ttl, inletsctl-expires), plus Name=<tunnel> for the
 * console and the tag `inletsctl=true` that versions before v2 wrote and filtered on (so `list`
 * needs one filter for old and new hosts alike, and older versions still see new hosts). Tags are
 * applied by the create calls themselves (TagSpecifications), so nothing ever exists untagged.
 */
import { createHash } from 'node:crypto';
import type { CreateRequest } from '../../src/core/provider.js';
import { LABEL, labelsFor, readLabels, type Marks } from '../shared/marks.js';

/** Tag key that versions before v2 wrote on everything, with the value "true". `list` filters on it. */
export const MANAGED_TAG = 'inletsctl';
/** Tag key whose value is the tunnel name. */
export const NAME_TAG = LABEL.name;
/** Tag key whose value is the tunnel id: the identity delete and clean-up go by. */
export const TUNNEL_TAG = LABEL.tunnel;

export interface Ec2Tag {
  Key: string;
  Value: string;
}

type Marked = Pick<CreateRequest, 'name' | 'tunnelId' | 'expiresAt'>;

/** The tags of one tunnel's resources. */
export function tunnelTags(req: Marked): Ec2Tag[] {
  const tags: Ec2Tag[] = [
    { Key: 'Name', Value: req.name },
    { Key: MANAGED_TAG, Value: 'true' },
  ];
  for (const [Key, Value] of Object.entries(labelsFor(req))) tags.push({ Key, Value });
  return tags;
}

/** What a resource's tags say; `ours` with either the v2 shared mark or the older `inletsctl=true`. */
export function readTagMarks(tags: Array<{ Key?: string; Value?: string }> | undefined): Marks {
  const map = Object.fromEntries((tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));
  const marks = readLabels(map);
  return { ...marks, ours: marks.ours || map[MANAGED_TAG] === 'true' };
}

/**
 * The security group of a tunnel. Group names are unique per VPC, so the name holds the tunnel id:
 * two tunnels of the same name (two state files) never meet. "sg-" prefixes are not allowed.
 */
export function securityGroupName(req: Pick<CreateRequest, 'name' | 'tunnelId'>): string {
  return `inletsctl-${req.name}-${req.tunnelId}`;
}

/**
 * RunInstances' idempotency token: the same for repeats of one planned create (so a create the
 * CLI repeats after a refused request can never launch a second instance), different for every
 * plan (a fresh tunnel id, token and TLS key). EC2 allows up to 64 ASCII characters.
 */
export function clientToken(tunnelId: string, userData: Buffer): string {
  const digest = createHash('sha256').update(tunnelId).update('\0').update(userData).digest('hex');
  return `inletsctl-${digest.slice(0, 48)}`;
}

/** The value of tag `key`, if present. */
export function tagValue(tags: Array<{ Key?: string; Value?: string }> | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}
