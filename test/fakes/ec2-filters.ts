/**
 * EC2's list conventions, for the fake: `Filter.N.Name`/`Filter.N.Value.M` (values of one filter
 * are ORed, filters are ANDed, `*` and `?` are wildcards, `tag:<key>` and `tag-key` match tags),
 * and MaxResults/NextToken pagination. An unknown filter name is an error, as at EC2.
 */

/** A failure answered in EC2's error format. */
export class Ec2Fault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FilterInput {
  Name?: string;
  Values?: string[];
}

export interface TagInput {
  Key?: string;
  Value?: string;
}

/** For each filter name the fake supports, the values of an item it compares with. */
export type FilterFields<T> = Record<string, (item: T) => Array<string | undefined> | string | undefined>;

/**
 * Keeps the items matching every filter.
 * @throws Ec2Fault InvalidParameterValue for a filter name EC2 would not know for this call
 */
export function applyFilters<T extends { tags: TagInput[] }>(items: T[], filters: FilterInput[] | undefined, fields: FilterFields<T>): T[] {
  const checks = (filters ?? []).map((f) => {
    const name = f.Name ?? '';
    const patterns = (f.Values ?? []).map(wildcard);
    let field: (item: T) => Array<string | undefined> | string | undefined;
    if (name.startsWith('tag:')) field = (item) => item.tags.filter((t) => t.Key === name.slice(4)).map((t) => t.Value);
    else if (name === 'tag-key') field = (item) => item.tags.map((t) => t.Key);
    else if (fields[name]) field = fields[name];
    else throw new Ec2Fault(400, 'InvalidParameterValue', `The filter '${name}' is invalid`);
    return (item: T) => {
      const values = ([] as Array<string | undefined>).concat(field(item));
      return values.some((v) => v !== undefined && patterns.some((p) => p.test(v)));
    };
  });
  return items.filter((item) => checks.every((check) => check(item)));
}

/** EC2's wildcards: `*` any run of characters, `?` one character; the rest literal. */
export function wildcard(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/**
 * One page of `items`. The page holds min(MaxResults, `cap`) items (EC2 may return fewer than
 * asked); NextToken is opaque to clients.
 * @throws Ec2Fault InvalidParameterValue for a MaxResults outside [min, max] or a bad token
 */
export function paginate<T>(items: T[], input: { MaxResults?: number; NextToken?: string }, limits: { min: number; max: number; cap: number }): { page: T[]; nextToken?: string } {
  const asked = input.MaxResults;
  if (asked !== undefined && (asked < limits.min || asked > limits.max)) {
    throw new Ec2Fault(400, 'InvalidParameterValue', `Value ( ${asked} ) for parameter maxResults is invalid. Expecting a value between ${limits.min} and ${limits.max}.`);
  }
  let start = 0;
  if (input.NextToken) {
    const decoded = /^page:(\d+)$/.exec(Buffer.from(input.NextToken, 'base64url').toString('utf8'));
    if (!decoded) throw new Ec2Fault(400, 'InvalidParameterValue', 'The token is invalid.');
    start = Number(decoded[1]);
  }
  if (asked === undefined && !input.NextToken) return { page: items };
  const size = Math.min(asked ?? limits.max, limits.cap);
  const page = items.slice(start, start + size);
  const next = start + size < items.length ? Buffer.from(`page:${start + size}`).toString('base64url') : undefined;
  return { page, nextToken: next };
}
