/**
 * The Vultr fake's spec checks must catch what they claim to (as test/fakes/spec-checks.test.ts
 * does for DigitalOcean and Hetzner): a check that passed everything would make every "no
 * mismatches" assertion in the Vultr tests worthless.
 */
import { describe, expect, it } from 'vitest';
import { VULTR_SPEC_NOTES, checkErrorBody, checkVultrRequest, vultrValidator } from './vultr-fake.js';

describe('vultr fake: its spec checks catch what they claim to', () => {
  const auth = { authorization: 'Bearer x', 'content-type': 'application/json' };
  const check = (method: string, path: string, body?: unknown, headers: Record<string, string> = auth) => {
    const url = new URL(path, 'http://x');
    return checkVultrRequest({ method, pathname: url.pathname, query: url.searchParams, headers, rawBody: body === undefined ? '' : JSON.stringify(body) });
  };
  const good = { region: 'lhr', plan: 'vc2-1c-1gb', os_id: 2136, label: 'a', user_data: 'IyE=', tags: ['inletsctl'] };

  it('accepts a valid create and names the operation; finds wrong types, undocumented fields and parameters, and missing tokens', () => {
    expect(check('POST', '/instances', good)).toMatchObject({ op: { operationId: 'create-instance' }, problems: [] });
    expect(check('POST', '/instances', { ...good, os_id: '2136' }).problems.join()).toMatch(/os_id must be integer/);
    expect(check('POST', '/instances', { ...good, userdata: 'x' }).problems).toContain('request body field userdata is not documented');
    expect(check('POST', '/instances', { label: 'x' }).problems.join()).toMatch(/required property 'region'/);
    expect(check('GET', '/instances?tags=inletsctl').problems).toContain('query parameter tags is not documented');
    expect(check('GET', '/instances?per_page=many').problems.join()).toMatch(/per_page/);
    expect(check('GET', '/instances', undefined, {}).problems).toContain('no bearer token in Authorization');
    expect(check('POST', '/firewalls/abc/rules', { ip_type: 'v4', protocol: 'tcp', port: '22' }).problems.join()).toMatch(/subnet/);
    expect(check('GET', '/instancez').problems).toEqual(['path not documented']);
  });

  it('names the places where the description disagrees with itself', () => {
    expect(VULTR_SPEC_NOTES.length).toBeGreaterThan(2);
  });

  it('checks responses: documented bodies, and error bodies as the introduction describes them', () => {
    const { op } = check('GET', '/instances/abc');
    expect(vultrValidator().checkResponse(op!, 200, JSON.stringify({ instance: { id: 5 } }), 'application/json').join()).toMatch(/id must be string/);
    expect(checkErrorBody(op!, 404, { error: 'Invalid instance-id.', status: 404 })).toEqual([]);
    expect(checkErrorBody(op!, 429, { error: 'slow down', status: 429 })).toEqual([]);
    expect(checkErrorBody(op!, 404, { message: 'x' })).toEqual(['a 4xx answer without a JSON `error` string']);
    expect(checkErrorBody(op!, 418, { error: 'x' })[0]).toMatch(/documented neither/);
  });
});
