/**
 * The fakes' spec checks must catch what they claim to: a check that passes everything would make
 * every "no mismatches" assertion in the provider tests worthless.
 */
import { describe, expect, it } from 'vitest';
import { digitalOceanValidator } from './digitalocean-fake.js';
import { checkHetznerRequest } from './hetzner-schemas.js';
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
