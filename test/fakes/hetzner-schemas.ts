/**
 * What the Hetzner fake checks requests against: the endpoints inletsctl uses, their query
 * parameters and request bodies, written from Hetzner's public API documentation
 * (https://docs.hetzner.cloud/; no machine-readable spec may be shipped). Bodies are checked with
 * ajv against the schemas below, closed (`additionalProperties: false`) so a misspelt field fails.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { FakeRequest } from './fake-cloud-server.js';
import { checkJsonBody } from './json-body-check.js';

interface Endpoint {
  method: string;
  pattern: RegExp;
  op: string;
  query: string[];
  body?: ValidateFunction;
}

/** Label values: up to 63 characters, alphanumerics with - _ . inside (Hetzner's label rules). */
const LABEL_VALUE = '^([a-zA-Z0-9]([-_.a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)?$';
const LABEL_KEY = '^([a-z0-9A-Z]([-a-z0-9A-Z.]{0,251}[a-z0-9A-Z])?/)?[a-zA-Z0-9]([-_.a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$';
const labels = { type: 'object', propertyNames: { pattern: LABEL_KEY }, additionalProperties: { type: 'string', pattern: LABEL_VALUE } };

const ajv = new Ajv({ allErrors: true, strict: false });

const serverCreate = ajv.compile({
  type: 'object',
  required: ['name', 'server_type', 'image'],
  additionalProperties: false,
  properties: {
    // Server names must be valid hostnames.
    name: { type: 'string', pattern: '^[a-zA-Z0-9]([a-zA-Z0-9-.]{0,251}[a-zA-Z0-9])?$' },
    server_type: { type: 'string' },
    image: { type: 'string' },
    location: { type: 'string' },
    datacenter: { type: 'string' },
    start_after_create: { type: 'boolean' },
    user_data: { type: 'string', maxLength: 32 * 1024 },
    ssh_keys: { type: 'array', items: { type: ['string', 'integer'] } },
    volumes: { type: 'array', items: { type: 'integer' } },
    networks: { type: 'array', items: { type: 'integer' } },
    firewalls: { type: 'array', items: { type: 'object', required: ['firewall'], additionalProperties: false, properties: { firewall: { type: 'integer' } } } },
    labels,
    automount: { type: 'boolean' },
    placement_group: { type: 'integer' },
    public_net: {
      type: 'object',
      additionalProperties: false,
      properties: { enable_ipv4: { type: 'boolean' }, enable_ipv6: { type: 'boolean' }, ipv4: { type: ['integer', 'null'] }, ipv6: { type: ['integer', 'null'] } },
    },
  },
});

const rule = {
  type: 'object',
  required: ['direction', 'protocol'],
  additionalProperties: false,
  properties: {
    direction: { enum: ['in', 'out'] },
    protocol: { enum: ['tcp', 'udp', 'icmp', 'esp', 'gre'] },
    // A port, or a range "1024-5000", or "any"; required for tcp and udp.
    port: { type: 'string', pattern: '^(any|\\d{1,5}(-\\d{1,5})?)$' },
    source_ips: { type: 'array', items: { type: 'string' } },
    destination_ips: { type: 'array', items: { type: 'string' } },
    description: { type: ['string', 'null'], maxLength: 255 },
  },
  allOf: [
    { if: { properties: { protocol: { enum: ['tcp', 'udp'] } } }, then: { required: ['port'] } },
    { if: { properties: { direction: { const: 'in' } } }, then: { required: ['source_ips'] } },
    { if: { properties: { direction: { const: 'out' } } }, then: { required: ['destination_ips'] } },
  ],
};

const firewallCreate = ajv.compile({
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1 },
    labels,
    rules: { type: 'array', items: rule },
    apply_to: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type'],
        additionalProperties: false,
        properties: {
          type: { enum: ['server', 'label_selector'] },
          server: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'integer' } } },
          label_selector: { type: 'object', required: ['selector'], additionalProperties: false, properties: { selector: { type: 'string' } } },
        },
      },
    },
  },
});

const PAGED = ['page', 'per_page', 'sort', 'label_selector', 'name'];
const ENDPOINTS: Endpoint[] = [
  { method: 'POST', pattern: /^\/servers$/, op: 'servers.create', query: [], body: serverCreate },
  { method: 'GET', pattern: /^\/servers$/, op: 'servers.list', query: [...PAGED, 'status'] },
  { method: 'GET', pattern: /^\/servers\/(\d+)$/, op: 'servers.get', query: [] },
  { method: 'DELETE', pattern: /^\/servers\/(\d+)$/, op: 'servers.delete', query: [] },
  { method: 'GET', pattern: /^\/actions\/(\d+)$/, op: 'actions.get', query: [] },
  { method: 'POST', pattern: /^\/firewalls$/, op: 'firewalls.create', query: [], body: firewallCreate },
  { method: 'GET', pattern: /^\/firewalls$/, op: 'firewalls.list', query: PAGED },
  { method: 'GET', pattern: /^\/firewalls\/(\d+)$/, op: 'firewalls.get', query: [] },
  { method: 'DELETE', pattern: /^\/firewalls\/(\d+)$/, op: 'firewalls.delete', query: [] },
  { method: 'GET', pattern: /^\/primary_ips$/, op: 'primary_ips.list', query: [...PAGED, 'ip'] },
];

/** The documented endpoint for a call, with the id from its path. */
export function hetznerOperation(method: string, pathname: string): { op: string; id?: string; endpoint: Endpoint } | undefined {
  for (const e of ENDPOINTS) {
    const m = e.method === method ? e.pattern.exec(pathname) : null;
    if (m) return { op: e.op, id: m[1], endpoint: e };
  }
  return undefined;
}

/** Problems with a request, per the documentation. */
export function checkHetznerRequest(req: FakeRequest): string[] {
  const hit = hetznerOperation(req.method, req.pathname);
  if (!hit) return [`${req.method} ${req.pathname} is not an endpoint this fake knows from the documentation`];
  const problems: string[] = [];
  if (!/^Bearer \S+$/.test(String(req.headers.authorization ?? ''))) problems.push('no bearer token in Authorization');
  for (const key of new Set(req.query.keys())) {
    if (!hit.endpoint.query.includes(key)) problems.push(`query parameter ${key} is not documented`);
  }
  const perPage = req.query.get('per_page');
  if (perPage !== null && !(/^\d+$/.test(perPage) && Number(perPage) >= 1 && Number(perPage) <= 50)) problems.push('per_page must be 1-50');
  const page = req.query.get('page');
  if (page !== null && !(/^\d+$/.test(page) && Number(page) >= 1)) problems.push('page must be a positive integer');
  const selector = req.query.get('label_selector');
  if (selector !== null && !/^!?[a-zA-Z0-9./_-]+((==?|!=)[a-zA-Z0-9._-]*)?(,!?[a-zA-Z0-9./_-]+((==?|!=)[a-zA-Z0-9._-]*)?)*$/.test(selector)) {
    problems.push(`label_selector "${selector}" is not a valid selector`);
  }
  problems.push(...checkJsonBody(req, hit.endpoint.body));
  return problems;
}
