/**
 * The Civo provider against the Civo fake, through the Provider interface (the CLI level is in
 * contract-civo.test.ts). The fake checks requests against Civo's documented request shapes;
 * each test ends by requiring no mismatch.
 */
import { describe, expect, it } from 'vitest';
import { createCivoProvider, mapInstanceStatus } from '../../providers/civo/civo-provider.js';
import { civoProvider } from '../../providers/civo/index.js';
import { firewallName, readFirewallName } from '../../providers/civo/civo-firewall.js';
import { CivoFake, type CivoFakeOptions } from '../fakes/civo-fake.js';
import { leftovers } from '../fakes/index.js';
import { deleteUntilDone, rejection, request as baseRequest, waitActive } from './provider-steps.js';
import { useFakeTestHooks } from './fake-test-hooks.js';
import { deletedByNewProvider, finishedByNewProvider, foreignIdForbidden, sameNameSurvives } from '../helpers/v2-provider-checks.js';
import type { CreateRequest } from '../../src/core/provider.js';
import { expectListFaultsMapped } from '../helpers/fault-mapping.js';

const TOKEN = 'civo-dummy-api-key-for-the-fake';
let fake: CivoFake;
const stateDir = useFakeTestHooks('civo-provider', () => fake);

const SCRIPT = Buffer.from('#!/bin/bash\nset -euo pipefail\necho hello\n');

function request(name: string, overrides: Partial<CreateRequest> = {}): CreateRequest {
  return baseRequest(name, { region: 'LON1', plan: 'g3.xsmall', image: 'debian-12', userData: SCRIPT, ...overrides });
}

async function start(options: CivoFakeOptions = {}) {
  fake = new CivoFake({ boot: false, ...options });
  await fake.start();
  return newProvider();
}

/** A new provider object on the running fake: nothing carried over in memory. */
function newProvider() {
  return createCivoProvider({ credentials: { 'access-token': TOKEN }, apiUrl: fake.url, options: {}, stateDir: stateDir() });
}

describe('civo provider', () => {
  it('creates a tagged instance behind its own firewall, sees it active, lists it across pages, and deletes everything', async () => {
    const provider = await start({ maxPerPage: 1, foreignInstances: 3, activeAfterPolls: 3 });
    const otter = request('inlets-brave-otter-0001', { ports: [2222, 8080], openPorts: [2222, 8080, 8123] });
    const created = await provider.create(otter);
    expect(created).toMatchObject({ name: otter.name, tunnelId: otter.tunnelId, status: 'provisioning', providerStatus: 'BUILDING', region: 'LON1' });
    expect(created.ip).toBeUndefined();

    // The script is sent as it was rendered; the marks are space-separated tags.
    const sent = fake.createdWith(created.id)!;
    expect(sent.script).toBe(SCRIPT.toString('utf8'));
    expect(sent.tags).toEqual(['inletsctl', `inletsctl:${otter.name}`, `inletsctl-tunnel:${otter.tunnelId}`]);

    // Its own firewall, marked by name: Civo's default rules off, exactly the tunnel's ports in.
    const fwId = fake.firewallOf(created.id)!;
    expect(created.data?.firewallId).toBe(fwId);
    const rules = fake.rulesOf(fwId);
    const ingress = rules.filter((r) => r.direction === 'ingress');
    expect(ingress.map((r) => [r.protocol, r.start_port, r.end_port, r.cidr])).toEqual([2222, 8080, 8123].map((p) => ['tcp', String(p), String(p), ['0.0.0.0/0']]));
    expect(rules.filter((r) => r.direction === 'egress').map((r) => r.protocol)).toEqual(['tcp', 'udp']);

    const active = await waitActive(provider, created);
    expect(active.ip).toMatch(/^127\.0\.\d+\.\d+$/);

    const calm = request('inlets-calm-yak-0002', { expiresAt: '2030-01-01T00:00:00.000Z' });
    await provider.create(calm);
    const listed = await provider.list();
    expect(listed.map((h) => h.name).sort()).toEqual([otter.name, calm.name]);
    expect(listed.find((h) => h.name === calm.name)).toMatchObject({ tunnelId: calm.tunnelId, expiresAt: calm.expiresAt, region: 'LON1' });

    expect(await deleteUntilDone(provider, { name: otter.name, id: created.id, tunnelId: otter.tunnelId, region: 'LON1' })).toBeGreaterThan(2);
    await deleteUntilDone(provider, { name: calm.name, tunnelId: calm.tunnelId });
    expect(leftovers(fake)).toEqual({});
    const ops = new Set(fake.log.map((e) => e.op));
    for (const op of ['networks.list', 'disk_images.list', 'firewalls.create', 'firewall_rules.create', 'instances.create', 'instances.get', 'instances.list', 'instances.delete', 'firewalls.list', 'firewalls.delete']) {
      expect(ops, op).toContain(op);
    }
    // One instance a page: several pages were followed.
    expect(fake.log.filter((e) => e.op === 'instances.list' && e.path === '/instances').length).toBeGreaterThan(5);
  });

  it('finds an instance by id alone in another region, and deletes it with its firewall', async () => {
    const provider = await start();
    const fra = request('inlets-swift-lynx-0003', { region: 'FRA1' });
    const created = await provider.create(fra);
    const found = await provider.status({ name: created.id, id: created.id });
    expect(found).toMatchObject({ id: created.id, region: 'FRA1', tunnelId: fra.tunnelId, name: fra.name });
    await deleteUntilDone(provider, { name: found.name, id: found.id, tunnelId: found.tunnelId, region: found.region });
    expect(leftovers(fake)).toEqual({});
    await expect(provider.status({ name: 'gone', id: created.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('maps errors to codes, quoting Civo\'s code and reason and never the key', async () => {
    const provider = await start();
    await expectListFaultsMapped(fake, provider, {
      op: 'instances.list',
      secret: TOKEN,
      texts: { 'rate-limit': 'too_many_requests', 'server-error': 'internal server error (injected)', drop: 'GET /v2/instances', hang: 'no answer within 1500 ms' },
    });
    fake.inject({ kind: 'rate-limit', op: 'instances.list', retryAfterSeconds: null });
    expect(await rejection(provider.list())).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: undefined });
    expect(await provider.list()).toEqual([]);
  });

  it('reports a refused key as AUTH, and a missing key before any call', async () => {
    const provider = await start({ acceptToken: 'another-key' });
    const err = await rejection(provider.list());
    expect(err).toMatchObject({ code: 'AUTH', status: 401 });
    expect(err.message).toContain('(authentication_invalid_key)');
    expect(() => createCivoProvider({ credentials: {}, apiUrl: fake.url, options: {}, stateDir: stateDir() })).toThrow(/CIVO_TOKEN/);
  });

  it('makes a failure after the firewall exists final; clean-up by tunnel id spares a same-named tunnel', async () => {
    const provider = await start();
    const first = request('inlets-eager-koala-0004');
    const dupReq = request('inlets-eager-koala-0004');
    await provider.create(first);
    const dup = await rejection(provider.create(dupReq));
    expect(dup).toMatchObject({ code: 'INVALID', status: 400, retryable: false });
    expect(dup.message).toContain('database_instance_duplicate_name');
    expect(dup.message).toContain('was created but the instance was not');
    expect(fake.holdings().firewalls).toBe(2);
    await deleteUntilDone(provider, { name: dupReq.name, tunnelId: dupReq.tunnelId, region: 'LON1' });
    expect(fake.holdings()).toMatchObject({ firewalls: 1, instances: 1 });
    expect((await provider.list()).map((h) => h.tunnelId)).toEqual([first.tunnelId]);
    await deleteUntilDone(provider, { name: first.name, tunnelId: first.tunnelId });

    fake.inject({ kind: 'server-error', op: 'firewall_rules.create' });
    const tidy = request('inlets-tidy-heron-0005');
    const err = await rejection(provider.create(tidy));
    expect(err).toMatchObject({ code: 'API_UNAVAILABLE', retryable: false });
    expect(fake.holdings()).toMatchObject({ firewalls: 1, instances: 0 });
    await deleteUntilDone(provider, { name: tidy.name, tunnelId: tidy.tunnelId, region: 'LON1' });
    expect(leftovers(fake)).toEqual({});
  });

  it('refuses to delete an instance inletsctl did not create; an unknown image fails before anything is made', async () => {
    const provider = await start({ foreignInstances: 1 });
    const err = await rejection(provider.delete({ name: 'not-ours', id: await foreignId(), region: 'LON1' }));
    expect(err).toMatchObject({ code: 'FORBIDDEN', retryable: false });
    expect(fake.holdings().foreignInstancesMissing).toBe(0);
    const noImage = await rejection(provider.create(request('inlets-keen-tapir-0006', { image: 'debian-99' })));
    expect(noImage).toMatchObject({ code: 'INVALID' });
    expect(noImage.message).toContain('Debian images there: debian-11, debian-12');
    expect(leftovers(fake)).toEqual({});
  });

  it('reads firewall names strictly, maps every status and describes itself', async () => {
    await start();
    expect(readFirewallName(firewallName('my-tunnel', 'a1b2c3d4e5f6'))).toEqual({ ours: true, name: 'my-tunnel', tunnelId: 'a1b2c3d4e5f6' });
    for (const other of ['default-lon1', 'inletsctl-my-tunnel', 'inletsctl-x-A1B2C3D4E5F6', 'xinletsctl-x-a1b2c3d4e5f6']) expect(readFirewallName(other).ours, other).toBe(false);
    const statuses = ['BUILD_PENDING', 'BUILDING', 'ACTIVE', 'SHUTOFF', 'STOPPING', 'REBOOTING', 'DELETING', 'ERROR', undefined];
    expect(statuses.map(mapInstanceStatus)).toEqual(['provisioning', 'provisioning', 'active', 'error', 'error', 'provisioning', 'deleting', 'error', 'error']);
    const d = civoProvider.description;
    expect(d.credentials.env).toEqual(['INLETS_ACCESS_TOKEN', 'CIVO_TOKEN']);
    expect(d.apiUrlEnv).toBe('CIVO_API_URL');
    expect(d.userData).toEqual({ limitBytes: 32 * 1024, format: 'script', binary: false });
    expect(d.regions[0]).toBe(d.defaults.region);
  });
});

describe('civo provider: contract v2 (tunnel ids; state from the cloud alone)', () => {
  it('a new provider object finishes an interrupted create from the plan (name, tunnel id, region) alone', async () => {
    await start();
    await finishedByNewProvider(newProvider, request('inlets-dropped-0101'));
    expect(leftovers(fake)).toEqual({});
  });

  it('a new provider object deletes a half-made tunnel, firewall included', async () => {
    await start();
    await deletedByNewProvider(newProvider, request('inlets-dropped-0102'));
    expect(leftovers(fake)).toEqual({});
  });

  it('two tunnels of one name (hostnames are unique per region, so in two regions): deleting one leaves the other', async () => {
    await start();
    await sameNameSurvives(newProvider, request('inlets-twin-0103'), request('inlets-twin-0103', { region: 'FRA1' }));
    expect(leftovers(fake)).toEqual({});
  });

  it('an instance without our shared tag is refused; one of a version before tunnel ids is deletable by id alone', async () => {
    const provider = await start({ foreignInstances: 1 });
    const seeded = fake.seedInstance({ name: 'inlets-old-0104' });
    await foreignIdForbidden(provider, { name: 'x', id: await foreignId(), region: 'LON1' });
    // A host of a version before tunnel ids (shared and name tags only) is ours: deletable by id alone.
    await deleteUntilDone(provider, { name: 'inlets-old-0104', id: seeded, region: 'LON1' });
    expect(leftovers(fake)).toEqual({});
  });
});

/** The id of the fake's first foreign instance (tagged `prod`), read from the API as anyone would. */
async function foreignId(): Promise<string> {
  const res = await fetch(`${fake.url}/instances?region=LON1&tags=prod`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const id = ((await res.json()) as { items: Array<{ id: string }> }).items[0]?.id;
  if (!id) throw new Error('the fake has no foreign instance');
  return id;
}
