/**
 * List answers of the GCE fake: `maxResults`/`pageToken` paging (an opaque token, as Compute
 * Engine's), the `filter` subset of gce-fake-json.ts, and the aggregated form that groups
 * instances by zone, with a NO_RESULTS_ON_PAGE warning for the zones that have none on a page.
 */
import { API_ROOT, matchesFilter, parseFilter } from './gce-fake-json.js';

/** Compute Engine's largest page. */
const MAX_PAGE = 500;

export interface ListOptions {
  project: string;
  /** The list's path under the project: `global/firewalls`, `aggregated/instances`… */
  where: string;
  kind: string;
  /** Largest page the fake serves. */
  maxPerPage?: number;
}

/**
 * One page of `all` (rendered resources) after the filter.
 * @throws Error when the filter is outside the understood subset.
 */
export function listPage(query: URLSearchParams, all: Record<string, unknown>[], o: ListOptions): Record<string, unknown> {
  const terms = parseFilter(query.get('filter') ?? '');
  const { slice, next } = pageOf(query, all.filter((x) => matchesFilter(x, terms)), o.maxPerPage);
  return { kind: o.kind, id: `projects/${o.project}/${o.where}`, items: slice, selfLink: `${API_ROOT}/projects/${o.project}/${o.where}`, ...(next ? { nextPageToken: next } : {}) };
}

/**
 * One page of an aggregated list of instances: `items` maps every zone in `zones` to its
 * instances on this page, or to a warning.
 * @throws Error when the filter is outside the understood subset.
 */
export function aggregatedPage(query: URLSearchParams, all: Array<{ zone: string; json: Record<string, unknown> }>, zones: string[], o: ListOptions): Record<string, unknown> {
  const terms = parseFilter(query.get('filter') ?? '');
  const { slice, next } = pageOf(query, all.filter((x) => matchesFilter(x.json, terms)), o.maxPerPage);
  const items: Record<string, unknown> = {};
  for (const zone of zones) {
    const here = slice.filter((x) => x.zone === zone).map((x) => x.json);
    items[`zones/${zone}`] = here.length > 0
      ? { instances: here }
      : { warning: { code: 'NO_RESULTS_ON_PAGE', message: `There are no results for scope 'zones/${zone}' on this page.`, data: [{ key: 'scope', value: `zones/${zone}` }] } };
  }
  return { kind: o.kind, id: `projects/${o.project}/${o.where}`, items, selfLink: `${API_ROOT}/projects/${o.project}/${o.where}`, ...(next ? { nextPageToken: next } : {}) };
}

function pageOf<T>(query: URLSearchParams, all: T[], maxPerPage = MAX_PAGE): { slice: T[]; next?: string } {
  const asked = Number(query.get('maxResults') ?? MAX_PAGE);
  const size = Math.max(1, Math.min(asked, MAX_PAGE, maxPerPage));
  const token = query.get('pageToken');
  const start = token ? Number(Buffer.from(token, 'base64url').toString('utf8').replace(/^offset:/, '')) || 0 : 0;
  const slice = all.slice(start, start + size);
  const end = start + slice.length;
  return { slice, next: end < all.length ? Buffer.from(`offset:${end}`).toString('base64url') : undefined };
}
