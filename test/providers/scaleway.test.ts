/**
 * The Scaleway provider against the Scaleway fake, through the Provider interface (the CLI level
 * is in contract-scaleway.test.ts). The fake checks requests against Scaleway's documented request
 * shapes; each test ends by requiring no mismatch.
 */
import { describe, expect, it } from 'vitest';
import { createScalewayProvider, mapServerState } from '../../providers/scaleway/scaleway-provider.js';
import { readScalewayError, scalewayRetryAfterMs } from '../../providers/scaleway/scaleway-api.js';
import { securityGroupName, securityGroupRules } from '../../providers/scaleway/scaleway-security-group.js';
import { scalewayProvider } from '../../providers/scaleway/index.js';
import { ScalewayFake, type ScalewayFakeOptions } from '../fakes/scaleway-fake.js';
import { SCALEWAY_FAKE_PROJECT } from '../fakes/scaleway-entry.js';
import { checkScalewayRequest } from '../fakes/scaleway-schemas.js';
import { leftovers } from '../fakes/index.js';
import { deleteUntilDone, rejection, request as baseRequest, waitActive } from './provider-steps.js';
import { useFakeTestHooks } from './fake-test-hooks.js';
import { deletedByNewProvider, finishedByNewProvider, foreignIdForbidden, sameNameSurvives } from '../helpers/v2-provider-checks.js';
import type { CreateRequest } from '../../src/core/provider.js';
import { expectListFaultsMapped } from '../helpers/fault-mapping.js';

const SECRET = 'scw-dummy-secret-key-for-the-fake';
let fake: ScalewayFake;
const stateDir = useFakeTestHooks('scaleway-provider', () => fake);

const CLOUD_CONFIG = Buffer.from('#cloud-config\nruncmd:\n  - echo hello\n');

function request(name: string, overrides: Partial<CreateRequest> = {}): CreateRequest {
  return baseRequest(name, { region: 'fr-par-1', plan: 'STARDUST1-S', image: 'debian_bookworm', userData: CLOUD_CONFIG, ...overrides });
}

async function start(options: ScalewayFakeOptions = {}) {
  fake = new ScalewayFake({ boot: false, ...options });
  await fake.start();
  return newProvider();
}

/** A new provider object on the running fake: nothing carried over in memory. */
function newProvider(project = SCALEWAY_FAKE_PROJECT) {
  return createScalewayProvider({ credentials: { 'secret-key': SECRET }, apiUrl: fake.url, options: project ? { 'project-id': project } : {}, stateDir: stateDir() });
}

/** The ops of the fake's log, in order, from `from` on. */
function opsSince(from: number): string[] {
  return fake.log.slice(from).map((e) => e.op);
}

describe('scaleway provider', () => {
  it('creates a tagged Instance, sets its user data before powering it on, sees it active, lists it across pages, and deletes everything', async () => {
    const provider = await start({ maxPerPage: 1, foreignServers: 3, activeAfterPolls: 3 });
    const otter = request('inlets-brave-otter-0001', { ports: [2222, 8080], openPorts: [2222, 8080, 8123] });
    const created = await provider.create(otter);
    expect(created).toMatchObject({ name: otter.name, tunnelId: otter.tunnelId, status: 'provisioning', region: 'fr-par-1' });
    expect(created.ip).toBeUndefined();
    // The order of create's calls: image (two pages of one), Instance (stopped), its user data, then the power-on.
    expect(opsSince(0)).toEqual(['marketplace.local_images', 'marketplace.local_images', 'servers.create', 'user_data.set', 'servers.action']);
    const userDataCall = fake.log.find((e) => e.op === 'user_data.set')!;
    expect(userDataCall).toMatchObject({ method: 'PATCH', path: `/instance/v1/zones/fr-par-1/servers/${created.id}/user_data/cloud-init`, status: 204 });

    const sent = fake.serverOf(created.id)!;
    expect(sent.userData.get('cloud-init')).toBe(CLOUD_CONFIG.toString('utf8'));
    expect(sent.tags).toEqual(['inletsctl', `inletsctl:${otter.name}`, `inletsctl-tunnel:${otter.tunnelId}`]);
    expect(sent).toMatchObject({ commercialType: 'STARDUST1-S', dynamicIp: true, state: 'starting' });
    // The Marketplace's local-storage Debian image of this zone, for this type.
    expect(sent.imageId).toBe(fake.imageFor('fr-par-1', 'debian_bookworm', 'instance_local'));

    const active = await waitActive(provider, created);
    expect(active.ip).toMatch(/^127\.0\.\d+\.\d+$/);
    expect(active.providerStatus).toBe('running');

    const calm = request('inlets-calm-yak-0002', { expiresAt: '2030-01-01T00:00:00.000Z' });
    await provider.create(calm);
    const listed = await provider.list();
    expect(listed.map((h) => h.name).sort()).toEqual([otter.name, calm.name]);
    expect(listed.find((h) => h.name === calm.name)).toMatchObject({ tunnelId: calm.tunnelId, expiresAt: calm.expiresAt, region: 'fr-par-1' });
    // One Instance a page: both pages of fr-par-1's tagged Instances were read, and no more (X-Total-Count says 2).
    expect(fake.log.filter((e) => e.op === 'servers.list' && e.path === '/instance/v1/zones/fr-par-1/servers').length).toBe(2);

    const mark = fake.log.length;
    expect(await deleteUntilDone(provider, { name: otter.name, id: created.id, tunnelId: otter.tunnelId, region: 'fr-par-1' })).toBeGreaterThan(1);
    expect(opsSince(mark)).toContain('servers.action'); // terminate: the Instance goes with its volume and dynamic IP
    await deleteUntilDone(provider, { name: calm.name, tunnelId: calm.tunnelId });
    expect(leftovers(fake)).toEqual({});
  });

  it('with --firewall: a tagged, stateful security group that drops inbound but for exactly the tunnel ports, deleted after the Instance', async () => {
    const provider = await start();
    const req = request('inlets-walled-0003', { firewall: true, ports: [443], openPorts: [443, 8123] });
    const created = await provider.create(req);
    expect(opsSince(0)).toEqual(['marketplace.local_images', 'security_groups.create', 'security_group_rules.set', 'servers.create', 'user_data.set', 'servers.action']);
    const groupId = created.data?.securityGroupId;
    expect(groupId).toBeTruthy();
    expect(fake.serverOf(created.id)!.securityGroupId).toBe(groupId);
    const g = fake.groupOf(groupId!)!;
    expect(g).toMatchObject({ name: securityGroupName(req.name, req.tunnelId), inbound: 'drop', outbound: 'accept', stateful: true });
    expect(g.tags).toEqual(['inletsctl', `inletsctl:${req.name}`, `inletsctl-tunnel:${req.tunnelId}`]);
    expect(g.rules.map((r) => [r.direction, r.action, r.protocol, r.ip_range, r.dest_port_from, r.dest_port_to])).toEqual(
      [443, 8123].flatMap((p) => ['0.0.0.0/0', '::/0'].map((ip) => ['inbound', 'accept', 'TCP', ip, p, p])),
    );
    await waitActive(provider, created);
    await deleteUntilDone(provider, { name: req.name, tunnelId: req.tunnelId, region: 'fr-par-1' });
    expect(fake.log.some((e) => e.op === 'security_groups.delete' && e.status === 204)).toBe(true);
    expect(leftovers(fake)).toEqual({});
  });

  it('an Instance never powered on (a failed power-on, or a create killed before it) is listed as an error, deleted, then its volumes, which Scaleway keeps otherwise', async () => {
    const provider = await start();
    fake.inject({ kind: 'server-error', op: 'servers.action' });
    const req = request('inlets-stopped-0004', { firewall: true });
    const err = await rejection(provider.create(req));
    expect(err).toMatchObject({ code: 'API_UNAVAILABLE', retryable: false });
    expect(err.message).toContain('was created but not started');
    expect(fake.holdings()).toMatchObject({ servers: 1, volumes: 1, securityGroups: 1 });
    // What another process sees (a create killed before its power-on leaves the same): a stopped Instance that will never serve.
    const seen = (await newProvider().list()).find((h) => h.tunnelId === req.tunnelId);
    expect(seen).toMatchObject({ name: req.name, status: 'error', providerStatus: 'stopped' });
    const mark = fake.log.length;
    await deleteUntilDone(newProvider(), { name: req.name, tunnelId: req.tunnelId, region: 'fr-par-1' });
    const ops = opsSince(mark);
    expect(ops).toContain('servers.delete');
    expect(ops.indexOf('volumes.delete')).toBeGreaterThan(ops.indexOf('servers.delete'));
    expect(leftovers(fake)).toEqual({});
  });

  it('terminates only when the Instance allows it (allowed_actions), and takes transient_state as "not yet"', async () => {
    const provider = await start();
    const req = request('inlets-patient-0012');
    const created = await provider.create(req);
    fake.forbidTerminate(created.id);
    const mark = fake.log.length;
    expect(await provider.delete({ name: req.name, tunnelId: req.tunnelId, region: 'fr-par-1' })).toBe('pending');
    expect(opsSince(mark)).not.toContain('servers.action');
    fake.forbidTerminate(undefined);
    await deleteUntilDone(provider, { name: req.name, tunnelId: req.tunnelId, region: 'fr-par-1' });
    expect(leftovers(fake)).toEqual({});
  });

  it('finds an Instance by id alone in another zone, and deletes it', async () => {
    const provider = await start();
    const ams = request('inlets-swift-lynx-0005', { region: 'nl-ams-2', plan: 'DEV1-S' });
    const created = await provider.create(ams);
    expect(fake.serverOf(created.id)!.imageId).toBe(fake.imageFor('nl-ams-2', 'debian_bookworm', 'instance_local'));
    const found = await provider.status({ name: created.id, id: created.id });
    expect(found).toMatchObject({ id: created.id, region: 'nl-ams-2', tunnelId: ams.tunnelId, name: ams.name });
    await deleteUntilDone(provider, { name: found.name, id: found.id, tunnelId: found.tunnelId, region: found.region });
    expect(leftovers(fake)).toEqual({});
    await expect(provider.status({ name: 'gone', id: created.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('resolves the image through the Marketplace: a block-only type gets the SBS image; an unsupported type or label fails before anything is made', async () => {
    const provider = await start();
    const pico = await provider.create(request('inlets-pico-0006', { plan: 'PLAY2-PICO' }));
    expect(fake.serverOf(pico.id)!.imageId).toBe(fake.imageFor('fr-par-1', 'debian_bookworm', 'instance_sbs'));
    const q = new URL(`http://x${fake.log.find((e) => e.op === 'marketplace.local_images')!.path}`);
    expect(q.pathname).toBe('/marketplace/v2/local-images');
    await deleteUntilDone(provider, { name: pico.name, id: pico.id, tunnelId: pico.tunnelId, region: 'fr-par-1' });

    const stardust = await rejection(provider.create(request('inlets-nostar-0007', { region: 'fr-par-2' })));
    expect(stardust).toMatchObject({ code: 'INVALID', retryable: false });
    expect(stardust.message).toMatch(/do not support STARDUST1-S; they support: .*DEV1-S/);
    const label = await rejection(provider.create(request('inlets-nolabel-0008', { image: 'debian_potato' })));
    expect(label.message).toContain('the Marketplace has no image "debian_potato" in fr-par-1');
    // A local image uuid is taken as it is.
    const byId = await provider.create(request('inlets-byid-0009', { image: fake.imageFor('fr-par-1', 'ubuntu_jammy', 'instance_local')! }));
    expect(fake.serverOf(byId.id)!.imageId).toBe(fake.imageFor('fr-par-1', 'ubuntu_jammy', 'instance_local'));
    await deleteUntilDone(provider, { name: byId.name, id: byId.id, tunnelId: byId.tunnelId, region: 'fr-par-1' });
    expect(leftovers(fake)).toEqual({});
  });

  it('maps errors to codes, quoting Scaleway\'s message and type and never the secret key; 429 waits as Retry-After or X-RateLimit-Reset says', async () => {
    const provider = await start();
    await expectListFaultsMapped(fake, provider, {
      op: 'servers.list',
      secret: SECRET,
      texts: { 'rate-limit': '(too_many_requests): API rate limit exceeded (injected)', 'server-error': '(internal_error): internal server error (injected)', drop: 'GET /instance/v1/zones/fr-par-1/servers', hang: 'no answer within 1500 ms' },
    });
    // Without Retry-After, the fake's X-RateLimit-Reset (1 s) says how long.
    fake.inject({ kind: 'rate-limit', op: 'servers.list', retryAfterSeconds: null });
    expect(await rejection(provider.list())).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1000 });
    expect(await provider.list()).toEqual([]);

    const h = (o: Record<string, string>) => new Headers(o);
    expect(scalewayRetryAfterMs(h({}))).toBeUndefined();
    expect(scalewayRetryAfterMs(h({ 'retry-after': '2', 'x-ratelimit-reset': '9' }))).toBe(2000);
    expect(scalewayRetryAfterMs(h({ 'x-ratelimit-reset': String(1_900_000_010) }), 1_900_000_000_000)).toBe(10_000);

    // Scaleway's error bodies: fields, quota details and help messages are quoted; quotas are QUOTA.
    expect(readScalewayError(400, { message: 'invalid argument(s)', type: 'invalid_arguments', fields: { commercial_type: ['is required'] } })).toEqual({ cloudCode: 'invalid_arguments', message: 'invalid argument(s), commercial_type: is required' });
    expect(readScalewayError(403, { message: 'quota(s) exceeded for this resource', type: 'quotas_exceeded', details: [{ resource: 'compute_instances', quota: 1, current: 1 }] })).toEqual({
      cloudCode: 'quotas_exceeded', code: 'QUOTA', message: 'quota(s) exceeded for this resource, compute_instances (quota 1, using 1)',
    });
    expect(readScalewayError(412, { message: 'resource is still in use', type: 'precondition_failed', help_message: 'detach it first' }).message).toBe('resource is still in use, detach it first');
    expect(readScalewayError(400, { message: 'out of stock', type: 'out_of_stock' }).message).toMatch(/--plan DEV1-S/);
    expect(readScalewayError(502, 'not json')).toEqual({ cloudCode: undefined, message: undefined });

    // A Scaleway error through create: the type in parentheses, the fields after the message.
    const bad = await rejection(provider.create(request('inlets-bad-0010', { plan: 'NOPE-XL', image: fake.imageFor('fr-par-1', 'debian_bookworm', 'instance_local')! })));
    expect(bad).toMatchObject({ code: 'INVALID', status: 400 });
    expect(bad.message).toContain('POST /instance/v1/zones/fr-par-1/servers failed with HTTP 400 (invalid_arguments): invalid argument(s), commercial_type: NOPE-XL is not available in fr-par-1');
    expect(leftovers(fake)).toEqual({});
  });

  it('sends the secret key in X-Auth-Token: a refused key is AUTH; a missing key or Project id fails before any call', async () => {
    const provider = await start({ acceptToken: 'another-key' });
    const err = await rejection(provider.list());
    expect(err).toMatchObject({ code: 'AUTH', status: 401 });
    expect(err.message).toContain('(denied_authentication)');
    expect(err.message).not.toContain(SECRET);
    expect(() => createScalewayProvider({ credentials: {}, apiUrl: fake.url, options: {}, stateDir: stateDir() })).toThrow(/SCW_SECRET_KEY/);
    const before = fake.log.length;
    const noProject = await rejection(newProvider('').create(request('inlets-noproject-0011')));
    expect(noProject).toMatchObject({ code: 'INVALID', retryable: false });
    expect(noProject.message).toContain('SCW_DEFAULT_PROJECT_ID');
    expect(fake.log.length).toBe(before);
  });

  it('refuses to delete an Instance inletsctl did not create; maps every state and describes itself', async () => {
    const provider = await start({ foreignServers: 1 });
    const foreign = await foreignId();
    const err = await rejection(provider.delete({ name: 'not-ours', id: foreign, region: 'fr-par-1' }));
    expect(err).toMatchObject({ code: 'FORBIDDEN', retryable: false });
    expect(fake.holdings().foreignServersMissing).toBe(0);

    expect(['running', 'running', 'starting', 'stopping', 'stopped', 'stopped in place', 'locked', undefined].map((s, i) => mapServerState(s, i === 0))).toEqual([
      'active', 'provisioning', 'provisioning', 'deleting', 'error', 'error', 'error', 'error',
    ]);
    expect(securityGroupRules([8123]).map((r) => r.position)).toEqual([1, 2]);
    const d = scalewayProvider.description;
    expect(d.credentials).toMatchObject({ flags: ['secret-key', 'secret-key-file'], env: ['SCW_SECRET_KEY'], required: true });
    expect(d.extraFlags['project-id']).toMatchObject({ env: 'SCW_DEFAULT_PROJECT_ID' });
    expect(d.apiUrlEnv).toBe('SCW_API_URL');
    expect(d.userData).toEqual({ limitBytes: 32 * 1024, format: 'cloud-config', binary: false });
    expect(d.firewall).toBe('optional');
    expect(d.defaults).toMatchObject({ region: 'fr-par-1', plan: 'STARDUST1-S', image: 'debian_bookworm' });
    expect(d.regions[0]).toBe(d.defaults.region);
  });
});

describe('scaleway provider: contract v2 (tunnel ids; state from the cloud alone)', () => {
  it('a new provider object finishes an interrupted create from the plan (name, tunnel id, zone) alone', async () => {
    await start();
    await finishedByNewProvider(newProvider, request('inlets-dropped-0101'));
    expect(leftovers(fake)).toEqual({});
  });

  it('a new provider object deletes a half-made tunnel, security group included', async () => {
    await start();
    await deletedByNewProvider(newProvider, request('inlets-dropped-0102', { firewall: true }));
    expect(leftovers(fake)).toEqual({});
  });

  it('two tunnels of one name in one zone: deleting one leaves the other', async () => {
    await start();
    await sameNameSurvives(newProvider, request('inlets-twin-0103', { firewall: true }), request('inlets-twin-0103', { firewall: true }));
    expect(leftovers(fake)).toEqual({});
  });

  it('an Instance without our shared tag is refused; one of a version before tunnel ids is deletable by id alone', async () => {
    const provider = await start({ foreignServers: 1 });
    const seeded = fake.seedServer({ name: 'inlets-old-0104' });
    await foreignIdForbidden(provider, { name: 'x', id: await foreignId(), region: 'fr-par-1' });
    await deleteUntilDone(provider, { name: 'inlets-old-0104', id: seeded, region: 'fr-par-1' });
    expect(leftovers(fake)).toEqual({});
  });
});

/** The id of the fake's first foreign Instance (tagged `prod`), read from the API as anyone would. */
async function foreignId(): Promise<string> {
  const res = await fetch(`${fake.url}/instance/v1/zones/fr-par-1/servers?tags=prod`, { headers: { 'x-auth-token': SECRET } });
  const id = ((await res.json()) as { servers: Array<{ id: string }> }).servers[0]?.id;
  if (!id) throw new Error('the fake has no foreign Instance');
  return id;
}

describe('the Scaleway fake\'s request checks catch what they claim', () => {
  const headers = { 'x-auth-token': 'x', 'content-type': 'application/json' };
  const check = (method: string, path: string, body?: unknown, h: Record<string, string> = headers) => {
    const url = new URL(path, 'http://x');
    const rawBody = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    return checkScalewayRequest({ method, pathname: url.pathname, query: url.searchParams, headers: h, rawBody, body: typeof body === 'string' ? undefined : body });
  };
  const server = { name: 'inlets-a', commercial_type: 'STARDUST1-S', image: SCALEWAY_FAKE_PROJECT, dynamic_ip_required: true, project: SCALEWAY_FAKE_PROJECT, tags: ['inletsctl'] };

  it('accepts what the reference allows', () => {
    expect(check('POST', '/instance/v1/zones/fr-par-1/servers', server)).toEqual([]);
    expect(check('GET', '/instance/v1/zones/fr-par-1/servers?tags=inletsctl&page=2&per_page=100')).toEqual([]);
    expect(check('PATCH', '/instance/v1/zones/fr-par-1/servers/abc/user_data/cloud-init', '#cloud-config\n', { 'x-auth-token': 'x', 'content-type': 'text/plain' })).toEqual([]);
    expect(check('GET', '/marketplace/v2/local-images?image_label=debian_bookworm&zone=fr-par-1&page=1&page_size=100', undefined, {})).toEqual([]);
  });

  it('finds misspelt fields, a bearer header, JSON user data, bad paging, unknown zones and endpoints', () => {
    expect(check('POST', '/instance/v1/zones/fr-par-1/servers', { ...server, user_data: 'x' }).join()).toMatch(/must NOT have additional properties/);
    expect(check('POST', '/instance/v1/zones/fr-par-1/servers', { ...server, organization: SCALEWAY_FAKE_PROJECT }).join()).toMatch(/must NOT be valid/);
    expect(check('GET', '/instance/v1/zones/fr-par-1/servers', undefined, { authorization: 'Bearer x' })).toEqual(['no secret key in X-Auth-Token', 'an Authorization header: Scaleway takes the secret key in X-Auth-Token']);
    expect(check('PATCH', '/instance/v1/zones/fr-par-1/servers/abc/user_data/cloud-init', { a: 1 }).join()).toMatch(/not text\/plain/);
    expect(check('PATCH', '/instance/v1/zones/fr-par-1/servers/abc/user_data/init', 'x', { 'x-auth-token': 'x', 'content-type': 'text/plain' }).join()).toMatch(/"cloud-init" key/);
    expect(check('GET', '/instance/v1/zones/fr-par-1/servers?per_page=500').join()).toMatch(/per_page is at most 100/);
    expect(check('GET', '/instance/v1/zones/fr-par-1/servers?tag=x').join()).toMatch(/query parameter tag is not documented/);
    expect(check('GET', '/instance/v1/zones/fr-par-9/servers').join()).toMatch(/zone fr-par-9 is not one of/);
    expect(check('PUT', '/instance/v1/zones/fr-par-1/security_groups/abc/rules', { rules: [{ action: 'accept', protocol: 'tcp', direction: 'inbound', ip_range: '0.0.0.0/0' }] }).join()).toMatch(/protocol must be equal to one of/);
    expect(check('GET', '/instance/v1/zones/fr-par-1/serverz')).toEqual(['GET /instance/v1/zones/fr-par-1/serverz is not an endpoint this fake knows from the reference']);
  });
});
