/**
 * The GCE provider, through the Provider interface, with the real `@google-cloud/compute` client
 * talking to the GCE fake (the CLI level is in contract-suite.test.ts). The fake checks every
 * exchange against Google's discovery document; each test ends by requiring no mismatch.
 *
 * Nothing leaves loopback: the API URL points at the fake, service-account keys sign their own
 * JWTs (no token endpoint), and the metadata server is switched off and pointed at a closed
 * loopback port in case anything looked for it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGceProvider, mapInstanceStatus, projectIdOf } from '../../providers/gce/gce-provider.js';
import { gceProvider } from '../../providers/gce/index.js';
import { resourceNames } from '../../providers/gce/gce-resources.js';
import { API_TIMEOUT_ENV } from '../../providers/shared/rest-client.js';
import type { CreateRequest, ProviderContext } from '../../src/core/provider.js';
import { GceFake, type GceFakeOptions } from '../fakes/gce-fake.js';
import { GCE_CLI_ENV, GCE_FAKE_PROJECT, gceFakeEntry } from '../fakes/gce-entry.js';
import { leftovers } from '../fakes/index.js';
import { deleteUntilDone, rejection, request as baseRequest, waitActive } from './provider-steps.js';
import { deletedByNewProvider, finishedByNewProvider, foreignIdForbidden, sameNameSurvives } from '../helpers/v2-provider-checks.js';

const TOKEN = 'ya29.dummy-access-token-for-the-fake';
const GUARDS = { ...GCE_CLI_ENV, [API_TIMEOUT_ENV]: '1500' };
const saved: Record<string, string | undefined> = {};
let dir: string;
let fake: GceFake;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gce-provider-'));
  for (const [k, v] of Object.entries({ ...GUARDS, GOOGLE_CLOUD_PROJECT: undefined, GOOGLE_APPLICATION_CREDENTIALS: undefined })) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
afterEach(async () => {
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  expect(fake.mismatches).toEqual([]);
  expect(fake.problems).toEqual([]);
  await fake.close();
});

function request(name: string, overrides: Partial<CreateRequest> = {}): CreateRequest {
  return baseRequest(name, { region: 'us-central1', plan: 'e2-micro', image: 'debian-cloud/debian-12', userData: Buffer.from(`#!/bin/bash\necho ${name}\n`), ...overrides });
}

async function start(options: GceFakeOptions = {}, ctx: Partial<ProviderContext> = {}) {
  fake = new GceFake({ boot: false, project: GCE_FAKE_PROJECT, ...options });
  await fake.start();
  return createGceProvider({ credentials: { 'access-token': TOKEN }, apiUrl: fake.url, options: { 'project-id': GCE_FAKE_PROJECT }, stateDir: dir, ...ctx });
}

function serviceAccountKey(project = GCE_FAKE_PROJECT) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const email = `inletsctl@${project}.iam.gserviceaccount.com`;
  const key = {
    type: 'service_account', project_id: project, private_key_id: 'k1', client_email: email, client_id: '1',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    // Never used: service-account keys sign their own JWTs. A closed loopback port, to be sure.
    token_uri: 'http://127.0.0.1:9/token',
  };
  return { key, json: JSON.stringify(key), serviceAccount: { email, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() } };
}

describe('gce provider', () => {
  it('creates an instance, its firewall rule and static address; lists across pages; deletes everything', async () => {
    const provider = await start({ maxPerPage: 1, foreign: 2, activeAfterPolls: 3 });
    const req = request('inlets-brave-otter-0001', { ports: [8080, 2222], openPorts: [2222, 8080, 8123] });
    const created = await provider.create(req);
    expect(created).toMatchObject({ name: 'inlets-brave-otter-0001', tunnelId: req.tunnelId, status: 'provisioning', region: 'us-central1', data: { zone: 'us-central1-b' } });
    // The address was reserved first, and the instance was asked for with it.
    const reservedIp = fake.snapshot().addresses.find((a) => a.name === `inletsctl-${req.tunnelId}`)!.address;
    expect(fake.log.filter((e) => e.op.endsWith('insert')).map((e) => e.op)).toEqual(['addresses.insert', 'firewalls.insert', 'instances.insert']);
    expect(created.id).toMatch(/^\d+$/);

    const active = await waitActive(provider, created);
    expect(active).toMatchObject({ id: created.id, status: 'active', providerStatus: 'RUNNING' });
    expect(active.ip).toMatch(/^127\.0\.\d+\.\d+$/);
    expect(active.ip).toBe(reservedIp);

    const { instances, firewalls, addresses } = fake.snapshot();
    const instance = instances.find((i) => i.name === 'inlets-brave-otter-0001')!;
    const marks = { inletsctl: 'true', 'managed-by': 'inletsctl', 'inletsctl-name': 'inlets-brave-otter-0001', 'inletsctl-tunnel': req.tunnelId };
    expect(instance).toMatchObject({ labels: marks, tags: { items: [`inletsctl-${req.tunnelId}`] } });
    expect(instance.machineType).toMatch(/zones\/us-central1-b\/machineTypes\/e2-micro$/);
    expect(fake.startupScript('inlets-brave-otter-0001')).toBe(req.userData.toString('utf8'));
    expect((instance.disks as Array<{ autoDelete: boolean }>)[0].autoDelete).toBe(true);
    expect(firewalls.find((f) => f.name === `inletsctl-${req.tunnelId}`)).toMatchObject({
      targetTags: [`inletsctl-${req.tunnelId}`], sourceRanges: ['0.0.0.0/0'], allowed: [{ IPProtocol: 'tcp', ports: ['2222', '8080', '8123'] }],
      description: `inletsctl tunnel inlets-brave-otter-0001 (inletsctl-tunnel=${req.tunnelId}): control and data ports`,
    });
    expect(addresses.find((a) => a.name === `inletsctl-${req.tunnelId}`)).toMatchObject({ address: active.ip, status: 'IN_USE', labels: marks });

    const yak = request('inlets-calm-yak-0002', { zone: 'europe-west1-c', region: 'europe-west1' });
    await provider.create(yak);
    const pagesBefore = fake.log.length;
    const listed = await provider.list();
    expect(listed.map((h) => `${h.name} ${h.region} ${h.tunnelId}`).sort()).toEqual([`inlets-brave-otter-0001 us-central1 ${req.tunnelId}`, `inlets-calm-yak-0002 europe-west1 ${yak.tunnelId}`]);
    expect(fake.log.slice(pagesBefore).map((e) => e.op)).toEqual(['instances.aggregatedList', 'instances.aggregatedList']); // one a page; foreign ones filtered out

    // As `delete --id` does: the id and the tunnel id that list read from the instance's labels.
    const byId = listed.find((h) => h.id === created.id)!;
    expect(await deleteUntilDone(provider, { name: byId.name, id: byId.id, tunnelId: byId.tunnelId, region: byId.region })).toBeGreaterThan(2);
    // Without the zone (an interrupted create): found by the tunnel-id label in any zone.
    await deleteUntilDone(provider, { name: 'inlets-calm-yak-0002', tunnelId: yak.tunnelId, region: 'europe-west1' });
    expect(leftovers(fake)).toEqual({});
    const used = new Set(fake.log.map((e) => e.op));
    expect([...used].sort()).toEqual([...gceFakeEntry.operations].sort());
  });

  it('signs its own JWTs with a service-account key, taking the project from it; a wrong key is AUTH', async () => {
    const sa = serviceAccountKey();
    const provider = await start({ serviceAccount: sa.serviceAccount }, { credentials: { 'access-token': sa.json }, options: {} });
    expect(await provider.list()).toEqual([]);
    const auth = fake.log.length;
    expect(auth).toBe(1); // one API call, and no token exchange anywhere

    const other = serviceAccountKey();
    const stranger = createGceProvider({ credentials: { 'access-token': other.json }, apiUrl: fake.url, options: {}, stateDir: dir });
    const err = await rejection(stranger.list());
    expect(err).toMatchObject({ code: 'AUTH', status: 401 });
    expect(err.message).toContain('bad signature');
    expect(err.message).not.toContain('PRIVATE KEY');
  });

  it('uses Application Default Credentials from $GOOGLE_APPLICATION_CREDENTIALS, project included', async () => {
    const sa = serviceAccountKey();
    const file = join(dir, 'adc.json');
    writeFileSync(file, sa.json, { mode: 0o600 });
    process.env.GOOGLE_APPLICATION_CREDENTIALS = file;
    const provider = await start({ serviceAccount: sa.serviceAccount }, { credentials: {}, options: {} });
    const created = await provider.create(request('inlets-quiet-lynx-0003'));
    await waitActive(provider, created);
    await deleteUntilDone(provider, created);
    expect(leftovers(fake)).toEqual({});
  });

  it('reports a failed instance insert operation from status, with Google\'s reason', async () => {
    const provider = await start();
    fake.failNextOperation('instances.insert');
    const created = await provider.create(request('inlets-jolly-panda-0004'));
    expect(created.status).toBe('provisioning');
    let err: Awaited<ReturnType<typeof rejection>> | undefined;
    for (let i = 0; i < 5 && !err; i++) {
      try {
        expect((await provider.status(created)).status).toBe('provisioning');
      } catch (e) {
        err = e as typeof err;
      }
    }
    expect(err).toMatchObject({ code: 'CREATE_FAILED', retryable: false });
    expect(err!.message).toContain('creating instance inlets-jolly-panda-0004 in us-central1-b failed');
    expect(err!.message).toContain('ZONE_RESOURCE_POOL_EXHAUSTED');
    await deleteUntilDone(provider, created);
    expect(leftovers(fake)).toEqual({});
  });

  it('reports a quota error of the address reservation from create, and a failed firewall insert from status', async () => {
    const provider = await start();
    fake.failNextOperation('addresses.insert', 'QUOTA_EXCEEDED', "Quota 'STATIC_ADDRESSES' exceeded.  Limit: 8.0 in region us-central1.");
    const gecko = request('inlets-lucky-gecko-0005');
    const err = await rejection(provider.create(gecko));
    expect(err).toMatchObject({ code: 'QUOTA', retryable: false });
    expect(err.message).toContain("QUOTA_EXCEEDED: Quota 'STATIC_ADDRESSES' exceeded");
    expect(fake.log.map((e) => e.op)).toEqual(['addresses.insert', 'regionOperations.wait']); // nothing made after it
    await deleteUntilDone(provider, { name: gecko.name, tunnelId: gecko.tunnelId, region: gecko.region });

    fake.failNextOperation('firewalls.insert', 'RESOURCE_OPERATION_RATE_EXCEEDED', 'Operation rate exceeded for resource (injected).');
    const second = await provider.create(request('inlets-lucky-gecko-0006'));
    const fwErr = await rejection(waitActive(provider, second));
    expect(fwErr).toMatchObject({ code: 'CREATE_FAILED' });
    expect(fwErr.message).toContain(`creating firewall rule inletsctl-${second.tunnelId} failed`);
    await deleteUntilDone(provider, second);
    expect(leftovers(fake)).toEqual({});
  });

  it('maps errors to codes, quoting Google\'s message and never the token', async () => {
    const provider = await start();
    const cases = [
      { kind: 'rate-limit', code: 'RATE_LIMITED', text: 'HTTP 429 (rateLimitExceeded)' },
      { kind: 'server-error', code: 'API_UNAVAILABLE', text: 'HTTP 500 (backendError): internal server error' },
      { kind: 'drop', code: 'NETWORK', text: 'instances.aggregatedList failed' },
      { kind: 'hang', code: 'NETWORK', text: 'no answer within 1500 ms' },
    ] as const;
    for (const c of cases) {
      fake.inject({ kind: c.kind, op: 'instances.aggregatedList' });
      const err = await rejection(provider.list());
      expect(err, c.kind).toMatchObject({ code: c.code, retryable: true });
      expect(err.message).toContain(c.text);
      expect(err.message).not.toContain(TOKEN);
      expect(err.cause).toBeUndefined(); // the SDK's error holds the request, Authorization included
    }
    expect(await provider.list()).toEqual([]);
  });

  it('repeats a create refused with 429 by adopting its own address and rule; a name taken by another tunnel is INVALID', async () => {
    const provider = await start();
    fake.inject({ kind: 'rate-limit', op: 'instances.insert' });
    const heron = request('inlets-tidy-heron-0007');
    expect(await rejection(provider.create(heron))).toMatchObject({ code: 'RATE_LIMITED' });
    const created = await provider.create(heron);
    await waitActive(provider, created);
    expect(fake.holdings()).toMatchObject({ instances: 1, firewalls: 1, addresses: 1 });
    const other = request('inlets-tidy-heron-0007');
    const dup = await rejection(provider.create(other));
    expect(dup).toMatchObject({ code: 'INVALID', retryable: false });
    expect(dup.message).toContain(`is not tunnel ${other.tunnelId}'s`);
    await deleteUntilDone(provider, created);
    await deleteUntilDone(provider, { name: other.name, tunnelId: other.tunnelId, region: other.region }); // the other's address and rule

    expect(leftovers(fake)).toEqual({});
  });

  it('needs a project for an access token, and an API URL without a path', async () => {
    const provider = await start({}, { options: {} });
    const err = await rejection(provider.list());
    expect(err).toMatchObject({ code: 'AUTH', retryable: false });
    expect(err.message).toContain('--project-id');
    expect(fake.log).toEqual([]);
    expect(() => createGceProvider({ credentials: { 'access-token': TOKEN }, apiUrl: `${fake.url}/compute/v1`, options: {}, stateDir: dir })).toThrow(/without a path/);
    const denied = await rejection(createGceProvider({ credentials: { 'access-token': TOKEN }, apiUrl: fake.url, options: { 'project-id': 'someone-else' }, stateDir: dir }).list());
    expect(denied).toMatchObject({ code: 'AUTH', status: 403 });
  });

  it('names rule, address and tag by tunnel id within 63 characters; maps statuses; describes itself', async () => {
    await start();
    const long = { name: `t${'x'.repeat(60)}ab`, tunnelId: '0123456789ab' };
    expect(resourceNames(long)).toEqual({ instance: long.name, firewall: 'inletsctl-0123456789ab', address: 'inletsctl-0123456789ab', tag: 'inletsctl-0123456789ab' });
    const statuses = ['PROVISIONING', 'STAGING', 'RUNNING', 'STOPPING', 'STOPPED', 'SUSPENDED', 'TERMINATED', 'REPAIRING'];
    expect(statuses.map(mapInstanceStatus)).toEqual(['provisioning', 'provisioning', 'active', 'error', 'error', 'error', 'error', 'provisioning']);
    const d = gceProvider.description;
    expect(d.userData).toEqual({ limitBytes: 256 * 1024, format: 'script', binary: false });
    expect(d.apiUrlEnv).toBe('GCE_API_URL');
    expect(d.extraFlags['project-id'].env).toBe('GOOGLE_CLOUD_PROJECT');
  });
});

describe('gce provider, contract v2 (tunnel ids)', () => {
  const context = (): ProviderContext => ({ credentials: { 'access-token': TOKEN }, apiUrl: fake.url, options: { 'project-id': GCE_FAKE_PROJECT }, stateDir: dir });

  it('a create dropped right after its API calls is finished by a new provider object, status only reading', async () => {
    await start({ activeAfterPolls: 3 });
    const req = request('inlets-dropped-0101');
    await finishedByNewProvider(() => createGceProvider(context()), req);
    expect(leftovers(fake)).toEqual({});
    // Status never made anything: every insert came from create, one each.
    expect(fake.log.filter((e) => e.op.endsWith('.insert')).map((e) => e.op)).toEqual(['addresses.insert', 'firewalls.insert', 'instances.insert']);
  });

  it('a create dropped right after its API calls is deleted by a new provider object', async () => {
    await start();
    await deletedByNewProvider(() => createGceProvider(context()), request('inlets-dropped-0102'));
    expect(leftovers(fake)).toEqual({});
  });

  it('deleting by tunnel id leaves a same-named tunnel (another zone, another id), its rule and address untouched', async () => {
    await start();
    const first = request('inlets-twin-0103');
    const second = request('inlets-twin-0103', { zone: 'us-central1-c' });
    await sameNameSurvives(() => createGceProvider(context()), first, second);
    expect(leftovers(fake)).toEqual({});
  });

  it('delete --id of an instance without our labels is FORBIDDEN and touches nothing', async () => {
    const provider = await start({ foreign: 1 });
    const foreign = fake.snapshot().instances.find((i) => i.name === 'db-1')!;
    await foreignIdForbidden(provider, { name: 'db-1', id: String(foreign.id), region: 'us-east1' });
    expect(fake.holdings()).toMatchObject({ foreignMissing: 0 });
    expect(fake.log.map((e) => e.op)).toEqual(['instances.aggregatedList']);
    await expect(provider.delete({ name: 'db-1', region: 'us-east1' })).rejects.toMatchObject({ code: 'INVALID' });
  });

  it('takes the project from --project-id, else from $CLOUDSDK_CORE_PROJECT', async () => {
    await start();
    expect(projectIdOf({ options: { 'project-id': 'flag-project' } }, { CLOUDSDK_CORE_PROJECT: 'gcloud-project' })).toBe('flag-project');
    expect(projectIdOf({ options: {} }, { CLOUDSDK_CORE_PROJECT: 'gcloud-project' })).toBe('gcloud-project');
    expect(projectIdOf({ options: {} }, {})).toBeUndefined();
  });
});
