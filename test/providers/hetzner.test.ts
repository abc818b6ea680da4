/**
 * The Hetzner Cloud provider against the Hetzner fake, through the Provider interface (the CLI
 * level is in contract-suite.test.ts). The fake checks requests against Hetzner's documented
 * request shapes; each test ends by requiring no mismatch.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHetznerProvider, mapServerStatus } from '../../providers/hetzner/hetzner-provider.js';
import { hetznerProvider } from '../../providers/hetzner/index.js';
import { API_TIMEOUT_ENV } from '../../providers/shared/rest-client.js';
import { HetznerFake, type HetznerFakeOptions } from '../fakes/hetzner-fake.js';
import { leftovers } from '../fakes/index.js';
import { deleteUntilDone, rejection, request as baseRequest, waitActive } from './provider-steps.js';
import type { CreateRequest } from '../../src/core/provider.js';
import { expectListFaultsMapped } from '../helpers/fault-mapping.js';

const TOKEN = 'hcloud-dummy-token-for-the-fake';
let stateDir: string;
let fake: HetznerFake;
const previousTimeout = process.env[API_TIMEOUT_ENV];

beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'hetzner-provider-'));
  process.env[API_TIMEOUT_ENV] = '1500';
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

function request(name: string, overrides: Partial<CreateRequest> = {}): CreateRequest {
  return baseRequest(name, { region: 'fsn1', plan: 'cx23', image: 'debian-12', ...overrides });
}

async function start(options: HetznerFakeOptions = {}) {
  fake = new HetznerFake({ boot: false, ...options });
  await fake.start();
  return createHetznerProvider({ credentials: { 'access-token': TOKEN }, apiUrl: fake.url, options: {}, stateDir });
}

describe('hetzner provider', () => {
  it('creates a labelled server with a firewall, sees it running, lists it across pages, and deletes everything', async () => {
    const provider = await start({ maxPerPage: 1, foreignServers: 3, activeAfterPolls: 3 });
    const created = await provider.create(request('inlets-brave-otter-0001', { firewall: true, ports: [2222, 8080], openPorts: [2222, 8080, 8123] }));
    expect(created).toMatchObject({ name: 'inlets-brave-otter-0001', tunnelId: expect.stringMatching(/^[0-9a-f]{12}$/), status: 'provisioning', providerStatus: 'initializing', region: 'fsn1' });
    expect(created.data?.firewallId).toMatch(/^\d+$/);
    expect(created.data?.actions?.split(',')).toHaveLength(2); // create_server and start_server

    const active = await waitActive(provider, created);
    expect(active.ip).toMatch(/^127\.0\.\d+\.\d+$/);

    const calm = request('inlets-calm-yak-0002', { expiresAt: '2030-01-01T00:00:00.000Z' });
    await provider.create(calm);
    const listed = await provider.list();
    expect(listed.map((h) => h.name).sort()).toEqual(['inlets-brave-otter-0001', 'inlets-calm-yak-0002']);
    expect(listed.find((h) => h.name === calm.name)).toMatchObject({ tunnelId: calm.tunnelId, expiresAt: calm.expiresAt });

    expect(await deleteUntilDone(provider, { name: 'inlets-brave-otter-0001', id: created.id, tunnelId: created.tunnelId })).toBeGreaterThan(2);
    await deleteUntilDone(provider, { name: calm.name, tunnelId: calm.tunnelId });
    expect(leftovers(fake)).toEqual({});
    const ops = new Set(fake.log.map((e) => e.op));
    for (const op of ['servers.create', 'servers.get', 'servers.list', 'servers.delete', 'actions.get', 'firewalls.create', 'firewalls.list', 'firewalls.delete']) {
      expect(ops, op).toContain(op);
    }
    expect(fake.log.filter((e) => e.op === 'servers.list').length).toBeGreaterThan(4); // one server a page
  });

  it('reports a failed create_server action from status instead of waiting for the timeout', async () => {
    const provider = await start({ failCreateAction: 'later' });
    const jolly = request('inlets-jolly-panda-0003');
    const created = await provider.create(jolly);
    expect(created.status).toBe('provisioning');
    const host = await provider.status(created);
    expect(host.status).toBe('error');
    expect(host.providerStatus).toContain('create_server failed: server_create_failed');
    await deleteUntilDone(provider, { name: jolly.name, tunnelId: jolly.tunnelId });
    expect(leftovers(fake)).toEqual({});
  });

  it('fails create at once when the create answer already holds a failed action', async () => {
    const provider = await start({ failCreateAction: 'at-once' });
    const panda = request('inlets-jolly-panda-0007');
    const err = await rejection(provider.create(panda));
    expect(err).toMatchObject({ code: 'CREATE_FAILED', retryable: false });
    expect(err.message).toContain('action create_server');
    await deleteUntilDone(provider, { name: panda.name, tunnelId: panda.tunnelId });
    expect(leftovers(fake)).toEqual({});
  });

  it('maps errors to codes, quoting Hetzner\'s message and never the token', async () => {
    const provider = await start();
    await expectListFaultsMapped(fake, provider, {
      op: 'servers.list',
      secret: TOKEN,
      texts: { 'rate-limit': 'rate_limit_exceeded', 'server-error': 'internal server error', drop: 'GET /v1/servers', hang: 'no answer within 1500 ms' },
    });
    expect(await provider.list()).toEqual([]);
  });

  it('waits one second on a 429 without Retry-After (Hetzner refills one request a second)', async () => {
    const provider = await start();
    fake.inject({ kind: 'rate-limit', op: 'servers.list', retryAfterSeconds: null });
    const err = await rejection(provider.list());
    expect(err).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1000 });
    expect(fake.log.at(-1)).toMatchObject({ op: 'servers.list', status: 429, fault: 'rate-limit' });
  });

  it('reports a refused token as AUTH, a taken name as INVALID, and a missing token before any call', async () => {
    const provider = await start({ acceptToken: 'another-token' });
    const err = await rejection(provider.list());
    expect(err).toMatchObject({ code: 'AUTH', status: 401 });
    expect(err.message).toContain('(unauthorized)');
    expect(() => createHetznerProvider({ credentials: {}, apiUrl: fake.url, options: {}, stateDir })).toThrow(/HCLOUD_TOKEN/);
  });

  it('makes a failure after the server exists final; clean-up of a taken name spares the first server', async () => {
    const provider = await start();
    const first = request('inlets-eager-koala-0004');
    const dupReq = request('inlets-eager-koala-0004');
    await provider.create(first);
    const dup = await rejection(provider.create(dupReq));
    expect(dup).toMatchObject({ code: 'INVALID', status: 409 });
    expect(dup.message).toContain('uniqueness_error');
    // The second create's clean-up goes by its own tunnel id: the first server stays.
    await deleteUntilDone(provider, { name: dupReq.name, tunnelId: dupReq.tunnelId });
    expect((await provider.list()).map((h) => h.tunnelId)).toEqual([first.tunnelId]);
    await deleteUntilDone(provider, { name: first.name, tunnelId: first.tunnelId });

    fake.inject({ kind: 'server-error', op: 'firewalls.create' });
    const tidy = request('inlets-tidy-heron-0005', { firewall: true });
    const err = await rejection(provider.create(tidy));
    expect(err).toMatchObject({ code: 'API_UNAVAILABLE', retryable: false });
    expect(err.message).toContain('was created but its firewall was not');
    expect(fake.holdings().servers).toBe(1);
    await deleteUntilDone(provider, { name: tidy.name, tunnelId: tidy.tunnelId });
    expect(leftovers(fake)).toEqual({});
  });

  it('refuses to delete a server inletsctl did not create, and rejects a type not offered in a location', async () => {
    const provider = await start({ foreignServers: 1 });
    const err = await rejection(provider.delete({ name: 'not-ours', id: '40000001' }));
    expect(err).toMatchObject({ code: 'FORBIDDEN', retryable: false });
    expect(fake.holdings().foreignServersMissing).toBe(0);
    const unavailable = await rejection(provider.create(request('inlets-keen-tapir-0006', { region: 'ash' })));
    expect(unavailable.message).toContain('unavailable in ash');
    expect(leftovers(fake)).toEqual({});
  });

  it('maps every server status and describes itself', async () => {
    await start();
    const statuses = ['initializing', 'starting', 'running', 'stopping', 'off', 'deleting', 'migrating', 'rebuilding', 'unknown'];
    expect(statuses.map(mapServerStatus)).toEqual(['provisioning', 'provisioning', 'active', 'error', 'error', 'deleting', 'provisioning', 'provisioning', 'error']);
    const d = hetznerProvider.description;
    expect(d.credentials.env).toContain('HCLOUD_TOKEN');
    expect(d.apiUrlEnv).toBe('HCLOUD_API_URL');
    expect(d.userData.limitBytes).toBe(32 * 1024);
  });
});
