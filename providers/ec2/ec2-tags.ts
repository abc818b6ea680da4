/**
 * How inletsctl marks what it creates at EC2, so `delete` and `list` find everything by tag even
 * when create was interrupted before it returned an id: every instance, root volume, network
 * interface and security group carries {@link MANAGED_TAG}=true, {@link NAME_TAG}=<tunnel> and
 * Name=<tunnel>. Tags are applied by the create calls themselves (TagSpecifications), so nothing
 * ever exists untagged.
 */
import { createHash } from 'node:crypto';

/** Tag key on everything inletsctl creates; its value is always "true". `list` filters on it. */
export const MANAGED_TAG = 'inletsctl';
/** Tag key whose value is the tunnel name. */
export const NAME_TAG = 'inletsctl-name';

export interface Ec2Tag {
  Key: string;
  Value: string;
}

/** The tags of one tunnel's resources. */
export function tunnelTags(name: string): Ec2Tag[] {
  return [
    { Key: 'Name', Value: name },
    { Key: MANAGED_TAG, Value: 'true' },
    { Key: NAME_TAG, Value: name },
  ];
}

/** The security group of a tunnel (names are unique per VPC; "sg-" prefixes are not allowed). */
export function securityGroupName(name: string): string {
  return `inletsctl-${name}`;
}

/**
 * RunInstances' idempotency token: the same for repeats of one planned create (so a create the
 * CLI repeats after a refused request can never launch a second instance), different for every
 * plan (the user-data holds a fresh token and TLS key). EC2 allows up to 64 ASCII characters.
 */
export function clientToken(name: string, userData: Buffer): string {
  const digest = createHash('sha256').update(name).update('\0').update(userData).digest('hex');
  return `inletsctl-${digest.slice(0, 48)}`;
}

/** The value of tag `key`, if present. */
export function tagValue(tags: Array<{ Key?: string; Value?: string }> | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}
