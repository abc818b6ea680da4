/**
 * What the Civo fake checks requests against: the endpoints inletsctl uses, their query
 * parameters and bodies, written from Civo's public API reference (https://www.civo.com/api;
 * Civo publishes no machine-readable description). Bodies are checked with ajv against closed
 * schemas (`additionalProperties: false`), so a misspelt field fails.
 *
 * Where the reference and Civo's own Go client (civogo) differ, the client is followed: the
 * reference says bodies are form-encoded and "JSON request bodies aren't accepted", while civogo
 * sends JSON with `Content-Type: application/json`; so does inletsctl, and the fake takes JSON.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { FakeRequest } from './fake-cloud-server.js';
import { checkJsonBody } from './json-body-check.js';

interface Endpoint {
  method: string;
  pattern: RegExp;
  op: string;
  /** Query parameters the reference documents (besides `region`). */
  query: string[];
  body?: ValidateFunction;
}

/** The regions the fake serves (the provider's list). */
export const CIVO_FAKE_REGIONS = ['LON1', 'FRA1', 'NYC1', 'PHX1'];

const ajv = new Ajv({ allErrors: true, strict: false });
const region = { type: 'string', minLength: 1 };

const instanceCreate = ajv.compile({
  type: 'object',
  required: ['hostname', 'size', 'network_id', 'template_id', 'region'],
  additionalProperties: false,
  properties: {
    hostname: { type: 'string', pattern: '^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,251}[a-zA-Z0-9])?$' },
    size: { type: 'string', minLength: 1 },
    network_id: { type: 'string', minLength: 1 },
    template_id: { type: 'string', minLength: 1 },
    count: { type: 'integer', minimum: 1 },
    firewall_id: { type: 'string' },
    reverse_dns: { type: 'string' },
    region,
    public_ip: { enum: ['create', 'none', 'true', 'false'] },
    initial_user: { type: 'string' },
    ssh_key_id: { type: 'string' },
    script: { type: 'string' },
    // "a space separated list of tags"
    tags: { type: 'string', pattern: '^[^ ]+( [^ ]+)*$' },
  },
});

const firewallCreate = ajv.compile({
  type: 'object',
  required: ['name', 'network_id', 'region'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1 },
    network_id: { type: 'string', minLength: 1 },
    region,
    // Not in the reference's table; civogo's FirewallConfig: false skips the default rules.
    create_rules: { type: 'boolean' },
  },
});

const port = { type: 'string', pattern: '^\\d{1,5}$' };
const ruleCreate = ajv.compile({
  type: 'object',
  required: ['protocol', 'start_port', 'cidr', 'direction', 'action', 'region'],
  additionalProperties: false,
  properties: {
    firewall_id: { type: 'string' },
    region,
    protocol: { enum: ['tcp', 'udp', 'icmp', 'TCP', 'UDP', 'ICMP'] },
    start_port: port,
    end_port: port,
    cidr: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$' } },
    direction: { enum: ['ingress', 'egress'] },
    action: { enum: ['allow', 'deny'] },
    label: { type: 'string' },
  },
});

// Civo's ids are UUIDs; any path segment is matched, so an unknown id is a 404 as at Civo, not an unknown call.
const ID = '([^/]+)';
const ENDPOINTS: Endpoint[] = [
  { method: 'POST', pattern: /^\/instances$/, op: 'instances.create', query: [], body: instanceCreate },
  { method: 'GET', pattern: /^\/instances$/, op: 'instances.list', query: ['tags', 'page', 'per_page'] },
  { method: 'GET', pattern: new RegExp(`^/instances/${ID}$`), op: 'instances.get', query: [] },
  { method: 'DELETE', pattern: new RegExp(`^/instances/${ID}$`), op: 'instances.delete', query: [] },
  { method: 'GET', pattern: /^\/networks$/, op: 'networks.list', query: [] },
  { method: 'GET', pattern: /^\/disk_images$/, op: 'disk_images.list', query: ['type'] },
  { method: 'POST', pattern: /^\/firewalls$/, op: 'firewalls.create', query: [], body: firewallCreate },
  { method: 'GET', pattern: /^\/firewalls$/, op: 'firewalls.list', query: [] },
  { method: 'DELETE', pattern: new RegExp(`^/firewalls/${ID}$`), op: 'firewalls.delete', query: [] },
  { method: 'POST', pattern: new RegExp(`^/firewalls/${ID}/rules$`), op: 'firewall_rules.create', query: [], body: ruleCreate },
  { method: 'GET', pattern: new RegExp(`^/firewalls/${ID}/rules$`), op: 'firewall_rules.list', query: [] },
];

/** The documented endpoint for a call, with the id from its path. */
export function civoOperation(method: string, pathname: string): { op: string; id?: string; endpoint: Endpoint } | undefined {
  for (const e of ENDPOINTS) {
    const m = e.method === method ? e.pattern.exec(pathname) : null;
    if (m) return { op: e.op, id: m[1], endpoint: e };
  }
  return undefined;
}

/** The region a call names: the query for GET and DELETE, the body for POST. */
export function regionOf(req: FakeRequest): string | undefined {
  if (req.method === 'POST') {
    const r = (req.body as { region?: unknown } | undefined)?.region;
    return typeof r === 'string' ? r : undefined;
  }
  return req.query.get('region') ?? undefined;
}

/** Problems with a request, per the reference. */
export function checkCivoRequest(req: FakeRequest): string[] {
  const hit = civoOperation(req.method, req.pathname);
  if (!hit) return [`${req.method} ${req.pathname} is not an endpoint this fake knows from the reference`];
  const problems: string[] = [];
  if (!/^bearer \S+$/i.test(String(req.headers.authorization ?? ''))) problems.push('no bearer API key in Authorization');
  for (const key of new Set(req.query.keys())) {
    if (key !== 'region' && !hit.endpoint.query.includes(key)) problems.push(`query parameter ${key} is not documented`);
  }
  // Civo picks a random region when none is named: a client must always name one.
  const r = regionOf(req);
  if (r === undefined) problems.push(`no region (${req.method === 'POST' ? 'body' : 'query'} parameter): Civo would pick one at random`);
  else if (!CIVO_FAKE_REGIONS.includes(r)) problems.push(`region ${r} is not one of ${CIVO_FAKE_REGIONS.join(', ')}`);
  for (const key of ['page', 'per_page']) {
    const v = req.query.get(key);
    if (v !== null && !(/^\d+$/.test(v) && Number(v) >= 1)) problems.push(`${key} must be a positive integer`);
  }
  problems.push(...checkJsonBody(req, hit.endpoint.body));
  return problems;
}
