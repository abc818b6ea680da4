/**
 * Reading every page of a cloud list, the one way: each provider says how to fetch a page and
 * where the next one is (a page number, a token or a URL), and this loop collects the items with a
 * bound on the number of pages, so a cloud that keeps answering "next" cannot loop us forever.
 */
import { ProviderError } from '../../src/errors.js';

/** One page: its items, and the cursor of the next page (undefined on the last). */
export interface Page<T, C> {
  items: T[];
  next?: C;
}

/** Most pages read in one list (at 50 a page: 50,000 items). */
export const MAX_PAGES = 1000;

/**
 * Calls `fetchPage(first)`, then `fetchPage(next)` while a page names a next cursor, and returns
 * every item in order.
 * @param what names the list in the error (`GET /servers`)
 * @throws ProviderError API_UNAVAILABLE after {@link MAX_PAGES} pages, or when a cursor repeats
 */
export async function allPages<T, C>(provider: string, what: string, first: C, fetchPage: (cursor: C) => Promise<Page<T, C>>): Promise<T[]> {
  const out: T[] = [];
  const seen = new Set<C>();
  let cursor: C | undefined = first;
  for (let n = 0; cursor !== undefined; n++) {
    if (n >= MAX_PAGES || seen.has(cursor)) throw new ProviderError(provider, 'API_UNAVAILABLE', `${what}: too many pages, or a page that repeats`);
    seen.add(cursor);
    const page: Page<T, C> = await fetchPage(cursor);
    out.push(...page.items);
    cursor = page.next;
  }
  return out;
}

/** A list answer without its array of items is the cloud's fault, not ours. */
export function itemsOf<T>(provider: string, what: string, body: unknown, key: string): T[] {
  const items = (body as Record<string, unknown> | undefined)?.[key];
  if (!Array.isArray(items)) throw new ProviderError(provider, 'API_UNAVAILABLE', `${what} answered without "${key}"`);
  return items as T[];
}
