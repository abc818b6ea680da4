/**
 * What the Scaleway fake checks requests against: the endpoints inletsctl uses, their query
 * parameters and bodies, written by hand from Scaleway's public API reference (Instance API v1,
 * https://www.scaleway.com/en/developers/api/instance/, and Marketplace API v2,
 * https://www.scaleway.com/en/developers/api/marketplace/). Scaleway publishes its reference as
 * web pages; no machine-readable description is shipped here. Bodies are checked with ajv against
 * closed schemas (`additionalProperties: false`), so a misspelt field fails.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { FakeRequest } from './fake-cloud-server.js';
import { checkJsonBody } from './json-body-check.js';

interface Endpoint {
  method: string;
  pattern: RegExp;
  op: string;
  /** Query parameters the reference documents. */
  query: string[];
  body?: ValidateFunction;
  /** The body is not JSON but text/plain (user data). */
  textBody?: boolean;
  /** The Marketplace API is public: no X-Auth-Token needed. */
  public?: boolean;
}

/** The zones the fake serves (the provider's list). */
export const SCALEWAY_FAKE_ZONES = ['fr-par-1', 'fr-par-2', 'fr-par-3', 'nl-ams-1', 'nl-ams-2', 'nl-ams-3', 'pl-waw-1', 'pl-waw-2', 'pl-waw-3'];

const ajv = new Ajv({ allErrors: true, strict: false });
const uuid = { type: 'string', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' };
const tags = { type: 'array', items: { type: 'string', minLength: 1, pattern: '^[^,]+$' } };

// POST /servers ("Create an Instance"): commercial_type is required; at most one of project and organization.
const serverCreate = ajv.compile({
  type: 'object',
  required: ['commercial_type'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1 },
    dynamic_ip_required: { type: 'boolean' },
    routed_ip_enabled: { type: 'boolean' },
    commercial_type: { type: 'string', minLength: 1 },
    image: { type: 'string', minLength: 1 },
    volumes: { type: 'object' },
    enable_ipv6: { type: 'boolean' },
    protected: { type: 'boolean' },
    public_ip: { type: 'string' },
    public_ips: { type: 'array', items: { type: 'string' } },
    boot_type: { enum: ['local', 'bootscript', 'rescue'] },
    organization: uuid,
    project: uuid,
    tags,
    security_group: uuid,
    placement_group: uuid,
    admin_password_encryption_ssh_key_id: uuid,
  },
  not: { required: ['project', 'organization'] },
});

// POST /servers/{id}/action ("Perform action").
const serverAction = ajv.compile({
  type: 'object',
  required: ['action'],
  additionalProperties: false,
  properties: {
    action: { enum: ['poweron', 'backup', 'stop_in_place', 'poweroff', 'terminate', 'reboot', 'enable_routed_ip'] },
    name: { type: 'string' },
    volumes: { type: 'object' },
    disable_ipv6: { type: 'boolean' },
  },
});

// POST /security_groups ("Create a security group").
const securityGroupCreate = ajv.compile({
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    organization: uuid,
    project: uuid,
    tags,
    organization_default: { type: 'boolean' },
    project_default: { type: 'boolean' },
    stateful: { type: 'boolean' },
    inbound_default_policy: { enum: ['accept', 'drop'] },
    outbound_default_policy: { enum: ['accept', 'drop'] },
    enable_default_security: { type: 'boolean' },
  },
  not: { required: ['project', 'organization'] },
});

const port = { type: 'integer', minimum: 1, maximum: 65535 };
// PUT /security_groups/{id}/rules ("Update all the rules of a security group").
const rulesSet = ajv.compile({
  type: 'object',
  required: ['rules'],
  additionalProperties: false,
  properties: {
    rules: {
      type: 'array',
      items: {
        type: 'object',
        required: ['action', 'protocol', 'direction', 'ip_range'],
        additionalProperties: false,
        properties: {
          id: uuid,
          action: { enum: ['accept', 'drop'] },
          protocol: { enum: ['TCP', 'UDP', 'ICMP', 'ANY'] },
          direction: { enum: ['inbound', 'outbound'] },
          ip_range: { type: 'string', pattern: '^[0-9a-fA-F.:]+/\\d{1,3}$' },
          dest_port_from: port,
          dest_port_to: port,
          position: { type: 'integer', minimum: 1 },
          editable: { type: 'boolean' },
          zone: { type: 'string' },
        },
      },
    },
  },
});

const Z = '([a-z]{2}-[a-z]{3}-\\d)';
// Any segment is matched as an id, so an unknown id is a 404 as at Scaleway, not an unknown call.
const ID = '([^/]+)';
const zonal = (rest: string) => new RegExp(`^/instance/v1/zones/${Z}${rest}$`);
const PAGED = ['page', 'per_page'];
const ENDPOINTS: Endpoint[] = [
  { method: 'GET', pattern: /^\/marketplace\/v2\/local-images$/, op: 'marketplace.local_images', query: ['image_id', 'version_id', 'image_label', 'zone', 'page_size', 'page', 'order_by', 'arch', 'type'], public: true },
  { method: 'POST', pattern: zonal('/servers'), op: 'servers.create', query: [], body: serverCreate },
  {
    method: 'GET', pattern: zonal('/servers'), op: 'servers.list',
    query: [...PAGED, 'organization', 'project', 'name', 'private_ip', 'without_ip', 'with_ip', 'commercial_type', 'state', 'tags', 'private_network', 'order', 'private_networks', 'private_nic_mac_address', 'servers'],
  },
  { method: 'GET', pattern: zonal(`/servers/${ID}`), op: 'servers.get', query: [] },
  { method: 'DELETE', pattern: zonal(`/servers/${ID}`), op: 'servers.delete', query: [] },
  { method: 'POST', pattern: zonal(`/servers/${ID}/action`), op: 'servers.action', query: [], body: serverAction },
  { method: 'PATCH', pattern: zonal(`/servers/${ID}/user_data/([^/]+)`), op: 'user_data.set', query: [], textBody: true },
  { method: 'DELETE', pattern: zonal(`/volumes/${ID}`), op: 'volumes.delete', query: [] },
  { method: 'POST', pattern: zonal('/security_groups'), op: 'security_groups.create', query: [], body: securityGroupCreate },
  { method: 'GET', pattern: zonal('/security_groups'), op: 'security_groups.list', query: [...PAGED, 'name', 'organization', 'project', 'tags', 'project_default'] },
  { method: 'DELETE', pattern: zonal(`/security_groups/${ID}`), op: 'security_groups.delete', query: [] },
  { method: 'PUT', pattern: zonal(`/security_groups/${ID}/rules`), op: 'security_group_rules.set', query: [], body: rulesSet },
];

export interface ScalewayCall {
  op: string;
  zone?: string;
  id?: string;
  /** The user data key (`cloud-init`). */
  key?: string;
  endpoint: Endpoint;
}

/** The documented endpoint for a call, with its zone and ids. */
export function scalewayOperation(method: string, pathname: string): ScalewayCall | undefined {
  for (const e of ENDPOINTS) {
    const m = e.method === method ? e.pattern.exec(pathname) : null;
    if (!m) continue;
    return e.public ? { op: e.op, endpoint: e } : { op: e.op, zone: m[1], id: m[2], key: m[3], endpoint: e };
  }
  return undefined;
}

/** Problems with a request, per the reference. */
export function checkScalewayRequest(req: FakeRequest): string[] {
  const hit = scalewayOperation(req.method, req.pathname);
  if (!hit) return [`${req.method} ${req.pathname} is not an endpoint this fake knows from the reference`];
  const problems: string[] = [];
  if (!hit.endpoint.public && !String(req.headers['x-auth-token'] ?? '')) problems.push('no secret key in X-Auth-Token');
  if (req.headers.authorization !== undefined) problems.push('an Authorization header: Scaleway takes the secret key in X-Auth-Token');
  if (hit.zone !== undefined && !SCALEWAY_FAKE_ZONES.includes(hit.zone)) problems.push(`zone ${hit.zone} is not one of ${SCALEWAY_FAKE_ZONES.join(', ')}`);
  for (const key of new Set(req.query.keys())) if (!hit.endpoint.query.includes(key)) problems.push(`query parameter ${key} is not documented`);
  for (const key of ['page', 'per_page', 'page_size']) {
    const v = req.query.get(key);
    if (v !== null && !(/^\d+$/.test(v) && Number(v) >= 1)) problems.push(`${key} must be a positive integer`);
    if (v !== null && key !== 'page' && Number(v) > 100) problems.push(`${key} is at most 100`);
  }
  if (hit.endpoint.textBody) {
    const type = String(req.headers['content-type'] ?? '');
    if (!type.startsWith('text/plain')) problems.push(`content-type ${type || '(none)'} is not text/plain (user data is sent as is)`);
    if (hit.key !== 'cloud-init') problems.push(`user data key ${hit.key}: cloud-init reads the "cloud-init" key`);
  } else {
    problems.push(...checkJsonBody(req, hit.endpoint.body));
  }
  return problems;
}
