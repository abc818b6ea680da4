/**
 * The openstack and ovh providers against the OpenStack fake (Keystone, Nova, Neutron), through the
 * Provider interface (the CLI level is in contract-openstack.test.ts and contract-ovh.test.ts). Each test ends by requiring no
 * spec mismatch and no fake problem.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mapServerStatus, openStackProviderFactory } from '../../providers/openstack/openstack-provider.js';
import { parseSimpleYaml } from '../../providers/openstack/clouds-yaml.js';
import { keystoneV3, tokenRequest } from '../../providers/openstack/openstack-auth.js';
import { ovhProvider } from '../../providers/ovh/index.js';
import { openstackProvider } from '../../providers/openstack/index.js';
import { API_TIMEOUT_ENV } from '../../providers/shared/rest-client.js';
import { OpenStackFake, type OpenStackFakeOptions } from '../fakes/openstack-fake.js';
import { leftovers } from '../fakes/index.js';
import { deleteUntilDone, rejection, request as baseRequest, waitActive } from './provider-steps.js';
import { deletedByNewProvider, finishedByNewProvider, foreignIdForbidden, sameNameSurvives } from '../helpers/v2-provider-checks.js';
import type { CreateRequest, Provider } from '../../src/core/provider.js';

const PASSWORD = 'os-dummy-password-for-the-fake';
const OS_VARS = Object.keys(process.env).filter((k) => k.startsWith('OS_'));
let stateDir: string;
let fake: OpenStackFake;
const saved: Record<string, string | undefined> = {};

beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'openstack-provider-'));
  saved[API_TIMEOUT_ENV] = process.env[API_TIMEOUT_ENV];
  process.env[API_TIMEOUT_ENV] = '1500';
  for (const k of OS_VARS) {
    saved[k] = process.env[k];
    delete process.env[k]; // the developer's own cloud must not leak into the tests
  }
});
afterAll(() => {
  rmSync(stateDir, { recursive: true, force: true });
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
afterEach(async () => {
  expect(fake.mismatches).toEqual([]);
  expect(fake.problems).toEqual([]);
  await fake.close();
});

function request(name: string, overrides: Partial<CreateRequest> = {}): CreateRequest {
  return baseRequest(name, { region: 'RegionOne', plan: 'm1.small', image: 'debian-12', firewall: true, ...overrides });
}

function providerFor(options: Record<string, unknown> = {}, password = PASSWORD): Provider {
  return openStackProviderFactory({ provider: 'openstack', defaultRegion: 'RegionOne' })({
    credentials: { password },
    apiUrl: fake.url,
    options: { network: 'public', username: 'demo', 'project-name': 'demo', ...options },
    stateDir,
  });
}

async function start(options: OpenStackFakeOptions = {}, providerOptions: Record<string, unknown> = {}): Promise<Provider> {
  fake = new OpenStackFake({ boot: false, acceptToken: PASSWORD, ...options });
  await fake.start();
  return providerFor(providerOptions);
}

describe('openstack provider', () => {
  it('creates a marked server with a group opening exactly openPorts, sees it active, lists it across pages, deletes everything', async () => {
    const provider = await start({ maxPerPage: 1, foreignServers: 2, activeAfterPolls: 3 });
    const req = request('inlets-brave-otter', { ports: [8080, 2222], openPorts: [2222, 8080, 8123] });
    const created = await provider.create(req);
    expect(created).toMatchObject({ name: req.name, tunnelId: req.tunnelId, status: 'provisioning', providerStatus: 'BUILD' });
    const server = fake.serverRecord(created.id)!;
    expect(server.userData.equals(req.userData)).toBe(true);
    expect(server.metadata).toMatchObject({ 'managed-by': 'inletsctl', 'inletsctl-name': req.name, 'inletsctl-tunnel': req.tunnelId });
    const ingress = fake.rulesOf(created.data!.securityGroupId).filter((r) => r.direction === 'ingress');
    expect(ingress.map((r) => `${String(r.ethertype)}:${String(r.port_range_min)}-${String(r.port_range_max)}`).sort()).toEqual(
      ['IPv4:2222-2222', 'IPv4:8080-8080', 'IPv4:8123-8123', 'IPv6:2222-2222', 'IPv6:8080-8080', 'IPv6:8123-8123'],
    );

    const active = await waitActive(provider, created);
    expect(active.ip).toMatch(/^127\.\d+\.\d+\.\d+$/);
    const byTunnel = await providerFor().status({ name: req.name, tunnelId: req.tunnelId });
    expect(byTunnel).toMatchObject({ id: created.id, tunnelId: req.tunnelId, status: 'active' });
    const listed = await provider.list();
    expect(listed).toEqual([expect.objectContaining({ id: created.id, name: req.name, tunnelId: req.tunnelId })]);

    await deleteUntilDone(provider, { name: req.name, tunnelId: req.tunnelId, id: created.id });
    expect(leftovers(fake)).toEqual({});
  });

  it('delete by tunnel id leaves a same-named host with another tunnel id untouched', async () => {
    await start();
    await sameNameSurvives(() => providerFor(), request('twin'), request('twin'));
    expect(leftovers(fake)).toEqual({});
  });

  it('refuses to delete a server without our mark (FORBIDDEN) and leaves it', async () => {
    const provider = await start({ foreignServers: 1 });
    const [foreignId] = fake.foreignServerIds();
    await foreignIdForbidden(provider, { name: 'web-1', id: foreignId });
    expect(fake.holdings().foreignServersMissing).toBe(0);
  });

  it('a create dropped right after its API calls is finished by a new provider object, status only reading', async () => {
    await start({ activeAfterPolls: 3 });
    await finishedByNewProvider(() => providerFor(), request('dropped-finished'));
    expect(leftovers(fake)).toEqual({});
  });

  it('a create dropped right after its API calls is deleted by a new provider object', async () => {
    await start();
    await deletedByNewProvider(() => providerFor(), request('dropped-deleted'));
    expect(leftovers(fake)).toEqual({});
  });

  it('a create cut off after the security group is cleaned up by a new provider instance, by tunnel id', async () => {
    const provider = await start();
    fake.inject({ op: 'servers:post', kind: 'server-error' });
    const req = request('cut-off');
    const err = await rejection(provider.create(req));
    expect(err).toMatchObject({ code: 'API_UNAVAILABLE', retryable: false });
    expect(fake.holdings().securityGroups).toBe(1);
    // Another process, knowing only the tunnel id from state.
    await deleteUntilDone(providerFor(), { name: req.name, tunnelId: req.tunnelId });
    expect(leftovers(fake)).toEqual({});
  });

  it('a create whose answer was lost is found and finished by a new provider instance', async () => {
    const provider = await start();
    fake.inject({ op: 'servers:post', kind: 'drop', after: true });
    const req = request('lost-answer');
    await rejection(provider.create(req));
    const again = providerFor();
    const host = await waitActive(again, { name: req.name, tunnelId: req.tunnelId });
    expect(host.tunnelId).toBe(req.tunnelId);
    await deleteUntilDone(again, { name: req.name, tunnelId: req.tunnelId });
    expect(leftovers(fake)).toEqual({});
  });

  it('429 is RATE_LIMITED with Retry-After, quoting the cloud and never the password', async () => {
    const provider = await start();
    fake.inject({ op: 'flavors:get', kind: 'rate-limit', retryAfterSeconds: 3 });
    const err = await rejection(provider.create(request('limited')));
    expect(err).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 3000 });
    expect(err.message).toMatch(/rate limit exceeded/);
    expect(err.message).not.toContain(PASSWORD);
    expect(leftovers(fake)).toEqual({});
  });

  it('a refused credential is AUTH and the message carries no secret', async () => {
    fake = new OpenStackFake({ boot: false, acceptToken: PASSWORD });
    await fake.start();
    const err = await rejection(providerFor({}, 'wrong-secret-123').list());
    expect(err).toMatchObject({ code: 'AUTH' });
    expect(err.message).toMatch(/requires authentication/);
    expect(err.message).not.toContain('wrong-secret-123');
  });

  it('with --floating-ip-network: a port on the private network and a floating IP, all deleted', async () => {
    const provider = await start({}, { network: 'private', 'floating-ip-network': 'public' });
    const req = request('floating');
    const created = await provider.create(req);
    expect(created.ip).toMatch(/^127\./);
    expect(created.data).toMatchObject({ portId: expect.any(String), floatingIpId: expect.any(String) });
    const active = await waitActive(provider, created);
    expect(active.ip).toBe(created.ip);
    await deleteUntilDone(provider, { name: req.name, tunnelId: req.tunnelId, id: created.id });
    expect(leftovers(fake)).toEqual({});
  });

  it('reads the settings from clouds.yaml (--os-cloud)', async () => {
    fake = new OpenStackFake({ boot: false, acceptToken: PASSWORD });
    await fake.start();
    const file = join(stateDir, 'clouds.yaml');
    writeFileSync(file, `# mine\nclouds:\n  lab:\n    region_name: RegionOne\n    auth:\n      auth_url: "${fake.url}"\n      username: demo\n      password: '${PASSWORD}'\n      project_id: 3c1e7a2b-0000-4000-8000-00000000fa4e\n      user_domain_name: Default\n`, { mode: 0o600 });
    process.env.OS_CLIENT_CONFIG_FILE = file;
    try {
      const provider = openStackProviderFactory({ provider: 'openstack', defaultRegion: 'RegionOne' })({ credentials: {}, options: { 'os-cloud': 'lab', network: 'public' }, stateDir });
      expect(await provider.list()).toEqual([]);
    } finally {
      delete process.env.OS_CLIENT_CONFIG_FILE;
    }
  });
});

describe('openstack pieces', () => {
  it('declares a flag for every setting it reads from its options (the CLI refuses unknown flags)', () => {
    const read = ['auth-url', 'os-cloud', 'username', 'user-domain-name', 'project-name', 'project-id', 'project-domain-name', 'application-credential-id', 'application-credential-name', 'interface', 'network', 'floating-ip-network'];
    for (const m of [openstackProvider, ovhProvider]) expect(Object.keys(m.description.extraFlags).sort()).toEqual([...read].sort());
  });

  it('maps Nova states', () => {
    expect(mapServerStatus({ status: 'BUILD' })).toBe('provisioning');
    expect(mapServerStatus({ status: 'ACTIVE' })).toBe('active');
    expect(mapServerStatus({ status: 'ACTIVE', 'OS-EXT-STS:task_state': 'deleting' })).toBe('deleting');
    expect(mapServerStatus({ status: 'ERROR' })).toBe('error');
    expect(mapServerStatus({ status: 'SHUTOFF' })).toBe('error');
  });

  it('parses the clouds.yaml subset', () => {
    expect(parseSimpleYaml('clouds:\n  a:\n    auth:\n      x: "q # not a comment"  # comment\n      y: plain\n  b:\n    region_name: DE1\n')).toEqual({
      clouds: { a: { auth: { x: 'q # not a comment', y: 'plain' } }, b: { region_name: 'DE1' } },
    });
  });

  it('builds token requests: application credential without scope, password with a project', () => {
    expect(keystoneV3('https://auth.cloud.ovh.net/')).toBe('https://auth.cloud.ovh.net/v3');
    const base = { authUrl: 'x', userDomainName: 'Default', projectDomainName: 'Default', interface: 'public' };
    expect(tokenRequest({ ...base, applicationCredentialId: 'id1', applicationCredentialSecret: 's' })).toEqual({
      auth: { identity: { methods: ['application_credential'], application_credential: { id: 'id1', secret: 's' } } },
    });
    expect(tokenRequest({ ...base, username: 'u', password: 'p', projectName: 'pr' })).toMatchObject({ auth: { scope: { project: { name: 'pr', domain: { name: 'Default' } } } } });
  });

  it('ovh is the same implementation with OVHcloud defaults, and both fit user-data within Nova\'s limit', () => {
    expect(ovhProvider.description.defaults).toMatchObject({ region: 'GRA11', plan: 'd2-2', image: 'Debian 12' });
    expect(ovhProvider.description.extraFlags.network.default).toBe('Ext-Net');
    expect(ovhProvider.description.extraFlags['auth-url'].default).toBe('https://auth.cloud.ovh.net/v3');
    // base64 of the limit stays within Nova's 65535 characters.
    expect(Math.ceil(openstackProvider.description.userData.limitBytes / 3) * 4).toBeLessThanOrEqual(65535);
    expect(ovhProvider.description.userData).toEqual(openstackProvider.description.userData);
  });
});
