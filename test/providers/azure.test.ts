/**
 * The Azure provider against the Azure fake, through the Provider interface, with the real ARM
 * SDK clients (the CLI level, over https with a service principal, is azure-cli.test.ts; the
 * contract suite and fault matrix are contract-suite.test.ts). In-process the fake is plain http on
 * loopback (this process cannot trust a test CA), with an access token: nothing leaves loopback,
 * and no token endpoint or metadata service is ever asked.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAzureProvider, mapVmState } from '../../providers/azure/azure-provider.js';
import { azureProvider } from '../../providers/azure/index.js';
import { chooseCredential, StaticTokenCredential } from '../../providers/azure/azure-credentials.js';
import { API_TIMEOUT_ENV } from '../../providers/shared/rest-client.js';
import { AzureFake, FAKE_SUBSCRIPTION, type AzureFakeOptions } from '../fakes/azure-fake.js';
import { leftovers } from '../fakes/index.js';
import { deleteUntilDone, rejection, request as baseRequest, waitActive } from './provider-steps.js';
import type { CreateRequest, Provider } from '../../src/core/provider.js';

const TOKEN = 'azure-dummy-token-for-the-fake';
const SECRET = 'sp-secret-that-must-never-show';
let stateDir: string;
let fake: AzureFake;
const previousTimeout = process.env[API_TIMEOUT_ENV];

beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'azure-provider-'));
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
  const d = azureProvider.description.defaults;
  return baseRequest(name, { region: d.region, plan: d.plan, image: d.image, ...overrides });
}

async function start(options: AzureFakeOptions = {}, providerOptions: Record<string, unknown> = {}): Promise<Provider> {
  fake = new AzureFake({ boot: false, acceptToken: TOKEN, ...options });
  await fake.start();
  return createAzureProvider({ credentials: { 'access-token': TOKEN }, apiUrl: fake.url, options: providerOptions, stateDir });
}

/** The operations logged since `from`. */
const opsSince = (from: number) => fake.log.slice(from).map((e) => e.op);

describe('azure provider', () => {
  it('builds the chain one step per status call, lists across pages, and deletes the groups (and only them)', async () => {
    const provider = await start({ maxPerPage: 1, foreignGroups: 2, activeAfterPolls: 3 });
    const req = request('az-brave-otter', { ports: [8080, 2222] });
    const created = await provider.create(req);
    expect(created).toMatchObject({ name: 'az-brave-otter', id: 'inletsctl-az-brave-otter', status: 'provisioning', region: 'eastus', data: { subscriptionId: FAKE_SUBSCRIPTION } });
    expect(opsSince(0).filter((op) => op.endsWith('_CreateOrUpdate'))).toEqual(
      expect.arrayContaining(['ResourceGroups_CreateOrUpdate', 'VirtualNetworks_CreateOrUpdate', 'PublicIPAddresses_CreateOrUpdate', 'NetworkSecurityGroups_CreateOrUpdate']),
    );
    expect(fake.holdings()).toMatchObject({ resourceGroups: 1, networkInterfaces: 0, virtualMachines: 0 });

    // Each status call makes a bounded number of requests, and never waits.
    const words: string[] = [];
    let host = created;
    for (let i = 0; i < 10 && host.status !== 'active'; i++) {
      const before = fake.log.length;
      host = await provider.status(created);
      words.push(host.providerStatus ?? '');
      expect(fake.log.length - before).toBeLessThanOrEqual(4);
    }
    expect(host).toMatchObject({ status: 'active', ip: expect.stringMatching(/^127\.0\.\d+\.\d+$/) });
    expect(words[0]).toBe('creating the network interface');
    expect(words).toContain('creating the VM');
    expect(words).toContain('VM Creating');

    // What was asked for: tags everywhere, a Standard static IP, only the ports asked for, the user-data.
    const put = (op: string) => fake.puts.find((p) => p.op === op)!.body as { tags: Record<string, string>; sku?: { name: string }; properties: Record<string, any> };
    for (const p of fake.puts) expect(p.body.tags, p.op).toEqual({ inletsctl: 'true', 'inletsctl-name': 'az-brave-otter' });
    expect(put('PublicIPAddresses_CreateOrUpdate')).toMatchObject({ sku: { name: 'Standard' }, properties: { publicIPAllocationMethod: 'Static' } });
    const rules = put('NetworkSecurityGroups_CreateOrUpdate').properties.securityRules as Array<{ properties: { destinationPortRange: string; direction: string; access: string } }>;
    expect(rules.map((r) => r.properties.destinationPortRange)).toEqual(['8123', '8080', '2222']);
    expect(rules.every((r) => r.properties.direction === 'Inbound' && r.properties.access === 'Allow')).toBe(true);
    const vm = put('VirtualMachines_CreateOrUpdate').properties;
    expect(Buffer.from(vm.osProfile.customData, 'base64')).toEqual(req.userData);
    expect(vm.storageProfile.imageReference).toEqual({ publisher: 'Debian', offer: 'debian-12', sku: '12-gen2', version: 'latest' });
    expect(vm.hardwareProfile.vmSize).toBe('Standard_B2ats_v2');
    expect(vm.osProfile.linuxConfiguration.disablePasswordAuthentication).toBe(true);

    await provider.create(request('az-calm-yak'));
    const listed = await provider.list();
    expect(listed.map((h) => h.name).sort()).toEqual(['az-brave-otter', 'az-calm-yak']);
    expect(listed.find((h) => h.name === 'az-brave-otter')).toMatchObject({ status: 'active', ip: host.ip, id: 'inletsctl-az-brave-otter' });
    expect(listed.find((h) => h.name === 'az-calm-yak')).toMatchObject({ status: 'provisioning', providerStatus: 'no VM yet' });
    expect(fake.log.filter((e) => e.op === 'ResourceGroups_List').length).toBeGreaterThan(1); // one group a page

    // A fresh provider (another process) finds the groups by tag alone.
    const other = createAzureProvider({ credentials: { 'access-token': TOKEN }, apiUrl: fake.url, options: {}, stateDir });
    expect(await deleteUntilDone(other, { name: 'az-brave-otter' })).toBe(2);
    await deleteUntilDone(provider, { name: 'az-calm-yak', id: 'inletsctl-az-calm-yak' });
    expect(leftovers(fake)).toEqual({});
    expect(fake.holdings().foreignGroupsMissing).toBe(0);
  });

  it('reports a failed long-running operation with Azure\'s code and message', async () => {
    const provider = await start();
    fake.store.failNext('virtualMachines', { code: 'OSProvisioningTimedOut', message: 'OS Provisioning for VM did not finish in the allotted time.' });
    const created = await provider.create(request('az-jolly-panda'));
    const err = await rejection(waitActive(provider, created));
    expect(err).toMatchObject({ code: 'CREATE_FAILED', retryable: false });
    expect(err.message).toContain('the VM az-jolly-panda in inletsctl-az-jolly-panda: OSProvisioningTimedOut: OS Provisioning for VM did not finish');
    await deleteUntilDone(provider, { name: 'az-jolly-panda' });

    // A network step that fails already at the SDK's first status read is reported the same way.
    fake.store.failNext('publicIPAddresses', { code: 'PublicIPCountLimitReached', message: 'Cannot create more than 10 public IP addresses for this subscription in this region.' });
    const second = await provider.create(request('az-eager-koala'));
    const ipErr = await rejection(provider.status(second));
    expect(ipErr).toMatchObject({ code: 'CREATE_FAILED' });
    expect(ipErr.message).toContain('public IP az-eager-koala-ip');
    expect(ipErr.message).toContain('PublicIPCountLimitReached: Cannot create more than 10 public IP addresses');
    await deleteUntilDone(provider, { name: 'az-eager-koala' });
    expect(leftovers(fake)).toEqual({});
  });

  it('maps errors to codes with Azure\'s own code and message, and never the token', async () => {
    const provider = await start();
    const cases = [
      { kind: 'rate-limit', code: 'RATE_LIMITED', text: 'TooManyRequests' },
      { kind: 'server-error', code: 'API_UNAVAILABLE', text: 'InternalServerError' },
      { kind: 'drop', code: 'NETWORK', text: 'GET resourceGroups failed' },
      { kind: 'hang', code: 'NETWORK', text: 'no answer within 1500 ms' },
    ] as const;
    for (const c of cases) {
      fake.inject({ kind: c.kind, op: 'ResourceGroups_List', retryAfterSeconds: 3 });
      const err = await rejection(provider.list());
      expect(err, c.kind).toMatchObject({ code: c.code, retryable: true });
      expect(err.message).toContain(c.text);
      expect(err.message).not.toContain(TOKEN);
      if (c.kind === 'rate-limit') expect(err.retryAfterMs).toBe(3000);
    }
    expect(await provider.list()).toEqual([]);

    // Azure refuses a size it does not offer: INVALID, Azure's code, found by status (the VM step).
    const created = await provider.create(request('az-keen-tapir', { plan: 'Standard_Z99' }));
    // Both SDK generations' errors (arm-compute's and arm-network's) carry Retry-After.
    for (const op of ['VirtualMachines_Get', 'PublicIPAddresses_Get']) {
      fake.inject({ kind: 'rate-limit', op, retryAfterSeconds: 2 });
      expect(await rejection(provider.list()), op).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 2000, status: 429 });
    }
    let err: Awaited<ReturnType<typeof rejection>> | undefined;
    for (let i = 0; i < 5 && !err; i++) err = await provider.status(created).then(() => undefined, (e: unknown) => e as Error & { code?: string });
    expect(err).toMatchObject({ code: 'INVALID', status: 400 });
    expect(err!.message).toContain('(InvalidParameter): The value Standard_Z99 provided for the VM size is not valid');
    // The fake also records the refused body as a mismatch: expected here, so taken off the list.
    expect(fake.mismatches.splice(0)).toEqual([expect.stringContaining('Standard_Z99')]);
    await deleteUntilDone(provider, { name: 'az-keen-tapir' });
    expect(leftovers(fake)).toEqual({});
  });

  it('reports a refused token as AUTH, and refuses bad input before any call', async () => {
    const provider = await start({ acceptToken: 'another-token' });
    const err = await rejection(provider.list());
    expect(err).toMatchObject({ code: 'AUTH', status: 401 });
    expect(err.message).toContain('(InvalidAuthenticationToken)');
    const before = fake.log.length;
    expect((await rejection(provider.create(request('az-odd-image', { image: 'debian-12' })))).message).toContain('publisher:offer:sku:version');
    expect((await rejection(provider.create(request('Not_A_Name')))).code).toBe('INVALID');
    expect(fake.log.length).toBe(before);
    expect(() => createAzureProvider({ credentials: {}, apiUrl: 'http://example.com', options: {}, stateDir })).toThrow(/must use https/);
  });

  it('uses the subscription given, or the only one visible, and names them when there are several', async () => {
    const other = '9e8d7c6b-0000-4000-8000-000000000002';
    let provider = await start({ subscriptions: [FAKE_SUBSCRIPTION, other] });
    const err = await rejection(provider.list());
    expect(err).toMatchObject({ code: 'INVALID', retryable: false });
    expect(err.message).toContain(`choose one with --subscription-id or $AZURE_SUBSCRIPTION_ID: ${FAKE_SUBSCRIPTION} (Fake subscription 4f1c2d3e), ${other}`);
    await fake.close();

    provider = await start({ subscriptions: [FAKE_SUBSCRIPTION, other] }, { 'subscription-id': other });
    const created = await provider.create(request('az-tidy-heron'));
    expect(created.data?.subscriptionId).toBe(other);
    expect(fake.log.some((e) => e.op === 'Subscriptions_List')).toBe(false);
    expect(fake.puts[0].path).toContain(`/subscriptions/${other}/`);
    // The subscription recorded with the tunnel wins over the default on delete.
    const plain = createAzureProvider({ credentials: { 'access-token': TOKEN }, apiUrl: fake.url, options: { 'subscription-id': FAKE_SUBSCRIPTION }, stateDir });
    await deleteUntilDone(plain, { name: 'az-tidy-heron', data: created.data });
    expect(leftovers(fake)).toEqual({});
  });

  it('retries nothing itself, and carries on after a lost answer: a PUT repeated is the same resource', async () => {
    const provider = await start();
    const created = await provider.create(request('az-wise-lynx'));
    fake.inject({ op: 'NetworkInterfaces_CreateOrUpdate', kind: 'drop', after: true });
    const lost = await rejection(provider.status(created));
    expect(lost).toMatchObject({ code: 'NETWORK', retryable: true });
    expect(fake.log.filter((e) => e.op === 'NetworkInterfaces_CreateOrUpdate')).toHaveLength(1); // no SDK retry
    const host = await waitActive(provider, created);
    expect(host.status).toBe('active');
    expect(fake.holdings().networkInterfaces).toBe(1);
    await deleteUntilDone(provider, { name: 'az-wise-lynx' });
    expect(leftovers(fake)).toEqual({});
  });
});

describe('azure credentials and description', () => {
  it('chooses a service principal, an access token, or the default chain, and never echoes a secret', async () => {
    const sp = chooseCredential(JSON.stringify({ appId: 'app-1', displayName: 'x', password: SECRET, tenant: 'tenant-1' }), {});
    expect(sp).toMatchObject({ kind: 'service-principal', servicePrincipal: { clientId: 'app-1', tenantId: 'tenant-1' } });
    const sdkAuth = chooseCredential(JSON.stringify({ clientId: 'app-2', clientSecret: SECRET, tenantId: 't', subscriptionId: 's-2', resourceManagerEndpointUrl: 'https://management.usgovcloudapi.net/' }), {});
    expect(sdkAuth.servicePrincipal).toMatchObject({ subscriptionId: 's-2', resourceManagerUrl: 'https://management.usgovcloudapi.net' });
    expect(() => chooseCredential(JSON.stringify({ appId: 'app-1', password: SECRET }), {})).toThrow(/lacks tenant \(or tenantId\)/);
    try {
      chooseCredential(`{"appId": "a", "password": "${SECRET}"`, {});
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain(SECRET);
      expect((err as { code?: string }).code).toBe('AUTH');
    }
    const token = chooseCredential('eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.sig', {});
    expect(token.kind).toBe('access-token');
    expect(await (await token.credential()).getToken('https://management.azure.com/.default')).toEqual({ token: 'eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.sig', expiresOnTimestamp: 4102444800000 });
    expect((await new StaticTokenCredential('opaque').getToken()).expiresOnTimestamp).toBeGreaterThan(Date.now());
    // Made, never asked for a token (that would probe the metadata service).
    const chain = chooseCredential(undefined, {});
    expect(chain.kind).toBe('default');
    expect((await chain.credential()).constructor.name).toBe('DefaultAzureCredential');
  });

  it('maps VM states and describes itself', () => {
    expect(['Creating', 'Updating', 'Succeeded', 'Failed', 'Deleting', undefined].map(mapVmState)).toEqual(['provisioning', 'provisioning', 'active', 'error', 'deleting', 'provisioning']);
    const d = azureProvider.description;
    expect(d.userData).toEqual({ limitBytes: 65535, format: 'cloud-config', binary: true });
    expect(d.apiUrlEnv).toBe('AZURE_RESOURCE_MANAGER_URL');
    expect(d.extraFlags['subscription-id'].env).toBe('AZURE_SUBSCRIPTION_ID');
    expect(d.credentials.required).toBe(false);
    expect(d.firewall).toBe('always');
  });
});
