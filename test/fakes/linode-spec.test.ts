/**
 * The Linode fake's spec checks catch what they claim to (a check that passes everything would make
 * every "no mismatches" assertion worthless), and the one change made to the description (merging
 * its allOf's, linode-spec.ts) is needed and keeps the checks strict.
 */
import { describe, expect, it } from 'vitest';
import { requireCloudSpec } from '../helpers/cloud-specs.js';
import { OpenApiSpec } from './openapi/openapi-spec.js';
import { OpenApiValidator } from './openapi/openapi-validator.js';
import { linodeValidator } from './linode-fake.js';
import { mergeAllOf, mergeSchemas } from './linode-spec.js';
import { checkFilterHeader, checkSupplementReply, checkSupplementRequest, supplementOperation } from './linode-schemas.js';
import type { FakeRequest } from './fake-cloud-server.js';

const auth = { authorization: 'Bearer x', 'content-type': 'application/json' };

function check(v: OpenApiValidator, method: string, path: string, body?: unknown, headers: Record<string, string> = auth) {
  const url = new URL(path, 'http://x');
  return v.checkRequest({ method, pathname: url.pathname, query: url.searchParams, headers, body: body === undefined ? '' : JSON.stringify(body) });
}

const instance = {
  label: 'inlets-a-a1b2c3d4e5f6', region: 'gb-lon', type: 'g6-nanode-1', image: 'linode/debian12', root_pass: 'a-long-random-root-pass', booted: true,
  tags: ['inletsctl', 'inletsctl:inlets-a'], metadata: { user_data: 'I2Nsb3VkLWNvbmZpZwo=' }, firewall_id: 123, interface_generation: 'legacy_config',
};
const firewall = {
  label: 'inletsctl-a1b2c3d4e5f6', tags: ['inletsctl'],
  rules: { inbound_policy: 'DROP', outbound_policy: 'ACCEPT', inbound: [{ action: 'ACCEPT', protocol: 'TCP', ports: '8123,8080', addresses: { ipv4: ['0.0.0.0/0'], ipv6: ['::/0'] }, label: 'inlets-tcp-1' }], outbound: [] },
};

describe('Linode OpenAPI checks (allOf merged)', () => {
  it('accepts what inletsctl sends and names the operations', () => {
    const v = linodeValidator();
    expect(check(v, 'POST', '/v4/linode/instances', instance)).toMatchObject({ op: { operationId: 'post-linode-instance' }, problems: [] });
    expect(check(v, 'POST', '/v4/networking/firewalls', firewall)).toMatchObject({ op: { operationId: 'post-firewalls' }, problems: [] });
    expect(check(v, 'GET', '/v4/linode/instances?page=2&page_size=100')).toMatchObject({ op: { operationId: 'get-linode-instances' }, problems: [] });
    expect(check(v, 'DELETE', '/v4/networking/firewalls/7')).toMatchObject({ op: { operationId: 'delete-firewall' }, problems: [] });
  });

  it('finds misspelt fields, wrong types, bad labels, bad rules, bad paging, missing tokens and unknown paths', () => {
    const v = linodeValidator();
    expect(check(v, 'POST', '/v4/linode/instances', { ...instance, plan: 'g6-nanode-1' }).problems.join()).toMatch(/additional properties.*plan/);
    expect(check(v, 'POST', '/v4/linode/instances', { ...instance, tags: 'inletsctl' }).problems.join()).toMatch(/tags must be array/);
    expect(check(v, 'POST', '/v4/linode/instances', { ...instance, label: '1-starts-with-a-digit' }).problems.join()).toMatch(/label must match pattern/);
    expect(check(v, 'POST', '/v4/linode/instances', { ...instance, metadata: { userdata: 'x' } }).problems.join()).toMatch(/metadata must NOT have additional properties/);
    expect(check(v, 'POST', '/v4/networking/firewalls', { ...firewall, rules: { inbound_policy: 'DROP' } }).problems.join()).toMatch(/required property 'outbound_policy'/);
    const noAction = { ...firewall, rules: { ...firewall.rules, inbound: [{ protocol: 'TCP', ports: '80', addresses: { ipv4: ['0.0.0.0/0'] } }] } };
    expect(check(v, 'POST', '/v4/networking/firewalls', noAction).problems.join()).toMatch(/inbound\/0 must have required property 'action'/);
    expect(check(v, 'POST', '/v4/networking/firewalls', { ...firewall, label: 'x'.repeat(33) }).problems.join()).toMatch(/label must NOT have more than 32/);
    expect(check(v, 'GET', '/v4/linode/instances?page_size=10').problems.join()).toMatch(/page_size must be >= 25/);
    expect(check(v, 'GET', '/v4/linode/instances?tags=inletsctl').problems).toContain('query parameter tags is not documented');
    expect(check(v, 'GET', '/v4/linode/instances/abc').problems.join()).toMatch(/linodeId must be integer/);
    expect(check(v, 'GET', '/v5/linode/instances').problems.join()).toMatch(/apiVersion must be equal to one of/);
    expect(check(v, 'GET', '/v4/linode/instances', undefined, {}).problems).toContain('no bearer token in Authorization');
    expect(check(v, 'GET', '/v4/linode/volumes').problems).toEqual(['path not documented']);
  });

  it('checks answers: documented statuses, the error format, additionalProperties', () => {
    const v = linodeValidator();
    const get = check(v, 'GET', '/v4/linode/instances/1').op!;
    expect(v.checkResponse(get, 200, JSON.stringify({ id: 1, label: 'abc', status: 'running', ipv4: ['192.0.2.1'] }), 'application/json')).toEqual([]);
    expect(v.checkResponse(get, 200, JSON.stringify({ id: 1, status: 'up' }), 'application/json').join()).toMatch(/status must be equal to one of/);
    expect(v.checkResponse(get, 200, JSON.stringify({ id: 1, public_ip: 'x' }), 'application/json').join()).toMatch(/additional properties/);
    expect(v.checkResponse(get, 404, JSON.stringify({ errors: [{ reason: 'Not found' }] }), 'application/json')).toEqual([]);
    expect(v.checkResponse(get, 404, JSON.stringify({ error: 'Not found' }), 'application/json').join()).toMatch(/additional properties/);
    const del = check(v, 'DELETE', '/v4/linode/instances/1').op!;
    expect(v.checkResponse(del, 200, '{}', 'application/json')).toEqual([]);
    expect(v.checkResponse(del, 200, JSON.stringify({ ok: true }), 'application/json').join()).toMatch(/must NOT have more than 0 properties/);
  });

  it('read literally (allOf not merged), the description refuses every create with a label, and a firewall with its required policies', () => {
    const literal = new OpenApiValidator(new OpenApiSpec(requireCloudSpec('linode/openapi-subset.json')));
    expect(check(literal, 'POST', '/v4/linode/instances', instance).problems.join()).toMatch(/additional properties.*"label"/);
    expect(check(literal, 'POST', '/v4/networking/firewalls', firewall).problems.join()).toMatch(/additional properties.*"inbound_policy"/);
  });

  it('merges allOf members and siblings, keeps additionalProperties false over the union, moves object keywords off arrays', () => {
    expect(mergeAllOf({ allOf: [{ type: 'object', additionalProperties: false, properties: { a: { type: 'string' } } }, { properties: { b: { type: 'integer' } } }], required: ['b'] })).toEqual({
      required: ['b'], type: 'object', additionalProperties: false, properties: { a: { type: 'string' }, b: { type: 'integer' } },
    });
    expect(mergeSchemas({ type: 'array', items: { type: 'object', properties: { x: {} } } }, { required: ['x'] })).toEqual({ type: 'array', items: { type: 'object', properties: { x: {} }, required: ['x'] } });
  });
});

describe('Linode checks of what the subset lacks (regions, images, X-Filter)', () => {
  const req = (method: string, path: string, headers: Record<string, string> = auth, body?: unknown): FakeRequest => {
    const url = new URL(path, 'http://x');
    return { method, pathname: url.pathname, query: url.searchParams, headers, rawBody: body === undefined ? '' : JSON.stringify(body), body };
  };

  it('names the operations, with image ids that hold a slash', () => {
    expect(supplementOperation('GET', '/v4/regions/gb-lon')).toEqual({ op: 'get-region', id: 'gb-lon' });
    expect(supplementOperation('GET', '/v4/images/linode/debian12')).toEqual({ op: 'get-image', id: 'linode/debian12' });
    expect(supplementOperation('GET', '/v4/images/private/123')).toEqual({ op: 'get-image', id: 'private/123' });
    expect(supplementOperation('DELETE', '/v4/regions/gb-lon')).toBeUndefined();
  });

  it('finds a missing token, a body, query parameters and bad answers', () => {
    expect(checkSupplementRequest(req('GET', '/v4/regions/gb-lon'))).toEqual([]);
    expect(checkSupplementRequest(req('GET', '/v4/regions/gb-lon', {}))).toContain('no bearer token in Authorization');
    expect(checkSupplementRequest(req('GET', '/v4/regions/gb-lon?x=1'))).toContain('query parameter x is not documented');
    expect(checkSupplementRequest(req('GET', '/v4/regions/gb-lon', auth, { a: 1 }))).toContain('a body was sent, but the operation documents none');
    expect(checkSupplementReply('get-region', { status: 200, body: { id: 'gb-lon', label: 'London', capabilities: 'Metadata', status: 'ok' } }).join()).toMatch(/capabilities/);
    expect(checkSupplementReply('get-image', { status: 404, body: { message: 'no' } })).toEqual(['error body is not { errors: [...] }']);
  });

  it('allows X-Filter only on the instance list, as a tags filter', () => {
    expect(checkFilterHeader(req('GET', '/v4/linode/instances', { ...auth, 'x-filter': '{"tags":"inletsctl"}' }), 'get-linode-instances')).toEqual([]);
    expect(checkFilterHeader(req('GET', '/v4/linode/instances', { ...auth, 'x-filter': 'tags=inletsctl' }), 'get-linode-instances')).toEqual(['X-Filter is not JSON']);
    expect(checkFilterHeader(req('GET', '/v4/linode/instances', { ...auth, 'x-filter': '{"label":"x"}' }), 'get-linode-instances').join()).toMatch(/honours only/);
    expect(checkFilterHeader(req('GET', '/v4/networking/firewalls', { ...auth, 'x-filter': '{"tags":"x"}' }), 'get-firewalls')).toEqual(['X-Filter is not documented for get-firewalls']);
  });
});
