/**
 * What the Linode fake serves besides the official subset (../shared/cloud-specs/linode/
 * openapi-subset.json lacks `/regions` and `/images`), written from Linode's public API reference
 * (https://techdocs.akamai.com/linode-api/reference/get-region and .../get-image) and checked by the
 * hand-written rules below; plus the check of the `X-Filter` header, which the shared OpenAPI
 * validator does not read.
 */
import type { FakeReply, FakeRequest } from './fake-cloud-server.js';

export interface FakeRegion {
  id: string;
  label: string;
  country: string;
  capabilities: string[];
  status: 'ok' | 'outage';
  site_type: 'core' | 'distributed';
  resolvers: { ipv4: string; ipv6: string };
}

export interface FakeImage {
  id: string;
  label: string;
  vendor: string | null;
  capabilities: string[];
  status: 'available' | 'creating' | 'pending_upload';
  deprecated: boolean;
  is_public: boolean;
  type: 'manual' | 'automatic';
  size: number;
  created: string;
  created_by: string;
  description: string | null;
  tags: string[];
}

const FULL = ['Linodes', 'Block Storage', 'Cloud Firewall', 'Vlans', 'VPCs', 'Metadata', 'Placement Group', 'NodeBalancers'];

function region(id: string, label: string, country: string, capabilities = FULL): FakeRegion {
  return { id, label, country, capabilities, status: 'ok', site_type: 'core', resolvers: { ipv4: '203.0.113.1,203.0.113.2', ipv6: '2001:db8::1' } };
}

/**
 * The fake's regions. Their capabilities are the fake's own choice, not Linode's current list:
 * `eu-west` is given no "Metadata" and `us-southeast` no "Cloud Firewall", so tests can see the refusals.
 */
export const FAKE_REGIONS: Record<string, FakeRegion> = {
  'gb-lon': region('gb-lon', 'London 2, UK', 'gb'),
  'eu-central': region('eu-central', 'Frankfurt, DE', 'de'),
  'eu-west': region('eu-west', 'London, UK', 'gb', FULL.filter((c) => c !== 'Metadata')),
  'us-southeast': region('us-southeast', 'Atlanta, GA', 'us', FULL.filter((c) => c !== 'Cloud Firewall')),
};

function image(id: string, label: string, vendor: string, capabilities: string[]): FakeImage {
  return {
    id, label, vendor, capabilities, status: 'available', deprecated: false, is_public: true, type: 'manual', size: 1300,
    created: '2025-06-10T12:00:00Z', created_by: 'linode', description: null, tags: [],
  };
}

/** The fake's images (`linode/arch` is given no cloud-init, for the refusal). */
export const FAKE_IMAGES: Record<string, FakeImage> = {
  'linode/debian12': image('linode/debian12', 'Debian 12', 'Debian', ['cloud-init', 'distributed-sites']),
  'linode/debian13': image('linode/debian13', 'Debian 13', 'Debian', ['cloud-init', 'distributed-sites']),
  'linode/arch': image('linode/arch', 'Arch Linux', 'Arch', []),
};

/** The types the fake knows (`GET /linode/types` is not modelled: create refuses others). */
export const FAKE_TYPES: Record<string, { memory: number; vcpus: number; disk: number; transfer: number }> = {
  'g6-nanode-1': { memory: 1024, vcpus: 1, disk: 25600, transfer: 1000 },
  'g6-standard-1': { memory: 2048, vcpus: 1, disk: 51200, transfer: 2000 },
};

/** The operations served from the reference, not the subset: `get-region`, `get-image`. */
export function supplementOperation(method: string, pathname: string): { op: 'get-region' | 'get-image'; id: string } | undefined {
  const m = /^\/(v4|v4beta)\/(regions|images)\/(.+)$/.exec(pathname);
  if (!m || method !== 'GET') return undefined;
  const id = m[3].split('/').map(decodeURIComponent).join('/');
  if (m[2] === 'regions') return /^[a-z0-9-]+$/.test(id) ? { op: 'get-region', id } : undefined;
  return /^[a-z0-9-]+(\/[a-z0-9.-]+)?$/.test(id) ? { op: 'get-image', id } : undefined;
}

/** The reference's rules for these GETs: a bearer token, no body, no query parameters. */
export function checkSupplementRequest(req: FakeRequest): string[] {
  const problems: string[] = [];
  if (!/^Bearer \S+$/.test(String(req.headers.authorization ?? ''))) problems.push('no bearer token in Authorization');
  if (req.rawBody.length > 0) problems.push('a body was sent, but the operation documents none');
  for (const k of new Set(req.query.keys())) problems.push(`query parameter ${k} is not documented`);
  return problems;
}

/** The answer: 200 with the object's documented fields, or an error in `{ errors: [...] }`. */
export function checkSupplementReply(op: 'get-region' | 'get-image', reply: FakeReply): string[] {
  const b = reply.body as Record<string, unknown> | undefined;
  if (reply.status !== 200) return checkErrorBody(b);
  const problems: string[] = [];
  if (typeof b?.id !== 'string') problems.push('response body: id must be a string');
  if (!Array.isArray(b?.capabilities) || b.capabilities.some((c) => typeof c !== 'string')) problems.push('response body: capabilities must be an array of strings');
  if (typeof b?.label !== 'string') problems.push('response body: label must be a string');
  if (op === 'get-region' && !['ok', 'outage'].includes(String(b?.status))) problems.push('response body: status must be ok or outage');
  if (op === 'get-image' && !['available', 'creating', 'pending_upload'].includes(String(b?.status))) problems.push('response body: status must be available, creating or pending_upload');
  return problems;
}

function checkErrorBody(b: Record<string, unknown> | undefined): string[] {
  const errors = b?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return ['error body is not { errors: [...] }'];
  return errors.some((e) => typeof (e as { reason?: unknown })?.reason !== 'string') ? ['an error without a reason'] : [];
}

/**
 * `X-Filter`: documented (for the instance list) as a JSON object; the fake reads only
 * `{"tags": "<tag>"}`, so anything else there is a problem too (the fake could not honour it).
 */
export function checkFilterHeader(req: FakeRequest, op: string | undefined): string[] {
  const header = req.headers['x-filter'];
  if (header === undefined) return [];
  if (op !== 'get-linode-instances') return [`X-Filter is not documented for ${op ?? 'this call'}`];
  try {
    const v = JSON.parse(String(header)) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return ['X-Filter must be a JSON object'];
    const keys = Object.keys(v);
    if (keys.length !== 1 || keys[0] !== 'tags' || typeof (v as { tags: unknown }).tags !== 'string') return [`X-Filter ${String(header)}: the fake honours only {"tags": "<tag>"}`];
    return [];
  } catch {
    return ['X-Filter is not JSON'];
  }
}
