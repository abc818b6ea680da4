/**
 * The fakes' spec checks must catch what they claim to: a check that passes everything would make
 * every "no mismatches" assertion in the provider tests worthless.
 */
import { describe, expect, it } from 'vitest';
import { digitalOceanValidator } from './digitalocean-fake.js';
import { checkHetznerRequest } from './hetzner-schemas.js';
import { exoscaleValidator } from './exoscale-fake.js';
import type { FakeRequest } from './fake-cloud-server.js';

const auth = { authorization: 'Bearer x', 'content-type': 'application/json' };

function doRequest(method: string, path: string, body?: unknown, headers: Record<string, string> = auth) {
  const url = new URL(path, 'http://x');
  return digitalOceanValidator().checkRequest({ method, pathname: url.pathname, query: url.searchParams, headers, body: body === undefined ? '' : JSON.stringify(body) });
}

describe('DigitalOcean OpenAPI checks', () => {
  const good = { name: 'inlets-a', region: 'lon1', size: 's-1vcpu-512mb-10gb', image: 'debian-12-x64', user_data: '#cloud-config\n', tags: ['inletsctl', 'inletsctl:inlets-a'] };

  it('accepts a valid droplet create and names the operation', () => {
    expect(doRequest('POST', '/v2/droplets', good)).toMatchObject({ op: { operationId: 'droplets_create' }, problems: [] });
  });

  it('finds wrong types, bad tags, unknown query parameters, missing tokens and unknown paths', () => {
    expect(doRequest('POST', '/v2/droplets', { ...good, size: 5 }).problems.join()).toMatch(/size must be string/);
    expect(doRequest('POST', '/v2/droplets', { ...good, name: 'bad name!' }).problems.join()).toMatch(/must match pattern/);
    expect(doRequest('GET', '/v2/droplets?tag=inletsctl').problems).toContain('query parameter tag is not documented');
    expect(doRequest('GET', '/v2/droplets?per_page=many').problems.join()).toMatch(/per_page/);
    expect(doRequest('GET', '/v2/droplets/abc').problems.join()).toMatch(/droplet_id must be integer/);
    expect(doRequest('GET', '/v2/droplets', undefined, {}).problems).toContain('no bearer token in Authorization');
    expect(doRequest('GET', '/v2/dropletz').problems).toEqual(['path not documented']);
    expect(doRequest('PATCH', '/v2/droplets').problems[0]).toMatch(/method PATCH not documented/);
    expect(doRequest('DELETE', '/v2/firewalls/not-a-uuid').problems.join()).toMatch(/uuid/);
  });

  it('checks response bodies and status codes against the operation', () => {
    const { op } = doRequest('GET', '/v2/droplets/1');
    const v = digitalOceanValidator();
    expect(v.checkResponse(op!, 200, JSON.stringify({ droplet: { id: 1 } }), 'application/json').join()).toMatch(/must have required property 'name'/);
    expect(v.checkResponse(op!, 404, JSON.stringify({ id: 'not_found', message: 'x' }), 'application/json')).toEqual([]);
    expect(v.checkResponse(op!, 404, JSON.stringify({ message: 'x' }), 'application/json').join()).toMatch(/required property 'id'/);
    const del = doRequest('DELETE', '/v2/droplets/1').op!;
    expect(v.checkResponse(del, 204, '', undefined)).toEqual([]);
  });
});

describe('Hetzner documented request checks', () => {
  const req = (method: string, path: string, body?: unknown, headers: Record<string, string> = auth): FakeRequest => {
    const url = new URL(path, 'http://x');
    const rawBody = body === undefined ? '' : JSON.stringify(body);
    return { method, pathname: url.pathname, query: url.searchParams, headers, rawBody, body };
  };
  const server = { name: 'inlets-a', server_type: 'cx23', image: 'debian-12', location: 'fsn1', labels: { 'managed-by': 'inletsctl' } };

  it('accepts what the docs allow', () => {
    expect(checkHetznerRequest(req('POST', '/servers', server))).toEqual([]);
    expect(checkHetznerRequest(req('GET', '/servers?label_selector=managed-by%3Dinletsctl&page=2&per_page=50'))).toEqual([]);
  });

  it('finds misspelt fields, bad labels, bad rules, bad paging and unknown endpoints', () => {
    expect(checkHetznerRequest(req('POST', '/servers', { ...server, type: 'cx23' })).join()).toMatch(/additional properties/);
    expect(checkHetznerRequest(req('POST', '/servers', { ...server, labels: { 'managed-by': 'in lets' } })).length).toBeGreaterThan(0);
    const rule = { direction: 'in', protocol: 'tcp', source_ips: ['0.0.0.0/0'] };
    expect(checkHetznerRequest(req('POST', '/firewalls', { name: 'f', rules: [rule] })).join()).toMatch(/port/);
    expect(checkHetznerRequest(req('GET', '/servers?per_page=100'))).toContain('per_page must be 1-50');
    expect(checkHetznerRequest(req('GET', '/servers?labels=x'))).toContain('query parameter labels is not documented');
    expect(checkHetznerRequest(req('GET', '/servers', undefined, {}))).toContain('no bearer token in Authorization');
    expect(checkHetznerRequest(req('PUT', '/servers/1'))[0]).toMatch(/not an endpoint/);
  });
});

describe('Exoscale OpenAPI checks', () => {
  const json = { 'content-type': 'application/json' };
  const exo = (method: string, path: string, body?: unknown) => {
    const url = new URL(path, 'http://x');
    return exoscaleValidator().checkRequest({ method, pathname: url.pathname, query: url.searchParams, headers: json, body: body === undefined ? '' : JSON.stringify(body) });
  };
  const instance = {
    name: 'inlets-a', 'instance-type': { id: '0b1a0000-0000-4000-8000-000000000001' }, template: { id: '7e3a0000-0000-4000-8000-000000000013' }, 'disk-size': 10,
    'security-groups': [{ id: '5e60d000-0000-4000-8000-000000000001' }], 'public-ip-assignment': 'inet4', labels: { 'managed-by': 'inletsctl' }, 'user-data': 'I2Nsb3VkLWNvbmZpZwo=',
  };

  it('accepts what inletsctl sends and names the operations', () => {
    expect(exo('POST', '/instance', instance)).toMatchObject({ op: { operationId: 'create-instance' }, problems: [] });
    expect(exo('GET', '/template?visibility=public')).toMatchObject({ op: { operationId: 'list-templates' }, problems: [] });
    expect(exo('POST', '/security-group/5e60d000-0000-4000-8000-000000000001/rules', { 'flow-direction': 'ingress', protocol: 'tcp', network: '0.0.0.0/0', 'start-port': 8123, 'end-port': 8123 }).problems).toEqual([]);
    expect(exo('GET', '/operation/5e60d000-0000-4000-8000-000000000001').op?.operationId).toBe('get-operation');
  });

  it('finds missing fields, bad values, user-data over its limit, unknown parameters and paths', () => {
    const { 'disk-size': _omit, ...noDisk } = instance;
    expect(exo('POST', '/instance', noDisk).problems.join()).toMatch(/disk-size/);
    expect(exo('POST', '/instance', { ...instance, 'disk-size': 5 }).problems.join()).toMatch(/must be >= 10/);
    expect(exo('POST', '/instance', { ...instance, 'user-data': 'A'.repeat(32_772) }).problems.join()).toMatch(/must NOT have more than 32768 characters/);
    expect(exo('POST', '/instance', { ...instance, 'public-ip-assignment': 'ipv4' }).problems.join()).toMatch(/allowed values/);
    expect(exo('POST', '/security-group/x/rules', { protocol: 'tcp' }).problems.join()).toMatch(/flow-direction|uuid/);
    expect(exo('GET', '/template?visibility=everyone').problems.join()).toMatch(/visibility/);
    expect(exo('GET', '/instance?page=2').problems).toContain('query parameter page is not documented');
    expect(exo('GET', '/instances').problems).toEqual(['path not documented']);
  });

  it('checks response bodies against the operation', () => {
    const v = exoscaleValidator();
    const { op } = exo('GET', '/operation/5e60d000-0000-4000-8000-000000000001');
    expect(v.checkResponse(op!, 200, JSON.stringify({ id: '5e60d000-0000-4000-8000-000000000001', state: 'pending' }), 'application/json')).toEqual([]);
    expect(v.checkResponse(op!, 200, JSON.stringify({ id: '5e60d000-0000-4000-8000-000000000001', state: 'done' }), 'application/json').join()).toMatch(/allowed values/);
    expect(v.checkResponse(op!, 404, JSON.stringify({ message: 'x' }), 'application/json').join()).toMatch(/status 404 not documented/);
  });
});
