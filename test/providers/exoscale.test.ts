/**
 * The Exoscale provider against the Exoscale fake, through the Provider interface (the CLI level is
 * in contract-exoscale.test.ts). The fake checks every request's signature and its shape against
 * Exoscale's OpenAPI description; each test ends by requiring no mismatch.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createExoscaleProvider, mapInstanceState } from '../../providers/exoscale/exoscale-provider.js';
import { exoscaleProvider } from '../../providers/exoscale/index.js';
import { readExoscaleError } from '../../providers/exoscale/exoscale-api.js';
import { readSecurityGroupName, securityGroupName } from '../../providers/exoscale/exoscale-security-group.js';
import { authorizationHeader, messageToSign } from '../../providers/exoscale/exoscale-sign.js';
import { EXOSCALE_FAKE_SECRET, ExoscaleFake, INSTANCE_TYPES, TEMPLATES, type ExoscaleFakeOptions } from '../fakes/exoscale-fake.js';
import { leftovers } from '../fakes/index.js';
import { deleteUntilDone, rejection, request as baseRequest, waitActive } from './provider-steps.js';
import { useFakeTestHooks } from './fake-test-hooks.js';
import { deletedByNewProvider, finishedByNewProvider, foreignIdForbidden, sameNameSurvives } from '../helpers/v2-provider-checks.js';
import type { CreateRequest } from '../../src/core/provider.js';
import { expectListFaultsMapped } from '../helpers/fault-mapping.js';

const KEY = 'EXOfakekey0123456789abcdef';
let fake: ExoscaleFake;
const stateDir = useFakeTestHooks('exoscale-provider', () => fake);

afterEach(() => {
  vi.restoreAllMocks();
});

const CLOUD_CONFIG = Buffer.from('#cloud-config\nruncmd: []\n');

function request(name: string, overrides: Partial<CreateRequest> = {}): CreateRequest {
  return baseRequest(name, { region: 'ch-gva-2', plan: 'standard.micro', image: 'Linux Debian 12 (Bookworm) 64-bit', userData: CLOUD_CONFIG, ...overrides });
}

async function start(options: ExoscaleFakeOptions = {}) {
  fake = new ExoscaleFake({ boot: false, acceptToken: KEY, ...options });
  await fake.start();
  return newProvider();
}

/** A new provider object on the running fake: nothing carried over in memory. */
function newProvider(secret = EXOSCALE_FAKE_SECRET) {
  return createExoscaleProvider({ credentials: { 'api-key': KEY, 'api-secret': secret }, apiUrl: fake.url, options: {}, stateDir: stateDir() });
}

/** The id of the fake's first foreign instance, read from the API as anyone would (signed). */
async function foreignId(): Promise<string> {
  const url = new URL(`${fake.url}/instance`);
  const authorization = authorizationHeader(KEY, EXOSCALE_FAKE_SECRET, { method: 'GET', path: url.pathname, query: url.searchParams, body: undefined, expires: Math.floor(Date.now() / 1000) + 60 });
  const res = await fetch(url, { headers: { authorization } });
  const found = ((await res.json()) as { instances: Array<{ id: string; labels?: Record<string, string> }> }).instances.find((i) => i.labels?.env === 'prod');
  if (!found) throw new Error('the fake has no foreign instance');
  return found.id;
}

describe('exoscale request signature', () => {
  it('signs as documented: the example of https://openapi-v2.exoscale.com/topic/topic-api-request-signature', () => {
    const query = new URLSearchParams('p2=v2&p1=v1');
    const input = { method: 'GET', path: '/v2/resource/a02baf5a-a3e4-49a0-857b-8a08d276c1c0', query, body: undefined, expires: 1599140767 };
    expect(messageToSign(input)).toBe('GET /v2/resource/a02baf5a-a3e4-49a0-857b-8a08d276c1c0\n\nv1v2\n\n1599140767');
    expect(authorizationHeader('example-key', 'example-secret', input)).toBe(
      'EXO2-HMAC-SHA256 credential=example-key,signed-query-args=p1;p2,expires=1599140767,signature=vPVxcXrf2my0TLdJ8WPIGa/vLld+FiJN+xtMs/vofHg=',
    );
    const post = { method: 'POST', path: '/v2/security-group', query: new URLSearchParams(), body: '{"name": "my-security-group"}', expires: 1599140767 };
    expect(messageToSign(post)).toBe('POST /v2/security-group\n{"name": "my-security-group"}\n\n\n1599140767');
    expect(authorizationHeader('k', 's', post)).not.toContain('signed-query-args');
  });

  it('a wrong secret is refused by the fake and reported as AUTH, quoting the cloud, never the secret', async () => {
    await start();
    const wrong = 'not-the-secret-of-this-key';
    const err = await rejection(newProvider(wrong).list());
    expect(err).toMatchObject({ code: 'AUTH', status: 401 });
    expect(err.message).toContain('invalid request signature');
    expect(err.message).not.toContain(wrong);
    expect(fake.authorizations.some((a) => a.includes(wrong) || a.includes(EXOSCALE_FAKE_SECRET))).toBe(false);
    expect(fake.authorizations[0]).toMatch(/^EXO2-HMAC-SHA256 credential=EXOfakekey0123456789abcdef,expires=\d+,signature=[A-Za-z0-9+/]+=*$/);
  });

  it('an expired signature is refused and reported clearly', async () => {
    const provider = await start();
    const realNow = Date.now.bind(Date);
    // The clock is an hour behind: the ten-minute signature has expired when it arrives.
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() - 3_600_000);
    const err = await rejection(provider.list());
    vi.restoreAllMocks();
    expect(err).toMatchObject({ code: 'AUTH', status: 401 });
    expect(err.message).toMatch(/GET \/v2\/instance failed with HTTP 401: request signature expired/);
    expect(await provider.list()).toEqual([]);
  });

  it('the fake refuses another key, an unsigned query parameter and a tampered body', async () => {
    await start();
    const url = new URL(`${fake.url}/template?visibility=public`);
    const expires = Math.floor(Date.now() / 1000) + 60;
    const unsigned = authorizationHeader(KEY, EXOSCALE_FAKE_SECRET, { method: 'GET', path: url.pathname, query: new URLSearchParams(), body: undefined, expires });
    const r1 = await fetch(url, { headers: { authorization: unsigned } });
    expect(r1.status).toBe(401);
    expect(((await r1.json()) as { message: string }).message).toMatch(/query parameters not signed/);
    const other = authorizationHeader('EXOother', EXOSCALE_FAKE_SECRET, { method: 'GET', path: url.pathname, query: url.searchParams, body: undefined, expires });
    expect((await fetch(url, { headers: { authorization: other } })).status).toBe(401);
    const sgUrl = new URL(`${fake.url}/security-group`);
    const signedFor = authorizationHeader(KEY, EXOSCALE_FAKE_SECRET, { method: 'POST', path: sgUrl.pathname, query: sgUrl.searchParams, body: '{"name":"a"}', expires });
    const r3 = await fetch(sgUrl, { method: 'POST', headers: { authorization: signedFor, 'content-type': 'application/json' }, body: '{"name":"b"}' });
    expect(((await r3.json()) as { message: string }).message).toBe('invalid request signature');
    expect(fake.holdings().securityGroups).toBe(0);
  });
});

describe('exoscale provider', () => {
  it('creates a labelled instance in its own security group, polls its operation, lists it and deletes everything', async () => {
    const provider = await start({ foreignInstances: 2, activeAfterPolls: 3 });
    const userData = Buffer.from('\x1f\x8b binary user-data \x00\xff', 'latin1');
    const otter = request('inlets-brave-otter-0001', { ports: [2222, 8080], openPorts: [2222, 8080, 8123], userData });
    const created = await provider.create(otter);
    expect(created).toMatchObject({ name: otter.name, tunnelId: otter.tunnelId, status: 'provisioning', region: 'ch-gva-2' });
    expect(created.data).toMatchObject({ tunnelId: otter.tunnelId, securityGroupId: expect.any(String), createOperation: expect.any(String) });

    // The group: marked by name (it has no labels), exactly the tunnel's ports, TCP from anywhere.
    const [group] = fake.securityGroups();
    expect(group.name).toBe(`inletsctl-${otter.name}-${otter.tunnelId}`);
    expect(group.description).toContain(`inletsctl-tunnel=${otter.tunnelId}`);
    expect(group.rules.map((r) => [r['flow-direction'], r.protocol, r.network, r['start-port'], r['end-port']])).toEqual([2222, 8080, 8123].map((p) => ['ingress', 'tcp', '0.0.0.0/0', p, p]));
    expect(fake.labelsOf(created.id)).toEqual({ 'managed-by': 'inletsctl', 'inletsctl-name': otter.name, 'inletsctl-tunnel': otter.tunnelId });

    // Polled through status: the create operation is read while the instance starts.
    const active = await waitActive(provider, created);
    expect(active.ip).toMatch(/^127\.0\.\d+\.\d+$/);
    expect(fake.log.filter((e) => e.op === 'get-operation').length).toBeGreaterThan(0);
    const sent = fake.log.find((e) => e.op === 'create-instance');
    expect(sent?.status).toBe(200);

    const calm = request('inlets-calm-yak-0002', { expiresAt: '2030-01-01T00:00:00.000Z' });
    await provider.create(calm);
    const listed = await provider.list();
    expect(listed.map((h) => h.name).sort()).toEqual([otter.name, calm.name]);
    expect(listed.find((h) => h.name === calm.name)).toMatchObject({ tunnelId: calm.tunnelId, expiresAt: calm.expiresAt, region: 'ch-gva-2' });

    expect(await deleteUntilDone(provider, { name: otter.name, id: created.id, tunnelId: otter.tunnelId, region: 'ch-gva-2' })).toBeGreaterThan(1);
    await deleteUntilDone(provider, { name: calm.name, tunnelId: calm.tunnelId });
    expect(leftovers(fake)).toEqual({});
    expect(fake.operationsValidated()).toEqual(expect.arrayContaining([
      'add-rule-to-security-group', 'create-instance', 'create-security-group', 'delete-instance', 'delete-security-group', 'get-instance', 'get-operation',
      'list-instance-types', 'list-instances', 'list-security-groups', 'list-templates',
    ]));
  });

  it('sends the user-data base64-encoded, the instance type and the newest Debian 12 template by id', async () => {
    const provider = await start();
    const bytes = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0x00, 0x10]);
    const captured: unknown[] = [];
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      if (String(input).endsWith('/instance') && init?.method === 'POST') captured.push(JSON.parse(String(init.body)));
      return realFetch(input, init);
    });
    const created = await provider.create(request('inlets-shy-newt-0003', { userData: bytes }));
    vi.restoreAllMocks();
    expect(captured).toEqual([expect.objectContaining({
      'user-data': bytes.toString('base64'),
      'instance-type': { id: INSTANCE_TYPES[0].id },
      template: { id: TEMPLATES[2].id },
      'disk-size': 10,
      'public-ip-assignment': 'inet4',
      'security-groups': [{ id: created.data!.securityGroupId }],
    })]);
    await deleteUntilDone(provider, { name: created.name, id: created.id, tunnelId: created.tunnelId, region: 'ch-gva-2' });
    expect(leftovers(fake)).toEqual({});
  });

  it('a create operation that fails: status reports Exoscale\'s reason and message; delete removes the group', async () => {
    const provider = await start();
    fake.failNextCreate('no capacity for standard.micro in ch-gva-2');
    const req = request('inlets-sad-mole-0004');
    const created = await provider.create(req);
    const host = await provider.status(created);
    expect(host).toMatchObject({ status: 'error' });
    expect(host.providerStatus).toContain('failure (unavailable): no capacity for standard.micro in ch-gva-2');
    expect(await provider.status(created)).toMatchObject({ status: 'error' });
    await deleteUntilDone(provider, { name: req.name, id: created.id, tunnelId: req.tunnelId, region: 'ch-gva-2' });
    expect(leftovers(fake)).toEqual({});
  });

  it('maps errors to codes, quoting Exoscale\'s message and never the secret', async () => {
    const provider = await start();
    await expectListFaultsMapped(fake, provider, {
      op: 'list-instances',
      secret: EXOSCALE_FAKE_SECRET,
      texts: { 'rate-limit': 'API rate limit exceeded (injected)', 'server-error': 'internal server error (injected)', drop: 'GET /v2/instance', hang: 'no answer within 1500 ms' },
    });
    fake.inject({ kind: 'rate-limit', op: 'list-instances', retryAfterSeconds: null });
    expect(await rejection(provider.list())).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: undefined });
    expect(await provider.list()).toEqual([]);
    await expect(provider.status({ name: 'gone', id: '00000000-0000-4000-8000-000000000000', region: 'ch-gva-2' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // The two error bodies Exoscale sends.
    expect(readExoscaleError(400, { message: 'Invalid parameter: disk-size' })).toEqual({ message: 'Invalid parameter: disk-size', cloudCode: undefined });
    expect(readExoscaleError(403, { type: 'about:blank', title: 'Forbidden', status: 403, detail: 'Instance quota exceeded' })).toMatchObject({ message: 'Forbidden: Instance quota exceeded', code: 'QUOTA' });
  });

  it('makes a failure after the security group exists final, and cleans up by tunnel id', async () => {
    const provider = await start();
    fake.inject({ kind: 'server-error', op: 'add-rule-to-security-group' });
    const tidy = request('inlets-tidy-heron-0005');
    const err = await rejection(provider.create(tidy));
    expect(err).toMatchObject({ code: 'API_UNAVAILABLE', retryable: false });
    expect(err.message).toContain('was created but the instance was not');
    expect(fake.holdings()).toMatchObject({ securityGroups: 1, instances: 0 });
    await deleteUntilDone(provider, { name: tidy.name, tunnelId: tidy.tunnelId, region: 'ch-gva-2' });
    expect(leftovers(fake)).toEqual({});
  });

  it('an unknown plan or template fails before anything is made, naming what there is', async () => {
    const provider = await start();
    const noPlan = await rejection(provider.create(request('inlets-keen-tapir-0006', { plan: 'standard.nano' })));
    expect(noPlan).toMatchObject({ code: 'INVALID', retryable: false });
    expect(noPlan.message).toContain('standard types there: standard.micro, standard.tiny, standard.small');
    const noImage = await rejection(provider.create(request('inlets-keen-tapir-0006', { image: 'Linux Debian 99' })));
    expect(noImage.message).toContain('Debian templates there: "Linux Debian 11 (Bullseye) 64-bit", "Linux Debian 12 (Bookworm) 64-bit"');
    expect(leftovers(fake)).toEqual({});
  });

  it('without an override, talks to each zone\'s own endpoint (https://api-{zone}.exoscale.com/v2), signed', async () => {
    await start();
    const seen: string[] = [];
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      seen.push(String(input));
      expect(String((init?.headers as Record<string, string>).authorization)).toMatch(/^EXO2-HMAC-SHA256 credential=EXOfakekey0123456789abcdef,expires=/);
      return new Response(JSON.stringify({ instances: [] }), { status: 200, headers: { 'content-type': 'application/json' } });
    });
    const saved = process.env.EXOSCALE_API_URL;
    delete process.env.EXOSCALE_API_URL;
    try {
      const real = createExoscaleProvider({ credentials: { 'api-key': KEY, 'api-secret': EXOSCALE_FAKE_SECRET }, options: {}, stateDir: stateDir() });
      expect(await real.list()).toEqual([]);
    } finally {
      if (saved !== undefined) process.env.EXOSCALE_API_URL = saved;
    }
    expect(seen).toEqual(exoscaleProvider.description.regions.map((z) => `https://api-${z}.exoscale.com/v2/instance`));
  });

  it('reads security group names strictly, maps every state, and describes itself', async () => {
    await start();
    expect(readSecurityGroupName(securityGroupName('my-tunnel', 'a1b2c3d4e5f6'))).toEqual({ ours: true, name: 'my-tunnel', tunnelId: 'a1b2c3d4e5f6' });
    for (const other of ['default', 'inletsctl-my-tunnel', 'inletsctl-x-A1B2C3D4E5F6', 'xinletsctl-x-a1b2c3d4e5f6', undefined]) expect(readSecurityGroupName(other).ours, String(other)).toBe(false);
    const states = ['starting', 'running', 'stopping', 'stopped', 'migrating', 'error', 'destroying', 'expunging', 'destroyed', undefined];
    expect(states.map(mapInstanceState)).toEqual(['provisioning', 'active', 'error', 'error', 'provisioning', 'error', 'deleting', 'deleting', 'deleting', 'error']);
    const d = exoscaleProvider.description;
    expect(d.credentials).toMatchObject({ flags: ['api-key', 'api-secret', 'api-secret-file'], env: ['EXOSCALE_API_KEY'], envOf: { 'api-secret': ['EXOSCALE_API_SECRET'] }, required: true });
    expect(d.apiUrlEnv).toBe('EXOSCALE_API_URL');
    expect(d.userData).toEqual({ limitBytes: 24_576, format: 'cloud-config', binary: true });
    expect(d.defaults).toMatchObject({ region: 'ch-gva-2', plan: 'standard.micro', image: 'Linux Debian 12 (Bookworm) 64-bit' });
    expect(d.regions[0]).toBe(d.defaults.region);
    expect(() => createExoscaleProvider({ credentials: { 'api-key': KEY }, apiUrl: fake.url, options: {}, stateDir: stateDir() })).toThrow(/EXOSCALE_API_SECRET/);
    expect(() => createExoscaleProvider({ credentials: {}, apiUrl: fake.url, options: {}, stateDir: stateDir() })).toThrow(/EXOSCALE_API_KEY/);
  });
});

describe('exoscale provider: contract v2 (tunnel ids; state from the cloud alone)', () => {
  it('a new provider object finishes an interrupted create from the plan (name, tunnel id, zone) alone', async () => {
    await start();
    await finishedByNewProvider(newProvider, request('inlets-dropped-0101'));
    expect(leftovers(fake)).toEqual({});
  });

  it('a new provider object deletes a half-made tunnel, security group included', async () => {
    await start();
    await deletedByNewProvider(newProvider, request('inlets-dropped-0102'));
    expect(leftovers(fake)).toEqual({});
  });

  it('two tunnels of one name: deleting one leaves the other', async () => {
    await start();
    await sameNameSurvives(newProvider, request('inlets-twin-0103'), request('inlets-twin-0103'));
    expect(leftovers(fake)).toEqual({});
  });

  it('an instance without our label is refused; delete by id takes the instance and its tunnel\'s group; an old one goes by id alone', async () => {
    const provider = await start({ foreignInstances: 1 });
    await foreignIdForbidden(provider, { name: 'x', id: await foreignId(), region: 'ch-gva-2' });
    expect(fake.holdings().foreignInstancesMissing).toBe(0);
    const withTunnel = fake.seedInstance({ name: 'inlets-seed-0104', tunnelId: 'feedfeedfeed' });
    expect(fake.holdings().securityGroups).toBe(1);
    // As `delete --id` does: status reads the instance's marks, delete goes by id and tunnel id.
    const seen = await provider.status({ name: 'inlets-seed-0104', id: withTunnel });
    expect(seen).toMatchObject({ name: 'inlets-seed-0104', tunnelId: 'feedfeedfeed', region: 'ch-gva-2' });
    await deleteUntilDone(provider, { name: seen.name, id: seen.id, tunnelId: seen.tunnelId, region: seen.region });
    expect(fake.holdings()).toMatchObject({ securityGroups: 0, instances: 0 });
    const old = fake.seedInstance({ name: 'inlets-old-0105' });
    await deleteUntilDone(provider, { name: 'inlets-old-0105', id: old, region: 'ch-gva-2' });
    expect(leftovers(fake)).toEqual({});
  });
});
