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
    const created = await provider.create(request('inlets-brave-otter-0001', { firewall: true, ports: [8080, 2222] }));
    expect(created).toMatchObject({ name: 'inlets-brave-otter-0001', status: 'provisioning', providerStatus: 'initializing', region: 'fsn1' });
    expect(created.data?.firewallId).toMatch(/^\d+$/);
    expect(created.data?.actions?.split(',')).toHaveLength(2); // create_server and start_server

    const active = await waitActive(provider, created);
    expect(active.ip).toMatch(/^127\.0\.\d+\.\d+$/);

    await provider.create(request('inlets-calm-yak-0002'));
    const listed = await provider.list();
    expect(listed.map((h) => h.name).sort()).toEqual(['inlets-brave-otter-0001', 'inlets-calm-yak-0002']);

    expect(await deleteUntilDone(provider, { name: 'inlets-brave-otter-0001', id: created.id })).toBeGreaterThan(2);
    await deleteUntilDone(provider, { name: 'inlets-calm-yak-0002' });
    expect(leftovers(fake)).toEqual({});
    const ops = new Set(fake.log.map((e) => e.op));
    for (const op of ['servers.create', 'servers.get', 'servers.list', 'servers.delete', 'actions.get', 'firewalls.create', 'firewalls.list', 'firewalls.delete']) {
      expect(ops, op).toContain(op);
    }
    expect(fake.log.filter((e) => e.op === 'servers.list').length).toBeGreaterThan(4); // one server a page
  });

  it('reports a failed create_server action from status instead of waiting for the timeout', async () => {
    const provider = await start({ failCreateAction: 'later' });
    const created = await provider.create(request('inlets-jolly-panda-0003'));
    expect(created.status).toBe('provisioning');
    const host = await provider.status(created);
    expect(host.status).toBe('error');
    expect(host.providerStatus).toContain('create_server failed: server_create_failed');
    await deleteUntilDone(provider, { name: 'inlets-jolly-panda-0003' });
    expect(leftovers(fake)).toEqual({});
  });

  it('fails create at once when the create answer already holds a failed action', async () => {
    const provider = await start({ failCreateAction: 'at-once' });
    const err = await rejection(provider.create(request('inlets-jolly-panda-0007')));
    expect(err).toMatchObject({ code: 'CREATE_FAILED', retryable: false });
    expect(err.message).toContain('action create_server');
    await deleteUntilDone(provider, { name: 'inlets-jolly-panda-0007' });
    expect(leftovers(fake)).toEqual({});
  });

  it('maps errors to codes, quoting Hetzner\'s message and never the token', async () => {
    const provider = await start();
    const cases = [
      { kind: 'rate-limit', code: 'RATE_LIMITED', text: 'rate_limit_exceeded' },
      { kind: 'server-error', code: 'API_UNAVAILABLE', text: 'internal server error' },
      { kind: 'drop', code: 'NETWORK', text: 'GET /v1/servers' },
      { kind: 'hang', code: 'NETWORK', text: 'no answer within 1500 ms' },
    ] as const;
    for (const c of cases) {
      fake.inject({ kind: c.kind, op: 'servers.list', retryAfterSeconds: 3 });
      const err = await rejection(provider.list());
      expect(err, c.kind).toMatchObject({ code: c.code, retryable: true });
      expect(err.message).toContain(c.text);
      expect(err.message).not.toContain(TOKEN);
      if (c.kind === 'rate-limit') expect(err.retryAfterMs).toBe(3000);
    }
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

  it('makes a failure after the server exists final, and delete by name removes server and firewall', async () => {
    const provider = await start();
    await provider.create(request('inlets-eager-koala-0004'));
    const dup = await rejection(provider.create(request('inlets-eager-koala-0004')));
    expect(dup).toMatchObject({ code: 'INVALID', status: 409 });
    expect(dup.message).toContain('uniqueness_error');
    await deleteUntilDone(provider, { name: 'inlets-eager-koala-0004' });

    fake.inject({ kind: 'server-error', op: 'firewalls.create' });
    const err = await rejection(provider.create(request('inlets-tidy-heron-0005', { firewall: true })));
    expect(err).toMatchObject({ code: 'API_UNAVAILABLE', retryable: false });
    expect(err.message).toContain('was created but its firewall was not');
    expect(fake.holdings().servers).toBe(1);
    await deleteUntilDone(provider, { name: 'inlets-tidy-heron-0005' });
    expect(leftovers(fake)).toEqual({});
  });

  it('refuses to delete a server inletsctl did not create, and rejects a type not offered in a location', async () => {
    const provider = await start({ foreignServers: 1 });
    const err = await rejection(provider.delete({ name: 'not-ours', id: '40000001' }));
    expect(err).toMatchObject({ code: 'INVALID', retryable: false });
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
