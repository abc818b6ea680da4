/**
 * What the UpCloud fake checks requests against: the API 1.3 endpoints inletsctl uses, their query
 * parameters and request bodies. UpCloud ships no machine-readable description, so these schemas
 * are written by hand from its public API reference (https://developers.upcloud.com/1.3/: servers,
 * firewall, storage) and from the request shapes its own SDK documents; they are closed
 * (`additionalProperties: false`) so a misspelt field fails.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { FakeRequest } from './fake-cloud-server.js';

interface Endpoint {
  method: string;
  pattern: RegExp;
  op: string;
  query: string[];
  body?: ValidateFunction;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const yesNo = { enum: ['yes', 'no'] };
const PORT = '^([1-9]\\d{0,3}|[1-5]\\d{4}|6[0-4]\\d{3}|65[0-4]\\d{2}|655[0-2]\\d|6553[0-5])$';
const ipAddresses = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ip_address: { type: 'array', items: { type: 'object', required: ['family'], additionalProperties: false, properties: { family: { enum: ['IPv4', 'IPv6'] }, address: { type: 'string' } } } },
  },
};

const serverCreate = ajv.compile({
  type: 'object',
  required: ['server'],
  additionalProperties: false,
  properties: {
    server: {
      type: 'object',
      required: ['zone', 'title', 'hostname', 'storage_devices'],
      additionalProperties: false,
      properties: {
        zone: { type: 'string', pattern: '^[a-z]{2}-[a-z]{3}\\d$' },
        title: { type: 'string', minLength: 1, maxLength: 255 },
        hostname: { type: 'string', maxLength: 128, pattern: '^[a-zA-Z0-9]([a-zA-Z0-9-.]*[a-zA-Z0-9])?$' },
        plan: { type: 'string' },
        core_number: { type: 'string' },
        memory_amount: { type: 'string' },
        metadata: yesNo,
        user_data: { type: 'string' },
        firewall: { enum: ['on', 'off'] },
        password_delivery: { enum: ['none', 'email', 'sms'] },
        nic_model: { enum: ['e1000', 'virtio', 'rtl8139'] },
        server_group: { type: 'string' },
        simple_backup: { type: 'string' },
        labels: {
          type: 'object',
          additionalProperties: false,
          properties: {
            label: {
              type: 'array',
              items: {
                type: 'object',
                required: ['key', 'value'],
                additionalProperties: false,
                // Keys: 2-32 of [a-zA-Z0-9_-], not starting with "_"; values up to 255 characters.
                properties: { key: { type: 'string', pattern: '^[a-zA-Z0-9-][a-zA-Z0-9_-]{1,31}$' }, value: { type: 'string', maxLength: 255 } },
              },
            },
          },
        },
        login_user: {
          type: 'object',
          additionalProperties: false,
          properties: { username: { type: 'string' }, create_password: yesNo, ssh_keys: { type: 'object', properties: { ssh_key: { type: 'array', items: { type: 'string' } } } } },
        },
        storage_devices: {
          type: 'object',
          required: ['storage_device'],
          additionalProperties: false,
          properties: {
            storage_device: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                required: ['action'],
                additionalProperties: false,
                properties: {
                  action: { enum: ['create', 'clone', 'attach'] },
                  storage: { type: 'string' },
                  title: { type: 'string', maxLength: 255 },
                  size: { type: 'integer', minimum: 1, maximum: 4096 },
                  tier: { enum: ['maxiops', 'hdd', 'standard'] },
                  address: { type: 'string' },
                },
                allOf: [{ if: { properties: { action: { enum: ['clone', 'attach'] } } }, then: { required: ['storage'] } }],
              },
            },
          },
        },
        networking: {
          type: 'object',
          additionalProperties: false,
          properties: {
            interfaces: {
              type: 'object',
              additionalProperties: false,
              properties: {
                interface: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['type', 'ip_addresses'],
                    additionalProperties: false,
                    properties: { type: { enum: ['public', 'utility', 'private'] }, network: { type: 'string' }, ip_addresses: ipAddresses, source_ip_filtering: yesNo, bootable: yesNo },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
});

const rule = {
  type: 'object',
  required: ['direction', 'action'],
  additionalProperties: false,
  properties: {
    direction: { enum: ['in', 'out'] },
    action: { enum: ['accept', 'reject', 'drop'] },
    position: { type: 'string', pattern: '^[1-9]\\d{0,2}$' },
    family: { enum: ['IPv4', 'IPv6'] },
    protocol: { enum: ['tcp', 'udp', 'icmp'] },
    icmp_type: { type: 'string' },
    destination_address_start: { type: 'string' },
    destination_address_end: { type: 'string' },
    destination_port_start: { type: 'string', pattern: PORT },
    destination_port_end: { type: 'string', pattern: PORT },
    source_address_start: { type: 'string' },
    source_address_end: { type: 'string' },
    source_port_start: { type: 'string', pattern: PORT },
    source_port_end: { type: 'string', pattern: PORT },
    comment: { type: 'string', maxLength: 250 },
  },
  // A protocol needs its address family; ports need tcp or udp.
  allOf: [
    { if: { required: ['protocol'] }, then: { required: ['family'] } },
    { if: { required: ['destination_port_start'] }, then: { required: ['protocol'], properties: { protocol: { enum: ['tcp', 'udp'] } } } },
  ],
};

const firewallBatch = ajv.compile({
  type: 'object',
  required: ['firewall_rules'],
  additionalProperties: false,
  properties: {
    firewall_rules: { type: 'object', required: ['firewall_rule'], additionalProperties: false, properties: { firewall_rule: { type: 'array', maxItems: 1000, items: rule } } },
  },
});

const serverStop = ajv.compile({
  type: 'object',
  required: ['stop_server'],
  additionalProperties: false,
  properties: {
    stop_server: {
      type: 'object',
      additionalProperties: false,
      properties: { stop_type: { enum: ['soft', 'hard'] }, timeout: { type: 'string', pattern: '^\\d{1,4}$' } },
    },
  },
});

const SERVER = '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})';
const ENDPOINTS: Endpoint[] = [
  { method: 'POST', pattern: /^\/server$/, op: 'servers.create', query: [], body: serverCreate },
  { method: 'GET', pattern: /^\/server$/, op: 'servers.list', query: ['label', 'limit', 'offset'] },
  { method: 'GET', pattern: new RegExp(`^/server/${SERVER}$`), op: 'servers.get', query: [] },
  { method: 'POST', pattern: new RegExp(`^/server/${SERVER}/stop$`), op: 'servers.stop', query: [], body: serverStop },
  { method: 'DELETE', pattern: new RegExp(`^/server/${SERVER}$`), op: 'servers.delete', query: ['storages', 'backups'] },
  { method: 'PUT', pattern: new RegExp(`^/server/${SERVER}/firewall_rule$`), op: 'firewall_rules.replace', query: [], body: firewallBatch },
  { method: 'GET', pattern: new RegExp(`^/server/${SERVER}/firewall_rule$`), op: 'firewall_rules.list', query: [] },
  { method: 'GET', pattern: /^\/storage\/template$/, op: 'storages.templates', query: ['limit', 'offset'] },
];

/** The documented endpoint for a call, with the server uuid from its path. */
export function upcloudOperation(method: string, pathname: string): { op: string; id?: string; endpoint: Endpoint } | undefined {
  for (const e of ENDPOINTS) {
    const m = e.method === method ? e.pattern.exec(pathname) : null;
    if (m) return { op: e.op, id: m[1], endpoint: e };
  }
  return undefined;
}

/** Problems with a request, per the reference. */
export function checkUpcloudRequest(req: FakeRequest): string[] {
  const hit = upcloudOperation(req.method, req.pathname);
  if (!hit) return [`${req.method} ${req.pathname} is not an endpoint this fake knows from the reference`];
  const problems: string[] = [];
  if (!/^(Bearer|Basic) \S+$/.test(String(req.headers.authorization ?? ''))) problems.push('no Bearer token or Basic credentials in Authorization');
  for (const key of new Set(req.query.keys())) {
    if (!hit.endpoint.query.includes(key)) problems.push(`query parameter ${key} is not documented`);
  }
  const limit = req.query.get('limit');
  if (limit !== null && !(/^\d+$/.test(limit) && Number(limit) >= 1 && Number(limit) <= 100)) problems.push('limit must be 1-100');
  const offset = req.query.get('offset');
  if (offset !== null && !/^\d+$/.test(offset)) problems.push('offset must be a non-negative integer');
  for (const label of req.query.getAll('label')) {
    if (!/^[a-zA-Z0-9-][a-zA-Z0-9_-]{1,31}(=[^=&]{0,255})?$/.test(label)) problems.push(`label filter "${label}" is not key or key=value`);
  }
  const storages = req.query.get('storages');
  if (storages !== null && !/^[01]$/.test(storages)) problems.push('storages must be 0 or 1');
  if (hit.endpoint.body) {
    const type = String(req.headers['content-type'] ?? '');
    if (!type.includes('application/json')) problems.push(`content-type ${type || '(none)'} is not application/json`);
    if (req.body === undefined) problems.push('a JSON body is required');
    else if (!hit.endpoint.body(req.body)) {
      for (const e of (hit.endpoint.body.errors ?? []).slice(0, 6)) problems.push(`body${e.instancePath} ${e.message ?? 'is invalid'}`);
    }
  } else if (req.rawBody.length > 0) {
    problems.push('a body was sent, but the endpoint takes none');
  }
  return problems;
}
