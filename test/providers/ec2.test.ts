/**
 * The EC2 provider through the Provider interface, with the real `@aws-sdk/client-ec2` talking to
 * the EC2 fake (the CLI level is in contract-suite.test.ts). The fake checks every request and
 * answer against the botocore model; each test ends by requiring no mismatch.
 *
 * Nothing leaves loopback: every client gets the fake's endpoint, and the instance metadata
 * service is disabled for the SDK's credential chain (AWS_EC2_METADATA_DISABLED).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEc2Provider, mapInstanceState } from '../../providers/ec2/ec2-provider.js';
import { endpointOverride } from '../../providers/ec2/ec2-api.js';
import { DEBIAN_OWNER_ID, newestOfficial } from '../../providers/ec2/ec2-images.js';
import { ec2Provider } from '../../providers/ec2/index.js';
import type { ProviderContext } from '../../src/core/provider.js';
import { Ec2Fake, type Ec2FakeOptions } from '../fakes/ec2-fake.js';
import { IMPOSTOR_ACCOUNT, regionNetwork } from '../fakes/ec2-catalog.js';
import { leftovers } from '../fakes/index.js';
import { deleteUntilDone, rejection, request, waitActive } from './provider-steps.js';
import { deletedByNewProvider, finishedByNewProvider, foreignIdForbidden, sameNameSurvives } from '../helpers/v2-provider-checks.js';

const KEY_ID = 'AKIAEC2TESTKEY000001';
const SECRET = 'ec2-test-secret-do-not-print';
const AWS_ENV = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_EC2_API_URL', 'AWS_ENDPOINT_URL_EC2', 'AWS_ENDPOINT_URL', 'AWS_EC2_METADATA_DISABLED', 'INLETSCTL_API_TIMEOUT_MS'];
const savedEnv = Object.fromEntries(AWS_ENV.map((k) => [k, process.env[k]]));
let dir: string;
let fake: Ec2Fake;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ec2-provider-'));
  for (const k of AWS_ENV) delete process.env[k];
  process.env.AWS_EC2_METADATA_DISABLED = 'true'; // the credential chain never probes 169.254.169.254
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'no-credentials');
  process.env.AWS_CONFIG_FILE = join(dir, 'no-config');
  process.env.INLETSCTL_API_TIMEOUT_MS = '1500'; // the hang fault must not cost 30 s
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
afterEach(async () => {
  expect(fake.mismatches).toEqual([]);
  expect(fake.problems).toEqual([]);
  await fake.close();
});

let stateCount = 0;
function context(overrides: Partial<ProviderContext> = {}): ProviderContext {
  return { credentials: { 'access-token': KEY_ID, 'secret-key': SECRET }, apiUrl: fake.url, options: {}, stateDir: join(dir, `state-${++stateCount}`), ...overrides };
}

async function start(options: Ec2FakeOptions = {}, ctx: Partial<ProviderContext> = {}) {
  fake = new Ec2Fake({ boot: false, ...options });
  await fake.start();
  return createEc2Provider(context(ctx));
}

/** A request for the default plan (arm64) and image, in the default region. */
function ec2Request(name: string, overrides: Parameters<typeof request>[1] = {}) {
  const d = ec2Provider.description.defaults;
  return request(name, { region: d.region, plan: d.plan, image: d.image, ...overrides });
}

function instanceNamed(name: string) {
  return [...fake.world.instances.values()].find((i) => i.tags.some((t) => t.Key === 'inletsctl-name' && t.Value === name))!;
}

const tagsOf = (name: string, tunnelId: string) => [
  { Key: 'Name', Value: name },
  { Key: 'inletsctl', Value: 'true' },
  { Key: 'managed-by', Value: 'inletsctl' },
  { Key: 'inletsctl-name', Value: name },
  { Key: 'inletsctl-tunnel', Value: tunnelId },
];

describe('ec2 provider', () => {
  it('creates an instance and its security group, sees it running, lists it across pages, and deletes everything', async () => {
    const provider = await start({ maxPerPage: 1, foreign: 2, activeAfterPolls: 3, terminateAfterPolls: 2 });
    const req = ec2Request('inlets-brave-otter-0001', { ports: [8080, 2222], openPorts: [2222, 8080, 8123], userData: Buffer.from('user-data bytes \u00e9\0\xff') });
    const created = await provider.create(req);
    expect(created).toMatchObject({ name: req.name, status: 'provisioning', providerStatus: 'pending', region: 'eu-west-1' });
    expect(created.ip).toBeUndefined();
    expect(created.data?.securityGroupId).toMatch(/^sg-/);

    // What EC2 was asked for.
    const inst = instanceNamed(req.name);
    expect(inst.imageId).toBe('ami-0d13a0000000bb002'); // Debian's newest arm64 Debian 13 (t4g is arm64), not the impostor's
    expect(inst.userData.equals(req.userData)).toBe(true);
    expect(inst.tags).toEqual(tagsOf(req.name, req.tunnelId));
    expect(inst.volume).toMatchObject({ deleteOnTermination: true, type: 'gp3', tags: tagsOf(req.name, req.tunnelId) });
    expect(inst.eni.tags).toEqual(tagsOf(req.name, req.tunnelId));
    expect(inst).toMatchObject({ cpuCredits: 'standard', httpTokens: 'required', subnetId: regionNetwork('eu-west-1').defaultSubnet });
    const group = fake.world.groups.get(created.data!.securityGroupId)!;
    expect(group).toMatchObject({ name: `inletsctl-${req.name}-${req.tunnelId}`, tags: tagsOf(req.name, req.tunnelId), vpcId: regionNetwork('eu-west-1').defaultVpc });
    expect(group.ingress.map((r) => [r.IpProtocol, r.FromPort, r.ToPort, r.CidrIpv4 ?? r.CidrIpv6])).toEqual([
      ['tcp', 2222, 2222, '0.0.0.0/0'], ['tcp', 2222, 2222, '::/0'],
      ['tcp', 8080, 8080, '0.0.0.0/0'], ['tcp', 8080, 8080, '::/0'],
      ['tcp', 8123, 8123, '0.0.0.0/0'], ['tcp', 8123, 8123, '::/0'],
    ]);

    const active = await waitActive(provider, created);
    expect(active.ip).toMatch(/^127\.0\.\d+\.\d+$/);
    await provider.create(ec2Request('inlets-calm-yak-0002'));
    const listed = await provider.list();
    expect(listed.map((h) => h.name).sort()).toEqual(['inlets-brave-otter-0001', 'inlets-calm-yak-0002']);
    expect(listed.find((h) => h.id === created.id)).toMatchObject({ ip: active.ip, tunnelId: req.tunnelId });
    expect(fake.log.filter((e) => e.op === 'DescribeInstances').length).toBeGreaterThan(4); // one instance a page

    expect(await deleteUntilDone(provider, { name: req.name, tunnelId: req.tunnelId, region: 'eu-west-1' })).toBeGreaterThan(2);
    expect((await provider.list()).map((h) => h.name)).toEqual(['inlets-calm-yak-0002']);
    await deleteUntilDone(provider, { name: 'inlets-calm-yak-0002', id: listed.find((h) => h.name === 'inlets-calm-yak-0002')!.id, region: 'eu-west-1' });
    expect(leftovers(fake)).toEqual({});
    expect(fake.log.map((e) => e.status).every((s) => s === 200)).toBe(true);
  });

  it('picks the x86_64 image for an x86 plan, and never an image from another account', async () => {
    const provider = await start({ maxPerPage: 1 });
    const x86 = await provider.create(ec2Request('inlets-x86-0003', { plan: 't3.nano' }));
    expect(instanceNamed('inlets-x86-0003').imageId).toBe('ami-0d13a0000000aa002');
    const big0 = await provider.create(ec2Request('inlets-big-0004', { plan: 'm7g.medium', image: 'debian-12' }));
    const big = instanceNamed('inlets-big-0004');
    expect(big).toMatchObject({ imageId: 'ami-0d12a0000000bb001', cpuCredits: undefined }); // not burstable: no CreditSpecification
    // Even when an answer holds an impostor's newer image of the same name, it is not chosen.
    const lookalike = { ImageId: 'ami-0bad', Name: 'debian-13-amd64-20990101-0000', OwnerId: IMPOSTOR_ACCOUNT, Architecture: 'x86_64' as const, State: 'available' as const, CreationDate: '2099-01-01T00:00:00.000Z' };
    const real = { ...lookalike, ImageId: 'ami-0good', OwnerId: DEBIAN_OWNER_ID, Name: 'debian-13-amd64-20250814-2206', CreationDate: '2025-08-14T22:06:00.000Z' };
    expect(newestOfficial([lookalike, real], 'debian-13-amd64-', 'x86_64')?.imageId).toBe('ami-0good');
    expect(newestOfficial([lookalike], 'debian-13-amd64-', 'x86_64')).toBeUndefined();
    for (const host of [x86, big0]) await deleteUntilDone(provider, { name: host.name, tunnelId: host.tunnelId, region: 'eu-west-1' });
    expect(leftovers(fake)).toEqual({});
  });

  it('puts the instance and its group in --vpc-id/--subnet-id with a public IP, and wants both or neither', async () => {
    const net = regionNetwork('eu-west-1');
    const provider = await start({}, { options: { 'vpc-id': net.otherVpc, 'subnet-id': net.otherSubnet, 'aws-key-name': 'inlets-admin' } });
    const created = await provider.create(ec2Request('inlets-vpc-0005'));
    expect(instanceNamed('inlets-vpc-0005')).toMatchObject({ vpcId: net.otherVpc, subnetId: net.otherSubnet, keyName: 'inlets-admin' });
    expect(fake.world.groups.get(created.data!.securityGroupId)!.vpcId).toBe(net.otherVpc);
    expect((await waitActive(provider, created)).ip).toMatch(/^127\./);
    await deleteUntilDone(provider, created);
    expect(leftovers(fake)).toEqual({});

    const calls = fake.log.length;
    expect(() => createEc2Provider(context({ options: { 'vpc-id': net.otherVpc } }))).toThrow(expect.objectContaining({ code: 'VPC_SUBNET', name: 'UsageError' }));
    expect(() => createEc2Provider(context({ options: { 'subnet-id': net.otherSubnet } }))).toThrow(/--vpc-id and --subnet-id go together/);
    expect(() => createEc2Provider(context({ options: { 'vpc-id': 'default', 'subnet-id': net.otherSubnet } }))).toThrow(/not a VPC id/);
    expect(fake.log.length).toBe(calls);
  });

  it('finds the instance by its tunnel-id tag when create was interrupted before it returned an id', async () => {
    const provider = await start({ lagPolls: 2 });
    const req = ec2Request('inlets-quick-lynx-0006');
    const created = await provider.create(req);
    // EC2 is eventually consistent: right after RunInstances, the id may be unknown for a moment.
    await expect(provider.status(created)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const byTag = await provider.status({ name: 'inlets-quick-lynx-0006', tunnelId: req.tunnelId, region: 'eu-west-1' });
    expect(byTag.id).toBe(created.id);
    await deleteUntilDone(provider, { name: 'inlets-quick-lynx-0006', tunnelId: req.tunnelId, region: 'eu-west-1' });
    expect(leftovers(fake)).toEqual({});
    await expect(provider.status({ name: 'inlets-quick-lynx-0006', tunnelId: req.tunnelId, region: 'eu-west-1' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('maps errors to codes, quoting EC2\'s code and message and never a credential', async () => {
    const provider = await start();
    const cases = [
      { kind: 'rate-limit', code: 'RATE_LIMITED', text: 'HTTP 503 (RequestLimitExceeded): Request limit exceeded.' },
      { kind: 'server-error', code: 'API_UNAVAILABLE', text: 'HTTP 500 (InternalError)' },
      { kind: 'drop', code: 'NETWORK', text: 'DescribeInstances failed' },
      { kind: 'hang', code: 'NETWORK', text: 'no answer within 1500 ms' },
    ] as const;
    for (const c of cases) {
      fake.inject({ kind: c.kind, op: 'DescribeInstances' });
      const err = await rejection(provider.list());
      expect(err, c.kind).toMatchObject({ code: c.code, retryable: true });
      expect(err.message).toContain(c.text);
      expect(err.message).not.toContain(SECRET);
      expect(err.message).not.toContain(KEY_ID);
    }
    expect(await provider.list()).toEqual([]);
    const bad = await rejection(provider.create(ec2Request('inlets-odd-0007', { plan: 'x9.huge' })));
    expect(bad).toMatchObject({ code: 'INVALID', status: 400, retryable: false });
    expect(bad.message).toContain('InvalidInstanceType');
    // The model knows every instance type: the fake flags this one (and the test forgives it).
    expect(fake.mismatches.splice(0)).toEqual(["POST / request: InstanceType.1=x9.huge is not one of InstanceType's values"]);
    const tooBig = await rejection(provider.create(ec2Request('inlets-odd-0008', { userData: Buffer.alloc(16 * 1024 + 1) })));
    expect(tooBig.message).toMatch(/at most 16384/);
    expect(leftovers(fake)).toEqual({});
  });

  it('reports refused credentials as AUTH with EC2\'s message', async () => {
    const provider = await start({ credentials: [{ accessKeyId: KEY_ID, secretAccessKey: 'another-secret' }] });
    const err = await rejection(provider.list());
    expect(err).toMatchObject({ code: 'AUTH', status: 401, retryable: false });
    expect(err.message).toContain('AWS was not able to validate the provided access credentials');
    expect(err.message).not.toContain(SECRET);
  });

  it('deletes its security group again when RunInstances fails, so a repeated create starts clean', async () => {
    const provider = await start();
    fake.inject({ kind: 'rate-limit', op: 'RunInstances' });
    const err = await rejection(provider.create(ec2Request('inlets-tidy-heron-0009')));
    expect(err).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    expect(leftovers(fake)).toEqual({});
    const again = await provider.create(ec2Request('inlets-tidy-heron-0009'));
    expect(again.id).toMatch(/^i-/);
    const badKey = await rejection(createEc2Provider(context({ options: { 'aws-key-name': 'nobody' } })).create(ec2Request('inlets-tidy-heron-0010')));
    expect(badKey.message).toContain("The key pair 'nobody' does not exist");
    expect(fake.holdings().securityGroups).toBe(1); // only 0009's
    await deleteUntilDone(provider, again);
    expect(leftovers(fake)).toEqual({});
  });

  it('when RunInstances took effect but its answer was lost, fails for good and delete by tunnel id removes it all', async () => {
    const provider = await start({ terminateAfterPolls: 3 });
    fake.inject({ kind: 'drop', op: 'RunInstances', after: true });
    const lost = ec2Request('inlets-lost-0011');
    const err = await rejection(provider.create(lost));
    expect(err).toMatchObject({ code: 'NETWORK', retryable: false });
    expect(err.message).toMatch(/security group sg-\w+ was left for cleanup/);
    expect(fake.holdings()).toMatchObject({ instances: 1, securityGroups: 1 });
    // Terminating, then the group while the instance still holds it (DependencyViolation), then done.
    expect(await deleteUntilDone(provider, { name: 'inlets-lost-0011', tunnelId: lost.tunnelId, region: 'eu-west-1' })).toBeGreaterThanOrEqual(4);
    expect(fake.log.some((e) => e.op === 'DeleteSecurityGroup' && e.status === 400)).toBe(true);
    expect(leftovers(fake)).toEqual({});
  });

  it('a repeated create with the same plan never launches a second instance (ClientToken)', async () => {
    const provider = await start();
    const req = ec2Request('inlets-twice-0012');
    const first = await provider.create(req);
    const second = await provider.create(req);
    expect(second.id).toBe(first.id);
    expect(fake.holdings().instances).toBe(1);
    await deleteUntilDone(provider, first);
    expect(leftovers(fake)).toEqual({});
  });

  it('refuses to delete an instance inletsctl did not create', async () => {
    const provider = await start({ foreign: 1 });
    const foreign = [...fake.world.instances.values()].find((i) => i.foreign)!;
    const err = await rejection(provider.delete({ name: 'not-ours', id: foreign.id, region: 'eu-west-1' }));
    expect(err).toMatchObject({ code: 'FORBIDDEN', retryable: false });
    expect(fake.holdings()).toMatchObject({ foreignInstancesMissing: 0, foreignGroupsMissing: 0 });
  });

  it('lists the home region and every region it created in', async () => {
    const provider = await start();
    const dublin = await provider.create(ec2Request('inlets-dublin-0013'));
    const virginia = await provider.create(ec2Request('inlets-virginia-0014', { region: 'us-east-1' }));
    expect((await provider.list()).map((h) => `${h.name}@${h.region}`).sort()).toEqual(['inlets-dublin-0013@eu-west-1', 'inlets-virginia-0014@us-east-1']);
    // Another user (no remembered regions) sees the home region; $AWS_REGION moves it.
    const stranger = createEc2Provider(context());
    expect((await stranger.list()).map((h) => h.name)).toEqual(['inlets-dublin-0013']);
    process.env.AWS_REGION = 'us-east-1';
    try {
      expect((await createEc2Provider(context()).list()).map((h) => h.name)).toEqual(['inlets-virginia-0014']);
    } finally {
      delete process.env.AWS_REGION;
    }
    for (const host of [dublin, virginia]) await deleteUntilDone(provider, host);
    expect(leftovers(fake)).toEqual({});
  });

  it('maps every instance state and describes itself without loading the SDK', async () => {
    await start();
    expect(['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped'].map(mapInstanceState)).toEqual(['provisioning', 'active', 'deleting', 'error', 'error', 'error']);
    const d = ec2Provider.description;
    expect(d.userData).toEqual({ limitBytes: 16384, format: 'cloud-config', binary: true });
    expect(d.apiUrlEnv).toBe('AWS_EC2_API_URL');
    expect(d.firewall).toBe('always');
    expect(d.defaults.reason).toMatch(/https:\/\//);
    expect(readFileSync(new URL('../../providers/ec2/index.ts', import.meta.url), 'utf8')).not.toMatch(/from '@aws-sdk/);
    expect(endpointOverride({ ...context(), apiUrl: undefined }, { AWS_ENDPOINT_URL_EC2: 'http://127.0.0.1:1/' })).toBe('http://127.0.0.1:1');
    expect(endpointOverride({ ...context(), apiUrl: undefined }, { AWS_EC2_API_URL: 'http://127.0.0.2:1', AWS_ENDPOINT_URL_EC2: 'http://x' })).toBe('http://127.0.0.2:1');
  });
});

describe('ec2 provider, contract v2 (tunnel ids)', () => {
  it('a create dropped right after RunInstances is finished by a new provider object, from the cloud alone', async () => {
    await start({ activeAfterPolls: 3 });
    await finishedByNewProvider(() => createEc2Provider(context()), ec2Request('inlets-dropped-0101'));
    expect(leftovers(fake)).toEqual({});
  });

  it('a create dropped right after RunInstances is deleted by a new provider object', async () => {
    await start({ terminateAfterPolls: 2 });
    await deletedByNewProvider(() => createEc2Provider(context()), ec2Request('inlets-dropped-0102'));
    expect(leftovers(fake)).toEqual({});
  });

  it('deleting by tunnel id leaves a same-named tunnel with another id, and its group, untouched', async () => {
    await start({ terminateAfterPolls: 2 });
    const first = ec2Request('inlets-twin-0103');
    const second = ec2Request('inlets-twin-0103');
    const provider = createEc2Provider(context());
    await sameNameSurvives(() => provider, first, second);
    expect(leftovers(fake)).toEqual({});
  });

  it('delete --id of an instance without our tag is FORBIDDEN; one with it takes its tunnel id\'s group', async () => {
    const provider = await start({ foreign: 1, terminateAfterPolls: 1 });
    const foreign = [...fake.world.instances.values()].find((i) => i.foreign)!;
    await foreignIdForbidden(provider, { name: 'whatever', id: foreign.id, region: 'eu-west-1' });
    const req = ec2Request('inlets-by-id-0104');
    const created = await provider.create(req);
    await deleteUntilDone(provider, { name: 'x', id: created.id, region: 'eu-west-1' });
    expect(leftovers(fake)).toEqual({});
    // Nothing to go by but a name: refused, nothing looked up.
    await expect(provider.delete({ name: 'inlets-by-id-0104', region: 'eu-west-1' })).rejects.toMatchObject({ code: 'INVALID' });
  });
});

describe('ec2 credentials', () => {
  const sessionCreds = { accessKeyId: 'ASIATEMPORARY0000001', secretAccessKey: 'temporary-secret', sessionToken: 'session-token-value' };

  it('signs with --access-token, --secret-key and --session-token', async () => {
    const provider = await start({ credentials: [sessionCreds] }, { credentials: { 'access-token': sessionCreds.accessKeyId, 'secret-key': sessionCreds.secretAccessKey, 'session-token': sessionCreds.sessionToken } });
    expect(await provider.list()).toEqual([]);
  });

  it('uses a named profile from the shared credentials file', async () => {
    const file = join(dir, 'credentials-profile');
    writeFileSync(file, `[default]\naws_access_key_id = AKIAWRONG\naws_secret_access_key = wrong\n\n[inlets]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${SECRET}\n`);
    process.env.AWS_SHARED_CREDENTIALS_FILE = file;
    try {
      const provider = await start({ credentials: [{ accessKeyId: KEY_ID, secretAccessKey: SECRET }] }, { credentials: {}, options: { profile: 'inlets' } });
      expect(await provider.list()).toEqual([]);
    } finally {
      process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'no-credentials');
    }
  });

  it('uses the environment through the default chain, and refuses partial credentials without asking anyone', async () => {
    process.env.AWS_ACCESS_KEY_ID = sessionCreds.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = sessionCreds.secretAccessKey;
    process.env.AWS_SESSION_TOKEN = sessionCreds.sessionToken;
    try {
      // The CLI resolves --access-token from $AWS_ACCESS_KEY_ID; the chain reads the rest.
      const provider = await start({ credentials: [sessionCreds] }, { credentials: { 'access-token': sessionCreds.accessKeyId } });
      expect(await provider.list()).toEqual([]);
      delete process.env.AWS_SECRET_ACCESS_KEY;
      expect(() => createEc2Provider(context({ credentials: { 'access-token': sessionCreds.accessKeyId } }))).toThrow(/AWS_SECRET_ACCESS_KEY is not/);
    } finally {
      for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) delete process.env[k];
    }
    expect(() => createEc2Provider(context({ credentials: { 'access-token': KEY_ID } }))).toThrow(/needs its secret/);
    expect(() => createEc2Provider(context({ credentials: { 'secret-key': SECRET } }))).toThrow(/without --access-token/);
    expect(() => createEc2Provider(context({ credentials: { 'access-token': KEY_ID, 'session-token': 'x' } }))).toThrow(/--session-token needs/);
  });

  it('without any credentials, fails with AUTH and says how to give them', async () => {
    const provider = await start({}, { credentials: {} });
    const calls = fake.log.length;
    const err = await rejection(provider.list());
    expect(err).toMatchObject({ code: 'AUTH', retryable: false });
    expect(err.message).toMatch(/no usable AWS credentials.*--access-token and --secret-key/);
    expect(fake.log.length).toBe(calls);
  });
});
