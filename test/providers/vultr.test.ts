/**
 * The Vultr provider against the Vultr fake, through the Provider interface (the CLI level is in
 * contract-vultr.test.ts). The fake checks every exchange against Vultr's OpenAPI description;
 * each test ends by requiring no mismatch.
 */
import { describe, expect, it } from 'vitest';
import { createVultrProvider, mapInstanceStatus } from '../../providers/vultr/vultr-provider.js';
import { VULTR_DEBIAN_12_OS_ID, vultrProvider } from '../../providers/vultr/index.js';
import { firewallDescription, readFirewallDescription } from '../../providers/vultr/vultr-firewall.js';
import { readVultrError } from '../../providers/vultr/vultr-api.js';
import { VultrFake, type VultrFakeOptions } from '../fakes/vultr-fake.js';
import { leftovers } from '../fakes/index.js';
import { deleteUntilDone, rejection, request as baseRequest, waitActive } from './provider-steps.js';
import { useFakeTestHooks } from './fake-test-hooks.js';
import { deletedByNewProvider, finishedByNewProvider, foreignIdForbidden, sameNameSurvives } from '../helpers/v2-provider-checks.js';
import type { CreateRequest } from '../../src/core/provider.js';
import { expectListFaultsMapped } from '../helpers/fault-mapping.js';

const TOKEN = 'vultr-dummy-api-key-for-the-fake';
let fake: VultrFake;
const stateDir = useFakeTestHooks('vultr-provider', () => fake);

const CLOUD_CONFIG = Buffer.from('#cloud-config\nruncmd:\n  - echo hello\n');

function request(name: string, overrides: Partial<CreateRequest> = {}): CreateRequest {
  return baseRequest(name, { region: 'lhr', plan: 'vc2-1c-1gb', image: String(VULTR_DEBIAN_12_OS_ID), userData: CLOUD_CONFIG, ...overrides });
}

async function start(options: VultrFakeOptions = {}) {
  fake = new VultrFake({ boot: false, ...options });
  await fake.start();
  return newProvider();
}

/** A new provider object on the running fake: nothing carried over in memory. */
function newProvider() {
  return createVultrProvider({ credentials: { 'access-token': TOKEN }, apiUrl: fake.url, options: {}, stateDir: stateDir() });
}

describe('vultr provider', () => {
  it('creates a tagged instance with base64 user-data, sees it active, lists it across cursor pages, and deletes it', async () => {
    const provider = await start({ maxPerPage: 1, foreignInstances: 3, activeAfterPolls: 3 });
    const otter = request('inlets-brave-otter-0001');
    const created = await provider.create(otter);
    expect(created).toMatchObject({ name: otter.name, tunnelId: otter.tunnelId, status: 'provisioning', providerStatus: 'pending', region: 'lhr' });
    expect(created.ip).toBeUndefined(); // main_ip 0.0.0.0 is no address
    expect(created.data).toEqual({ tunnelId: otter.tunnelId }); // no --firewall: no group

    const sent = fake.createdWith(created.id)!;
    expect(sent.userData.equals(CLOUD_CONFIG)).toBe(true);
    expect(sent.tags).toEqual(['inletsctl', `inletsctl:${otter.name}`, `inletsctl-tunnel:${otter.tunnelId}`]);
    expect(sent.body).toMatchObject({ region: 'lhr', plan: 'vc2-1c-1gb', os_id: 2136, label: otter.name, hostname: otter.name, backups: 'disabled', enable_ipv6: false });
    expect(sent.body).not.toHaveProperty('firewall_group_id');
    expect(fake.firewallGroups()).toEqual([]);

    const active = await waitActive(provider, created);
    expect(active).toMatchObject({ status: 'active', providerStatus: 'active', tunnelId: otter.tunnelId, name: otter.name });
    expect(active.ip).toMatch(/^127\.0\.\d+\.\d+$/);

    const calm = request('inlets-calm-yak-0002', { expiresAt: '2030-01-01T00:00:00.000Z' });
    await provider.create(calm);
    const listed = await provider.list();
    expect(listed.map((h) => h.name).sort()).toEqual([otter.name, calm.name]);
    expect(listed.find((h) => h.name === calm.name)).toMatchObject({ tunnelId: calm.tunnelId, expiresAt: calm.expiresAt, region: 'lhr' });
    // One instance a page: the list followed meta.links.next (two of ours; the foreign ones are filtered out by tag).
    expect(fake.log.filter((e) => e.op === 'list-instances')).toHaveLength(2);

    expect(await deleteUntilDone(provider, { name: otter.name, id: created.id, tunnelId: otter.tunnelId })).toBe(2);
    await deleteUntilDone(provider, { name: calm.name, tunnelId: calm.tunnelId });
    expect(leftovers(fake)).toEqual({});
    expect(fake.holdings().foreignInstancesMissing).toBe(0);
  });

  it('follows cursors exactly: per_page 500, then the cursor of meta.links.next until it is empty', async () => {
    const provider = await start({ maxPerPage: 2 });
    const reqs = ['inlets-a-0010', 'inlets-b-0011', 'inlets-c-0012', 'inlets-d-0013', 'inlets-e-0014'].map((n) => request(n));
    for (const r of reqs) await provider.create(r);
    const queries: string[] = [];
    const origFetch = globalThis.fetch;
    globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
      const u = new URL(String(input instanceof Request ? input.url : input));
      if (u.pathname.endsWith('/instances')) queries.push(u.search);
      return origFetch(input, init);
    }) as typeof fetch;
    try {
      expect((await provider.list()).length).toBe(5);
    } finally {
      globalThis.fetch = origFetch;
    }
    expect(queries).toHaveLength(3);
    expect(queries[0]).toBe('?tag=inletsctl&per_page=500');
    for (const q of queries.slice(1)) expect(new URLSearchParams(q).get('cursor')).toBeTruthy();
    for (const r of reqs) await deleteUntilDone(provider, { name: r.name, tunnelId: r.tunnelId });
    expect(leftovers(fake)).toEqual({});
  });

  it('--firewall: a firewall group whose description carries the tunnel id, exactly the open ports, attached by firewall_group_id, deleted with the tunnel', async () => {
    const provider = await start();
    const req = request('inlets-fenced-0003', { firewall: true, ports: [2222, 8080], openPorts: [2222, 8080, 8123] });
    const created = await provider.create(req);
    const [group] = fake.firewallGroups();
    expect(created.data).toEqual({ tunnelId: req.tunnelId, firewallGroupId: group.id });
    expect(group.description).toBe(`inletsctl inletsctl:${req.name} inletsctl-tunnel:${req.tunnelId}`);
    expect(group.rules.map((r) => [r.ip_type, r.protocol, r.port, r.subnet, r.subnet_size, r.action])).toEqual(
      [2222, 8080, 8123].map((p) => ['v4', 'tcp', String(p), '0.0.0.0', 0, 'accept']),
    );
    expect(group.rules.find((r) => r.port === '8123')?.notes).toBe('inlets control port');
    expect(fake.createdWith(created.id)?.firewallGroupId).toBe(group.id);

    // Another tunnel's group, a foreign group and a same-named tunnel's group all survive.
    const twin = request('inlets-fenced-0003', { firewall: true });
    await provider.create(twin);
    await fetch(`${fake.url}/firewalls`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ description: 'inletsctl web servers' }) });
    expect(await deleteUntilDone(provider, { name: req.name, id: created.id, tunnelId: req.tunnelId })).toBe(2);
    expect(fake.firewallGroups().map((g) => g.description).sort()).toEqual([firewallDescription(twin), 'inletsctl web servers'].sort());
    await deleteUntilDone(provider, { name: twin.name, tunnelId: twin.tunnelId });
    expect(fake.holdings()).toMatchObject({ instances: 0, firewallGroups: 1 });
  });

  it('makes a failure after the firewall group exists final; clean-up by tunnel id removes it', async () => {
    const provider = await start();
    fake.inject({ kind: 'server-error', op: 'post-firewalls-firewall-group-id-rules' });
    const tidy = request('inlets-tidy-heron-0005', { firewall: true });
    const err = await rejection(provider.create(tidy));
    expect(err).toMatchObject({ code: 'API_UNAVAILABLE', retryable: false });
    expect(err.message).toContain('was created but the instance was not');
    expect(fake.holdings()).toMatchObject({ firewallGroups: 1, instances: 0 });
    await deleteUntilDone(provider, { name: tidy.name, tunnelId: tidy.tunnelId });
    expect(leftovers(fake)).toEqual({});

    // Before anything exists, a 429 stays retryable (the CLI repeats the create on RATE_LIMITED).
    fake.inject({ kind: 'rate-limit', op: 'create-instance' });
    expect(await rejection(provider.create(request('inlets-quick-0006')))).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 1000 });
    expect(leftovers(fake)).toEqual({});
  });

  it('maps errors to codes, quoting Vultr\'s `error` and never the key; 429 waits Retry-After, else one second', async () => {
    const provider = await start();
    await expectListFaultsMapped(fake, provider, {
      op: 'list-instances',
      secret: TOKEN,
      texts: { 'rate-limit': 'API rate limit exceeded (injected)', 'server-error': 'internal server error (injected)', drop: 'GET /v2/instances', hang: 'no answer within 1500 ms' },
    });
    fake.inject({ kind: 'rate-limit', op: 'list-instances', retryAfterSeconds: null });
    expect(await rejection(provider.list())).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1000 });

    // The cloud's own 400 text, quoted; the user-data (it holds the tunnel's token) never is.
    const secret = Buffer.from('#cloud-config\n# token: s3cr3t-tunnel-token\n');
    const bad = await rejection(provider.create(request('inlets-bad-plan-0007', { plan: 'vc2-99c', userData: secret })));
    expect(bad).toMatchObject({ code: 'INVALID', status: 400 });
    expect(bad.message).toBe('POST /v2/instances failed with HTTP 400: Invalid plan.');
    expect(bad.message).not.toContain('s3cr3t');
    expect(await provider.list()).toEqual([]);
  });

  it('reads Vultr\'s error body: quota words become QUOTA (never on 429), anything else keeps the HTTP status', () => {
    expect(readVultrError(400, { error: 'You have reached the maximum number of active instances for this account.', status: 400 })).toEqual({ message: 'You have reached the maximum number of active instances for this account.', code: 'QUOTA' });
    expect(readVultrError(429, { error: 'Rate limit reached - please try your request again later.', status: 429 })).toEqual({ message: 'Rate limit reached - please try your request again later.' });
    expect(readVultrError(400, { error: 'Invalid region.', status: 400 })).toEqual({ message: 'Invalid region.' });
    expect(readVultrError(502, undefined)).toEqual({ message: undefined });
  });

  it('reports a refused key as AUTH, and a missing key before any call', async () => {
    const provider = await start({ acceptToken: 'another-key' });
    const err = await rejection(provider.list());
    expect(err).toMatchObject({ code: 'AUTH', status: 401 });
    expect(err.message).toContain('Invalid API token.');
    expect(err.message).not.toContain(TOKEN);
    expect(() => createVultrProvider({ credentials: {}, apiUrl: fake.url, options: {}, stateDir: stateDir() })).toThrow(/VULTR_API_KEY/);
  });

  it('refuses to delete an instance inletsctl did not create; an --image that is not an os_id fails before anything is made', async () => {
    const provider = await start({ foreignInstances: 1 });
    const err = await rejection(provider.delete({ name: 'not-ours', id: await foreignId() }));
    expect(err).toMatchObject({ code: 'FORBIDDEN', retryable: false });
    expect(fake.holdings().foreignInstancesMissing).toBe(0);
    const noImage = await rejection(provider.create(request('inlets-keen-tapir-0008', { image: 'debian-12', firewall: true })));
    expect(noImage).toMatchObject({ code: 'INVALID', retryable: false });
    expect(noImage.message).toContain('2136');
    expect(fake.log).toHaveLength(2); // the look-up of the foreign id and the refused delete's GET
    expect(leftovers(fake)).toEqual({});
  });

  it('reads descriptions strictly, maps every status and describes itself', async () => {
    await start();
    const marks = readFirewallDescription(firewallDescription({ name: 'my-tunnel', tunnelId: 'a1b2c3d4e5f6' }));
    expect(marks).toEqual({ ours: true, name: 'my-tunnel', tunnelId: 'a1b2c3d4e5f6', expiresAt: undefined });
    for (const other of ['', 'web servers', 'inletsctl-tunnel:a1b2c3d4e5f6', 'xinletsctl inletsctl-tunnel:a1b2c3d4e5f6']) expect(readFirewallDescription(other).ours, other).toBe(false);
    const ip = '192.0.2.1';
    const statuses = [
      { status: 'pending', main_ip: '0.0.0.0' }, { status: 'active', main_ip: '0.0.0.0' }, { status: 'active', main_ip: ip, power_status: 'running' },
      { status: 'active', main_ip: ip, power_status: 'stopped' }, { status: 'resizing', main_ip: ip }, { status: 'suspended', main_ip: ip }, {},
    ];
    expect(statuses.map(mapInstanceStatus)).toEqual(['provisioning', 'provisioning', 'active', 'error', 'provisioning', 'error', 'error']);
    const d = vultrProvider.description;
    expect(d.credentials.env).toEqual(['INLETS_ACCESS_TOKEN', 'VULTR_API_KEY']);
    expect(d.credentials.flags).toEqual(['access-token', 'access-token-file']);
    expect(d.apiUrlEnv).toBe('VULTR_API_URL');
    expect(d.userData).toEqual({ limitBytes: 32 * 1024, format: 'cloud-config', binary: false });
    expect(d.defaults).toMatchObject({ region: 'lhr', plan: 'vc2-1c-1gb', image: '2136', monthlyUsd: 5 });
    expect(d.firewall).toBe('optional');
    expect(d.regions[0]).toBe(d.defaults.region);
  });
});

describe('vultr provider: contract v2 (tunnel ids; state from the cloud alone)', () => {
  it('a new provider object finishes an interrupted create from the plan (name, tunnel id, region) alone', async () => {
    await start();
    await finishedByNewProvider(newProvider, request('inlets-dropped-0101'));
    expect(leftovers(fake)).toEqual({});
  });

  it('a new provider object deletes a half-made tunnel, firewall group included', async () => {
    await start();
    await deletedByNewProvider(newProvider, request('inlets-dropped-0102', { firewall: true }));
    expect(leftovers(fake)).toEqual({});
  });

  it('two tunnels of one name: deleting one leaves the other', async () => {
    await start();
    await sameNameSurvives(newProvider, request('inlets-twin-0103', { firewall: true }), request('inlets-twin-0103', { firewall: true }));
    expect(leftovers(fake)).toEqual({});
  });

  it('an instance without our shared tag is refused; one of a version before tunnel ids is deletable by id alone', async () => {
    const provider = await start({ foreignInstances: 1 });
    const seeded = fake.seedInstance({ name: 'inlets-old-0104' });
    await foreignIdForbidden(provider, { name: 'x', id: await foreignId() });
    await deleteUntilDone(provider, { name: 'inlets-old-0104', id: seeded });
    expect(leftovers(fake)).toEqual({});
  });
});

/** The id of the fake's first foreign instance (tagged `web`), read from the API as anyone would. */
async function foreignId(): Promise<string> {
  const res = await fetch(`${fake.url}/instances?tag=web`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const id = ((await res.json()) as { instances: Array<{ id: string }> }).instances[0]?.id;
  if (!id) throw new Error('the fake has no foreign instance');
  return id;
}
