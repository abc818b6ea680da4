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
import { createAzureProvider, mapDeploymentState, mapVmState } from '../../providers/azure/azure-provider.js';
import { azureProvider } from '../../providers/azure/index.js';
import { chooseCredential, StaticTokenCredential } from '../../providers/azure/azure-credentials.js';
import { API_TIMEOUT_ENV } from '../../providers/shared/rest-client.js';
import { AzureFake, FAKE_SUBSCRIPTION, type AzureFakeOptions } from '../fakes/azure-fake.js';
import { leftovers } from '../fakes/index.js';
import { deleteUntilDone, rejection, request as baseRequest, waitActive } from './provider-steps.js';
import { deletedByNewProvider, finishedByNewProvider, foreignIdForbidden, planRef, sameNameSurvives } from '../helpers/v2-provider-checks.js';
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

/** The deployment PUT's template and parameters. */
function deploymentPut(index = 0) {
  const puts = fake.puts.filter((p) => p.op === 'Deployments_CreateOrUpdate');
  return puts[index].body.properties as { mode: string; template: { resources: Array<Record<string, any>>; outputs: Record<string, unknown> }; parameters: Record<string, { value: string }> };
}

describe('azure provider', () => {
  it('creates a group and ONE deployment, reads its progress, lists across pages, and deletes the groups (and only them)', async () => {
    const provider = await start({ maxPerPage: 1, foreignGroups: 2, activeAfterPolls: 3 });
    const req = request('az-brave-otter', { ports: [8080, 2222], openPorts: [2222, 8080, 8123] });
    const created = await provider.create(req);
    const group = `inletsctl-az-brave-otter-${req.tunnelId}`;
    expect(created).toMatchObject({ name: 'az-brave-otter', tunnelId: req.tunnelId, id: group, status: 'provisioning', region: 'eastus', data: { subscriptionId: FAKE_SUBSCRIPTION } });
    expect(opsSince(0)).toEqual(['Subscriptions_List', 'ResourceGroups_CreateOrUpdate', 'Deployments_CreateOrUpdate']);
    expect(fake.holdings()).toMatchObject({ resourceGroups: 1, deployments: 1, virtualNetworks: 0, virtualMachines: 0 });

    // Each status call reads (the deployment; at the end the VM too), and never waits.
    const words: string[] = [];
    let host = created;
    for (let i = 0; i < 15 && host.status !== 'active'; i++) {
      const before = fake.log.length;
      host = await provider.status(created);
      words.push(host.providerStatus ?? '');
      expect(opsSince(before).every((op) => op === 'Deployments_Get' || op === 'VirtualMachines_Get')).toBe(true);
    }
    expect(host).toMatchObject({ status: 'active', providerStatus: 'VM running', ip: expect.stringMatching(/^127\.0\.\d+\.\d+$/), tunnelId: req.tunnelId });
    expect(words.slice(0, 2)).toEqual(['deployment Running', 'deployment Running']);
    expect(fake.puts.map((p) => p.op)).toEqual(['ResourceGroups_CreateOrUpdate', 'Deployments_CreateOrUpdate']); // nothing else was PUT

    // What was asked for: marks on the group and every resource, the order, only the ports asked for, the user-data.
    const marks = { inletsctl: 'true', 'managed-by': 'inletsctl', 'inletsctl-name': 'az-brave-otter', 'inletsctl-tunnel': req.tunnelId };
    expect(fake.puts[0].body.tags).toEqual(marks);
    const d = deploymentPut();
    expect(d.mode).toBe('Incremental');
    const byType = (t: string) => d.template.resources.find((r) => r.type === t)!;
    for (const r of d.template.resources) expect(r.tags, r.type).toEqual(marks);
    expect(d.template.resources.map((r) => r.type)).toEqual(['Microsoft.Network/virtualNetworks', 'Microsoft.Network/publicIPAddresses', 'Microsoft.Network/networkSecurityGroups', 'Microsoft.Network/networkInterfaces', 'Microsoft.Compute/virtualMachines']);
    expect(byType('Microsoft.Network/networkInterfaces').dependsOn).toHaveLength(3);
    expect(byType('Microsoft.Compute/virtualMachines').dependsOn).toEqual(["[resourceId('Microsoft.Network/networkInterfaces', 'az-brave-otter-nic')]"]);
    expect(byType('Microsoft.Network/publicIPAddresses')).toMatchObject({ sku: { name: 'Standard' }, properties: { publicIPAllocationMethod: 'Static' } });
    const rules = byType('Microsoft.Network/networkSecurityGroups').properties.securityRules as Array<{ properties: { destinationPortRange: string; direction: string; access: string } }>;
    expect(rules.map((r) => r.properties.destinationPortRange)).toEqual(['2222', '8080', '8123']);
    expect(rules.every((r) => r.properties.direction === 'Inbound' && r.properties.access === 'Allow')).toBe(true);
    const vm = byType('Microsoft.Compute/virtualMachines').properties;
    expect(vm.osProfile.customData).toBe("[parameters('customData')]");
    expect(Buffer.from(d.parameters.customData.value, 'base64')).toEqual(req.userData);
    expect(vm.storageProfile.imageReference).toEqual({ publisher: 'Debian', offer: 'debian-12', sku: '12-gen2', version: 'latest' });
    expect(vm.hardwareProfile.vmSize).toBe('Standard_B2ats_v2');
    expect(vm.osProfile.linuxConfiguration.disablePasswordAuthentication).toBe(true);
    // The deployment made what the template declares; the secure parameter is never returned.
    expect(fake.holdings()).toMatchObject({ virtualNetworks: 1, publicIPAddresses: 1, networkSecurityGroups: 1, networkInterfaces: 1, virtualMachines: 1, disks: 1 });
    expect(JSON.stringify(fake.deployments.render(fake.deployments.get(FAKE_SUBSCRIPTION, group, 'inletsctl-tunnel')!))).not.toContain(d.parameters.customData.value);

    const yak = request('az-calm-yak');
    await provider.create(yak);
    const listed = await provider.list();
    expect(listed.map((h) => `${h.name} ${h.tunnelId}`).sort()).toEqual([`az-brave-otter ${req.tunnelId}`, `az-calm-yak ${yak.tunnelId}`]);
    expect(listed.find((h) => h.name === 'az-brave-otter')).toMatchObject({ status: 'active', ip: host.ip, id: group });
    expect(listed.find((h) => h.name === 'az-calm-yak')).toMatchObject({ status: 'provisioning', providerStatus: 'deployment Running' });
    expect(fake.log.filter((e) => e.op === 'ResourceGroups_List').length).toBeGreaterThan(1); // one group a page

    // A fresh provider (another process) finds the groups by their tunnel-id tag alone.
    const other = createAzureProvider({ credentials: { 'access-token': TOKEN }, apiUrl: fake.url, options: {}, stateDir });
    expect(await deleteUntilDone(other, { name: 'az-brave-otter', tunnelId: req.tunnelId })).toBe(2);
    // By the group's name alone (delete --id): its tags give the tunnel id.
    await deleteUntilDone(provider, { name: 'x', id: listed.find((h) => h.name === 'az-calm-yak')!.id });
    expect(leftovers(fake)).toEqual({});
    expect(fake.holdings().foreignGroupsMissing).toBe(0);
  });

  it('reports a failed deployment with Azure\'s code and the resource\'s own error', async () => {
    const provider = await start();
    fake.store.failNext('virtualMachines', { code: 'OSProvisioningTimedOut', message: 'OS Provisioning for VM did not finish in the allotted time.' });
    const created = await provider.create(request('az-jolly-panda'));
    const err = await rejection(waitActive(provider, created));
    expect(err).toMatchObject({ code: 'CREATE_FAILED', retryable: false });
    expect(err.message).toContain(`could not deploy the tunnel in ${created.id}: DeploymentFailed`);
    expect(err.message).toContain('OSProvisioningTimedOut: OS Provisioning for VM did not finish');
    await deleteUntilDone(provider, created);

    fake.store.failNext('publicIPAddresses', { code: 'PublicIPCountLimitReached', message: 'Cannot create more than 10 public IP addresses for this subscription in this region.' });
    const second = await provider.create(request('az-eager-koala'));
    const ipErr = await rejection(waitActive(provider, second));
    expect(ipErr.message).toContain('PublicIPCountLimitReached: Cannot create more than 10 public IP addresses');
    expect(fake.holdings().virtualMachines).toBe(0); // the VM depends on what failed: never started
    await deleteUntilDone(provider, second);
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

    // ARM validates the template before it accepts it: a size it does not offer is refused by create.
    const badReq = request('az-keen-tapir', { plan: 'Standard_Z99' });
    const bad = await rejection(provider.create(badReq));
    expect(bad).toMatchObject({ code: 'INVALID', status: 400 });
    expect(bad.message).toContain('(InvalidTemplate)');
    expect(bad.message).toContain('The value Standard_Z99 provided for the VM size is not valid');
    // The fake also records the refused template as a mismatch: expected here, so taken off the list.
    expect(fake.mismatches.splice(0)).toEqual([expect.stringContaining('Standard_Z99')]);
    // Both kinds of read carry Retry-After.
    const ok = await provider.create(request('az-keen-tapir-2'));
    for (const op of ['Deployments_Get']) {
      fake.inject({ kind: 'rate-limit', op, retryAfterSeconds: 2 });
      expect(await rejection(provider.status(ok)), op).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 2000, status: 429 });
    }
    await deleteUntilDone(provider, ok);
    expect(leftovers(fake)).toEqual({ resourceGroups: 1 }); // the refused create's group, which the CLI's clean-up deletes by tunnel id
    await deleteUntilDone(provider, planRef(badReq));
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
    const req = request('az-tidy-heron');
    const created = await provider.create(req);
    expect(created.data?.subscriptionId).toBe(other);
    expect(fake.log.some((e) => e.op === 'Subscriptions_List')).toBe(false);
    expect(fake.puts[0].path).toContain(`/subscriptions/${other}/`);
    // The subscription recorded with the tunnel wins over the default on delete.
    const plain = createAzureProvider({ credentials: { 'access-token': TOKEN }, apiUrl: fake.url, options: { 'subscription-id': FAKE_SUBSCRIPTION }, stateDir });
    await deleteUntilDone(plain, { name: 'az-tidy-heron', tunnelId: req.tunnelId, data: created.data });
    expect(leftovers(fake)).toEqual({});
  });

  it('retries nothing itself; a create repeated after a refusal, or finding its deployment running, is the same deployment', async () => {
    const provider = await start();
    const req = request('az-wise-lynx');
    fake.inject({ op: 'Deployments_CreateOrUpdate', kind: 'rate-limit' });
    expect(await rejection(provider.create(req))).toMatchObject({ code: 'RATE_LIMITED' });
    expect(fake.log.filter((e) => e.op === 'Deployments_CreateOrUpdate')).toHaveLength(1); // no SDK retry
    const created = await provider.create(req);
    await provider.status(created); // Running now
    expect((await provider.create(req)).id).toBe(created.id); // DeploymentActive: already under way
    expect(fake.holdings()).toMatchObject({ resourceGroups: 1, deployments: 1 });
    const host = await waitActive(provider, created);
    expect(host.status).toBe('active');
    await deleteUntilDone(provider, created);
    expect(leftovers(fake)).toEqual({});
  });
});

describe('azure provider, contract v2 (tunnel ids)', () => {
  const context = () => ({ credentials: { 'access-token': TOKEN }, apiUrl: fake.url, options: {}, stateDir });

  it('a create dropped right after the deployment PUT is finished by a new provider object, from the deployment alone', async () => {
    await start({ activeAfterPolls: 3 });
    await finishedByNewProvider(() => createAzureProvider(context()), request('az-dropped-0101'));
    expect(leftovers(fake)).toEqual({});
    expect(fake.puts.map((p) => p.op)).toEqual(['ResourceGroups_CreateOrUpdate', 'Deployments_CreateOrUpdate']);
  });

  it('a create dropped right after the deployment PUT is deleted by a new provider object', async () => {
    await start();
    await deletedByNewProvider(() => createAzureProvider(context()), request('az-dropped-0102'));
    expect(leftovers(fake)).toEqual({});
  });

  it('a create cut between the group and the deployment: status says so, delete removes the group', async () => {
    const provider = await start();
    const req = request('az-cut-0105');
    fake.inject({ op: 'Deployments_CreateOrUpdate', kind: 'server-error' });
    await rejection(provider.create(req));
    const other = createAzureProvider(context());
    expect(await other.status(planRef(req))).toMatchObject({ status: 'error', providerStatus: expect.stringContaining('no deployment') });
    await deleteUntilDone(other, planRef(req));
    expect(leftovers(fake)).toEqual({});
  });

  it('deleting by tunnel id leaves a same-named tunnel (its own group) untouched', async () => {
    await start();
    await sameNameSurvives(() => createAzureProvider(context()), request('az-twin-0103'), request('az-twin-0103'));
    expect(leftovers(fake)).toEqual({});
  });

  it('delete --id of a group without our tag is FORBIDDEN and deletes nothing', async () => {
    const provider = await start({ foreignGroups: 2 });
    await foreignIdForbidden(provider, { name: 'ct-by-name', id: 'foreign-rg-1' }); // a name tag alone is not our mark
    await expect(provider.delete({ name: 'ct-by-name' })).rejects.toMatchObject({ code: 'INVALID' });
    expect(fake.log.some((e) => e.op === 'ResourceGroups_Delete')).toBe(false);
    expect(fake.holdings().foreignGroupsMissing).toBe(0);
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

  it('maps deployment and VM states and describes itself', () => {
    expect(['Accepted', 'Running', 'Succeeded', 'Failed', 'Canceled', 'Deleting', undefined].map(mapDeploymentState)).toEqual(['provisioning', 'provisioning', 'active', 'error', 'error', 'deleting', 'provisioning']);
    expect(['Creating', 'Updating', 'Succeeded', 'Failed', 'Deleting', undefined].map(mapVmState)).toEqual(['provisioning', 'provisioning', 'active', 'error', 'deleting', 'provisioning']);
    const d = azureProvider.description;
    expect(d.userData).toEqual({ limitBytes: 65535, format: 'cloud-config', binary: true });
    expect(d.apiUrlEnv).toBe('AZURE_RESOURCE_MANAGER_URL');
    expect(d.extraFlags['subscription-id'].env).toBe('AZURE_SUBSCRIPTION_ID');
    expect(d.credentials.required).toBe(false);
    expect(d.firewall).toBe('always');
  });
});
