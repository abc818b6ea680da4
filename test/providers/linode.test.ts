/**
 * The Linode provider against the Linode fake, through the Provider interface (the CLI level is in
 * contract-linode.test.ts). The fake checks every exchange against Linode's OpenAPI description
 * (the subset in ../shared/cloud-specs/linode/) and the reference for what the subset lacks; each
 * test ends by requiring no mismatch.
 */
import { describe, expect, it } from 'vitest';
import { createLinodeProvider, instanceLabel, mapInstanceStatus } from '../../providers/linode/linode-provider.js';
import { linodeProvider, LINODE_USER_DATA_RAW_LIMIT } from '../../providers/linode/index.js';
import { linodeRetryAfterMs, readLinodeError } from '../../providers/linode/linode-api.js';
import { LinodeFake, type LinodeFakeOptions } from '../fakes/linode-fake.js';
import { leftovers } from '../fakes/index.js';
import { deleteUntilDone, rejection, request as baseRequest, waitActive } from './provider-steps.js';
import { useFakeTestHooks } from './fake-test-hooks.js';
import { deletedByNewProvider, finishedByNewProvider, foreignIdForbidden, sameNameSurvives } from '../helpers/v2-provider-checks.js';
import type { CreateRequest } from '../../src/core/provider.js';
import { makeSandbox, requireBuild, runCli } from '../cli/cli-harness.js';
import { expectListFaultsMapped } from '../helpers/fault-mapping.js';

const TOKEN = 'linode-dummy-token-for-the-fake';
let fake: LinodeFake;
const stateDir = useFakeTestHooks('linode-provider', () => fake);

const CLOUD_CONFIG = Buffer.from('#cloud-config\nruncmd: []\n');

function request(name: string, overrides: Partial<CreateRequest> = {}): CreateRequest {
  return baseRequest(name, { region: 'gb-lon', plan: 'g6-nanode-1', image: 'linode/debian12', userData: CLOUD_CONFIG, ...overrides });
}

async function start(options: LinodeFakeOptions = {}) {
  fake = new LinodeFake({ boot: false, ...options });
  await fake.start();
  return newProvider();
}

/** A new provider object on the running fake: nothing carried over in memory. */
function newProvider() {
  return createLinodeProvider({ credentials: { 'access-token': TOKEN }, apiUrl: fake.url, options: {}, stateDir: stateDir() });
}

describe('linode provider', () => {
  it('creates a tagged instance with base64 user data behind its own firewall, lists it across pages, and deletes everything', async () => {
    const provider = await start({ maxPerPage: 1, foreignInstances: 3, activeAfterPolls: 3 });
    const otter = request('inlets-brave-otter-0001', { ports: [2222, 8080], openPorts: [2222, 8080, 8123], firewall: true });
    const created = await provider.create(otter);
    expect(created).toMatchObject({ name: otter.name, tunnelId: otter.tunnelId, status: 'provisioning', providerStatus: 'provisioning', region: 'gb-lon' });

    const sent = fake.createdWith(created.id)!;
    expect(sent.userData.equals(CLOUD_CONFIG)).toBe(true);
    expect(sent.tags).toEqual(['inletsctl', `inletsctl:${otter.name}`, `inletsctl-tunnel:${otter.tunnelId}`]);
    expect(sent.label).toBe(`${otter.name}-${otter.tunnelId}`);

    // Its own Cloud Firewall, tagged like the instance: inbound DROP but exactly the tunnel's TCP ports.
    const fw = fake.firewall(sent.firewallId!)!;
    expect(created.data?.firewallId).toBe(String(fw.id));
    expect(fw.tags).toEqual(sent.tags);
    expect(fw.label).toBe(`inletsctl-${otter.tunnelId}`);
    expect(fw.rules).toMatchObject({ inbound_policy: 'DROP', outbound_policy: 'ACCEPT' });
    expect(fw.rules.inbound).toEqual([{ action: 'ACCEPT', protocol: 'TCP', ports: '2222,8080,8123', addresses: { ipv4: ['0.0.0.0/0'], ipv6: ['::/0'] }, label: 'inlets-tcp-1' }]);

    const active = await waitActive(provider, created);
    expect(active).toMatchObject({ status: 'active', providerStatus: 'running' });
    expect(active.ip).toMatch(/^127\.0\.\d+\.\d+$/);

    const calm = request('inlets-calm-yak-0002', { expiresAt: '2030-01-01T00:00:00.000Z' });
    await provider.create(calm);
    expect(fake.createdWith((await provider.status({ name: calm.name, tunnelId: calm.tunnelId })).id)!.firewallId).toBeUndefined();
    const listed = await provider.list();
    expect(listed.map((h) => h.name).sort()).toEqual([otter.name, calm.name]);
    expect(listed.find((h) => h.name === calm.name)).toMatchObject({ tunnelId: calm.tunnelId, expiresAt: calm.expiresAt, region: 'gb-lon' });

    expect(await deleteUntilDone(provider, { name: otter.name, id: created.id, tunnelId: otter.tunnelId })).toBeGreaterThan(1);
    await deleteUntilDone(provider, { name: calm.name, tunnelId: calm.tunnelId });
    expect(leftovers(fake)).toEqual({});
    const ops = new Set(fake.log.map((e) => e.op));
    for (const op of ['get-region', 'get-image', 'post-firewalls', 'post-linode-instance', 'get-linode-instance', 'get-linode-instances', 'delete-linode-instance', 'get-firewalls', 'delete-firewall']) {
      expect(ops, op).toContain(op);
    }
    // One item a page: several pages were followed.
    expect(fake.log.filter((e) => e.op === 'get-linode-instances').length).toBeGreaterThan(4);
  });

  it('splits more than 15 ports over several rules', async () => {
    const provider = await start();
    const ports = Array.from({ length: 20 }, (_, i) => 9000 + i);
    const many = request('inlets-many-ports-0003', { ports, openPorts: [...ports, 8123].sort((a, b) => a - b), firewall: true });
    const created = await provider.create(many);
    const inbound = fake.firewall(fake.createdWith(created.id)!.firewallId!)!.rules.inbound as Array<{ ports: string }>;
    expect(inbound.map((r) => r.ports.split(',').length)).toEqual([15, 6]);
    expect(inbound.flatMap((r) => r.ports.split(',').map(Number))).toEqual(many.openPorts);
    await deleteUntilDone(provider, { name: many.name, tunnelId: many.tunnelId });
    expect(leftovers(fake)).toEqual({});
  });

  it('refuses a region without Metadata, a region without Cloud Firewall (with --firewall), an image without cloud-init and unknown ones, before making anything', async () => {
    const provider = await start();
    const noMetadata = await rejection(provider.create(request('inlets-no-meta-0004', { region: 'eu-west' })));
    expect(noMetadata).toMatchObject({ code: 'INVALID', retryable: false });
    expect(noMetadata.message).toMatch(/region eu-west has no Metadata service/);
    const noFirewall = await rejection(provider.create(request('inlets-no-fw-0005', { region: 'us-southeast', firewall: true })));
    expect(noFirewall.message).toMatch(/offers no Cloud Firewall/);
    const noCloudInit = await rejection(provider.create(request('inlets-no-ci-0006', { image: 'linode/arch' })));
    expect(noCloudInit).toMatchObject({ code: 'INVALID' });
    expect(noCloudInit.message).toMatch(/image linode\/arch does not support cloud-init/);
    expect((await rejection(provider.create(request('inlets-nowhere-0007', { region: 'xx-nowhere' })))).message).toMatch(/no region "xx-nowhere"/);
    expect((await rejection(provider.create(request('inlets-noimage-0008', { image: 'linode/debian99' })))).message).toMatch(/no image "linode\/debian99"/);
    // Without --firewall, a region lacking only Cloud Firewall is fine.
    const ok = request('inlets-plain-0009', { region: 'us-southeast' });
    await provider.create(ok);
    expect(fake.holdings()).toMatchObject({ instances: 1, firewalls: 0 });
    await deleteUntilDone(provider, { name: ok.name, tunnelId: ok.tunnelId });
    expect(leftovers(fake)).toEqual({});
  });

  it('refuses user data whose base64 is over 65,535 characters, and a name too long for a tag, before any call', async () => {
    const provider = await start();
    const big = Buffer.alloc(LINODE_USER_DATA_RAW_LIMIT + 1, 1);
    const err = await rejection(provider.create(request('inlets-big-0010', { userData: big })));
    expect(err).toMatchObject({ code: 'INVALID' });
    expect(err.message).toContain('65535');
    // Exactly at the limit passes the provider's own check (and the fake's).
    const fits = request('inlets-fits-0011', { userData: Buffer.alloc(LINODE_USER_DATA_RAW_LIMIT, 1) });
    await provider.create(fits);
    await deleteUntilDone(provider, { name: fits.name, tunnelId: fits.tunnelId });
    const long = await rejection(provider.create(request(`inlets-${'x'.repeat(40)}`)));
    expect(long.message).toMatch(/over Linode's 50 characters/);
    expect(fake.log.filter((e) => e.op === 'post-linode-instance')).toHaveLength(1);
    expect(leftovers(fake)).toEqual({});
  });

  it('maps errors to codes, quoting Linode\'s reasons and never the token; 429 honours Retry-After, else X-RateLimit-Reset', async () => {
    const provider = await start();
    await expectListFaultsMapped(fake, provider, {
      op: 'get-linode-instances',
      secret: TOKEN,
      texts: { 'rate-limit': 'Too many requests', 'server-error': 'internal server error (injected)', drop: 'GET /v4/linode/instances', hang: 'no answer within 1500 ms' },
    });
    fake.inject({ kind: 'rate-limit', op: 'get-linode-instances', retryAfterSeconds: null });
    const reset = await rejection(provider.list());
    expect(reset.code).toBe('RATE_LIMITED');
    expect(reset.retryAfterMs).toBeGreaterThanOrEqual(0);
    expect(reset.retryAfterMs).toBeLessThanOrEqual(2000);
    expect(await provider.list()).toEqual([]);

    expect(linodeRetryAfterMs(new Headers({ 'x-ratelimit-reset': '1010' }), 1_000_000)).toBe(10_000);
    expect(linodeRetryAfterMs(new Headers(), 0)).toBe(1000);
    expect(readLinodeError(400, { errors: [{ field: 'label', reason: 'Label must be unique' }, { reason: 'second' }] })).toEqual({ message: 'label: Label must be unique; second' });
    expect(readLinodeError(400, { errors: [{ reason: 'Account Limit reached. Please open a support ticket.' }] })).toMatchObject({ code: 'QUOTA' });
    expect(readLinodeError(502, 'bad gateway')).toEqual({});
  });

  it('quotes a field error; a failure after the firewall exists is final, and clean-up by tunnel id takes the firewall', async () => {
    const provider = await start();
    const bad = await rejection(provider.create(request('inlets-bad-plan-0012', { plan: 'g6-nothing' })));
    expect(bad).toMatchObject({ code: 'INVALID', status: 400 });
    expect(bad.message).toContain('type: A valid plan type by that ID was not found');
    expect(leftovers(fake)).toEqual({});

    fake.inject({ kind: 'server-error', op: 'post-linode-instance' });
    const tidy = request('inlets-tidy-heron-0013', { firewall: true });
    const err = await rejection(provider.create(tidy));
    expect(err).toMatchObject({ code: 'API_UNAVAILABLE', retryable: false });
    expect(err.message).toContain('was created but the instance was not');
    expect(fake.holdings()).toMatchObject({ firewalls: 1, instances: 0 });
    expect(await provider.delete({ name: tidy.name, tunnelId: tidy.tunnelId })).toBe('done');
    expect(leftovers(fake)).toEqual({});
  });

  it('reports a refused token as AUTH, and a missing token before any call', async () => {
    const provider = await start({ acceptToken: 'another-token' });
    const err = await rejection(provider.list());
    expect(err).toMatchObject({ code: 'AUTH', status: 401 });
    expect(err.message).toContain('Invalid Token');
    expect(() => createLinodeProvider({ credentials: {}, apiUrl: fake.url, options: {}, stateDir: stateDir() })).toThrow(/LINODE_TOKEN/);
  });

  it('labels, statuses and the description', async () => {
    await start();
    expect(instanceLabel('a'.repeat(63), 'a1b2c3d4e5f6')).toHaveLength(64);
    expect(instanceLabel(`${'a'.repeat(50)}-b`, 'a1b2c3d4e5f6')).toBe(`${'a'.repeat(50)}-a1b2c3d4e5f6`);
    const statuses = ['provisioning', 'booting', 'running', 'offline', 'shutting_down', 'deleting', 'migrating', 'billing_suspension', undefined];
    expect(statuses.map(mapInstanceStatus)).toEqual(['provisioning', 'provisioning', 'active', 'error', 'error', 'deleting', 'provisioning', 'error', 'error']);
    const d = linodeProvider.description;
    expect(d.credentials.env).toEqual(['INLETS_ACCESS_TOKEN', 'LINODE_TOKEN']);
    expect(d.credentials.flags).toEqual(['access-token', 'access-token-file']);
    expect(d.apiUrlEnv).toBe('LINODE_API_URL');
    expect(d.defaults).toMatchObject({ region: 'gb-lon', plan: 'g6-nanode-1', image: 'linode/debian12', monthlyUsd: 5 });
    // 65,535 characters of base64 hold 49,149 bytes.
    expect(d.userData).toEqual({ limitBytes: 49_149, format: 'cloud-config', binary: true });
    expect(Buffer.alloc(d.userData.limitBytes).toString('base64').length).toBeLessThanOrEqual(65_535);
    expect(Buffer.alloc(d.userData.limitBytes + 3).toString('base64').length).toBeGreaterThan(65_535);
    expect(d.firewall).toBe('optional');
    expect(d.regions[0]).toBe(d.defaults.region);
  });
});

describe('linode in the built CLI', () => {
  it('inletsctl providers shows the region, plan, image, monthly cost and how to get the token', async () => {
    requireBuild();
    const sb = await makeSandbox();
    try {
      const table = await runCli(['providers'], sb.env);
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toMatch(/^linode\s+gb-lon\s+g6-nanode-1\s+linode\/debian12\s+5\s+optional \(--firewall\)\s+--access-token, --access-token-file, INLETS_ACCESS_TOKEN, LINODE_TOKEN/m);
      const json = JSON.parse((await runCli(['providers', '--json'], sb.env)).stdout) as { providers: Array<{ name: string; credentials: { howTo: string }; defaults: { reason: string } }> };
      const linode = json.providers.find((p) => p.name === 'linode')!;
      expect(linode.credentials.howTo).toMatch(/API Tokens → Create a Personal Access Token/);
      expect(linode.defaults.reason).toMatch(/\$5\/month list price as known on 2026-12-07/);
    } finally {
      await sb.cleanup();
    }
  });
});

describe('linode provider: contract v2 (tunnel ids; state from the cloud alone)', () => {
  it('a new provider object finishes an interrupted create from the plan (name, tunnel id, region) alone', async () => {
    await start();
    await finishedByNewProvider(newProvider, request('inlets-dropped-0101', { firewall: true }));
    expect(leftovers(fake)).toEqual({});
  });

  it('a new provider object deletes a half-made tunnel, firewall included', async () => {
    await start();
    await deletedByNewProvider(newProvider, request('inlets-dropped-0102', { firewall: true }));
    expect(leftovers(fake)).toEqual({});
  });

  it('two tunnels of one name: deleting one (and its firewall) leaves the other', async () => {
    await start();
    await sameNameSurvives(newProvider, request('inlets-twin-0103', { firewall: true }), request('inlets-twin-0103', { firewall: true }));
    expect(leftovers(fake)).toEqual({});
  });

  it('an instance without our shared tag is refused; one of a version before tunnel ids is deletable by id alone', async () => {
    const provider = await start({ foreignInstances: 1 });
    const seeded = fake.seedInstance({ name: 'inlets-old-0104' });
    await foreignIdForbidden(provider, { name: 'x', id: await foreignId() });
    expect(fake.holdings().foreignInstancesMissing).toBe(0);
    await deleteUntilDone(provider, { name: 'inlets-old-0104', id: seeded });
    expect(leftovers(fake)).toEqual({});
    await expect(provider.status({ name: 'gone', id: seeded })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('delete by tunnel id spares a same-named firewall of another tunnel', async () => {
    const provider = await start();
    const a = request('inlets-pair-0105', { firewall: true });
    const b = request('inlets-pair-0105', { firewall: true });
    await provider.create(a);
    await provider.create(b);
    expect(fake.holdings()).toMatchObject({ firewalls: 2, instances: 2 });
    await deleteUntilDone(provider, { name: a.name, tunnelId: a.tunnelId });
    expect(fake.holdings()).toMatchObject({ firewalls: 1, instances: 1 });
    expect(fake.firewall(fake.firewallIds()[0])!.label).toBe(`inletsctl-${b.tunnelId}`);
    await deleteUntilDone(provider, { name: b.name, tunnelId: b.tunnelId });
    expect(leftovers(fake)).toEqual({});
  });
});

/** The id of the fake's first foreign instance (tagged `web`), read from the API as anyone would. */
async function foreignId(): Promise<string> {
  const res = await fetch(`${fake.url}/linode/instances`, { headers: { authorization: `Bearer ${TOKEN}`, 'x-filter': JSON.stringify({ tags: 'web' }) } });
  const id = ((await res.json()) as { data: Array<{ id: number }> }).data[0]?.id;
  if (!id) throw new Error('the fake has no foreign instance');
  return String(id);
}
