/**
 * The DigitalOcean provider against the DigitalOcean fake, through the Provider interface (the CLI
 * level is in contract-suite.test.ts). The fake checks every exchange against DigitalOcean's
 * OpenAPI description; each test ends by requiring no mismatch.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDigitalOceanProvider, mapDropletStatus } from '../../providers/digitalocean/digitalocean-provider.js';
import { digitaloceanProvider } from '../../providers/digitalocean/index.js';
import { API_TIMEOUT_ENV } from '../../providers/shared/rest-client.js';
import { DigitalOceanFake } from '../fakes/digitalocean-fake.js';
import { leftovers } from '../fakes/index.js';
import { deleteUntilDone, rejection, request, waitActive } from './provider-steps.js';

const TOKEN = 'dop_v1_dummy-token-for-the-fake';
let stateDir: string;
let fake: DigitalOceanFake;
const previousTimeout = process.env[API_TIMEOUT_ENV];

beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'do-provider-'));
  process.env[API_TIMEOUT_ENV] = '1500'; // the hang fault must not cost 30 s
});
afterAll(() => {
  rmSync(stateDir, { recursive: true, force: true });
  if (previousTimeout === undefined) delete process.env[API_TIMEOUT_ENV];
  else process.env[API_TIMEOUT_ENV] = previousTimeout;
});
afterEach(async () => {
  expect(fake.mismatches).toEqual([]);
  expect(fake.problems).toEqual([]);
  await fake.close();
});

async function start(options: ConstructorParameters<typeof DigitalOceanFake>[0] = {}) {
  fake = new DigitalOceanFake({ boot: false, ...options });
  await fake.start();
  return createDigitalOceanProvider({ credentials: { 'access-token': TOKEN }, apiUrl: fake.url, options: {}, stateDir });
}

describe('digitalocean provider', () => {
  it('creates a droplet with a firewall, sees it active, lists it across pages, and deletes everything', async () => {
    const provider = await start({ maxPerPage: 1, foreignDroplets: 3, activeAfterPolls: 3 });
    const first = request('inlets-brave-otter-0001', { firewall: true, ports: [2222, 8080], openPorts: [2222, 8080, 8123] });
    const created = await provider.create(first);
    expect(created).toMatchObject({ name: 'inlets-brave-otter-0001', tunnelId: first.tunnelId, status: 'provisioning', providerStatus: 'new', region: 'lon1' });
    expect(created.ip).toBeUndefined();
    expect(created.data?.firewallId).toBeTruthy();

    const active = await waitActive(provider, created);
    expect(active.ip).toMatch(/^127\.0\.\d+\.\d+$/);

    const second = request('inlets-calm-yak-0002', { expiresAt: '2030-01-01T00:00:00.000Z' });
    await provider.create(second);
    const listed = await provider.list();
    expect(listed.map((h) => h.name).sort()).toEqual(['inlets-brave-otter-0001', 'inlets-calm-yak-0002']);
    expect(listed.find((h) => h.id === created.id)).toMatchObject({ ip: active.ip, tunnelId: first.tunnelId });
    expect(listed.find((h) => h.name === second.name)).toMatchObject({ tunnelId: second.tunnelId, expiresAt: second.expiresAt });

    expect(await deleteUntilDone(provider, { name: 'inlets-brave-otter-0001', tunnelId: first.tunnelId })).toBeGreaterThan(1);
    expect(await provider.list()).toHaveLength(1);
    await deleteUntilDone(provider, { name: 'inlets-calm-yak-0002', id: listed.find((h) => h.name === 'inlets-calm-yak-0002')!.id, tunnelId: second.tunnelId });
    expect(leftovers(fake)).toEqual({});
    expect(fake.operationsValidated()).toEqual(
      expect.arrayContaining(['droplets_create', 'droplets_get', 'droplets_list', 'droplets_destroy', 'firewalls_create', 'firewalls_list', 'firewalls_delete', 'tags_list', 'tags_delete']),
    );
    // Several pages were fetched: the fake served one droplet a page.
    expect(fake.log.filter((e) => e.op === 'droplets_list' && e.path === '/v2/droplets').length).toBeGreaterThan(3);
  });

  it('finds the droplet by its tunnel tag when create was interrupted before it returned an id', async () => {
    const provider = await start();
    const req = request('inlets-quick-lynx-0003');
    await provider.create(req);
    const host = await provider.status({ name: req.name, tunnelId: req.tunnelId });
    expect(host).toMatchObject({ id: expect.stringMatching(/^\d+$/), tunnelId: req.tunnelId, name: req.name });
    await deleteUntilDone(provider, { name: req.name, tunnelId: req.tunnelId });
    expect(leftovers(fake)).toEqual({});
    await expect(provider.status({ name: req.name, tunnelId: req.tunnelId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('deletes only what carries the tunnel id: a droplet of the same name and its firewall survive', async () => {
    const provider = await start();
    const mine = request('inlets-same-name', { firewall: true });
    const theirs = request('inlets-same-name', { firewall: true });
    const a = await provider.create(mine);
    const b = await provider.create(theirs);
    await deleteUntilDone(provider, { name: mine.name, tunnelId: mine.tunnelId, id: a.id });
    const left = await provider.list();
    expect(left.map((h) => h.id)).toEqual([b.id]);
    expect(fake.holdings().firewalls).toBe(1);
    await expect(provider.delete({ name: mine.name })).rejects.toMatchObject({ code: 'INVALID' });
    await deleteUntilDone(provider, { name: theirs.name, tunnelId: theirs.tunnelId });
    expect(leftovers(fake)).toEqual({});
  });

  it('maps errors to codes, quoting DigitalOcean\'s message and never the token', async () => {
    const provider = await start();
    const cases = [
      { kind: 'rate-limit', code: 'RATE_LIMITED', retryable: true, text: 'API rate limit exceeded' },
      { kind: 'server-error', code: 'API_UNAVAILABLE', retryable: true, text: 'internal server error' },
      { kind: 'drop', code: 'NETWORK', retryable: true, text: 'GET /v2/droplets' },
      { kind: 'hang', code: 'NETWORK', retryable: true, text: 'no answer within 1500 ms' },
    ] as const;
    for (const c of cases) {
      fake.inject({ kind: c.kind, op: 'droplets_list', retryAfterSeconds: 2 });
      const err = await rejection(provider.list());
      expect(err, c.kind).toMatchObject({ code: c.code, retryable: c.retryable });
      expect(err.message).toContain(c.text);
      expect(err.message).not.toContain(TOKEN);
      if (c.kind === 'rate-limit') expect(err.retryAfterMs).toBe(2000);
    }
    expect(await provider.list()).toEqual([]);
  });

  it('reports a refused token as AUTH and a missing one before any call', async () => {
    const provider = await start({ acceptToken: 'another-token' });
    const err = await rejection(provider.list());
    expect(err).toMatchObject({ code: 'AUTH', status: 401, retryable: false });
    expect(err.message).toContain('Unable to authenticate you');
    expect(() => createDigitalOceanProvider({ credentials: {}, apiUrl: fake.url, options: {}, stateDir })).toThrow(/DIGITALOCEAN_TOKEN/);
  });

  it('reports an invalid request as INVALID with the API\'s message', async () => {
    const provider = await start();
    const err = await rejection(provider.create(request('inlets-proud-ibex-0004', { image: 'windows-2022' })));
    expect(err).toMatchObject({ code: 'INVALID', status: 422, retryable: false });
    expect(err.message).toContain('invalid image');
    expect(leftovers(fake)).toEqual({});
  });

  it('makes a firewall failure after the droplet exists final, and delete by name removes the droplet', async () => {
    const provider = await start();
    fake.inject({ kind: 'rate-limit', op: 'firewalls_create' });
    const tidy = request('inlets-tidy-heron-0005', { firewall: true });
    const err = await rejection(provider.create(tidy));
    // RATE_LIMITED would make the CLI repeat the whole create and make a second droplet.
    expect(err).toMatchObject({ code: 'RATE_LIMITED', retryable: false });
    expect(err.message).toContain('was created but its firewall was not');
    expect(fake.holdings().droplets).toBe(1);
    await deleteUntilDone(provider, { name: 'inlets-tidy-heron-0005', tunnelId: tidy.tunnelId });
    expect(leftovers(fake)).toEqual({});
  });

  it('refuses to delete a droplet inletsctl did not create', async () => {
    const provider = await start({ foreignDroplets: 1 });
    const foreignId = String(500_000_001);
    const err = await rejection(provider.delete({ name: 'not-ours', id: foreignId }));
    expect(err).toMatchObject({ code: 'FORBIDDEN', retryable: false });
    expect(fake.holdings().foreignDropletsMissing).toBe(0);
  });

  it('keeps a droplet provisioning when the fake never activates it', async () => {
    const provider = await start();
    fake.neverActive('inlets-silent-moose-0006');
    const created = await provider.create(request('inlets-silent-moose-0006'));
    for (let i = 0; i < 5; i++) expect((await provider.status(created)).status).toBe('provisioning');
    await deleteUntilDone(provider, created);
    expect(leftovers(fake)).toEqual({});
  });

  it('maps every droplet status and describes itself', async () => {
    await start();
    expect(['new', 'active', 'off', 'archive'].map(mapDropletStatus)).toEqual(['provisioning', 'active', 'error', 'deleting']);
    const d = digitaloceanProvider.description;
    expect(d.credentials.env).toEqual(['INLETS_ACCESS_TOKEN', 'DIGITALOCEAN_TOKEN']);
    expect(d.apiUrlEnv).toBe('DIGITALOCEAN_API_URL');
    expect(d.defaults.reason).toMatch(/https:\/\//);
  });
});
