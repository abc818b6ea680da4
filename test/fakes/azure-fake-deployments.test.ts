/**
 * The Azure fake's template deployments refuse what ARM refuses: each case breaks one rule of
 * the provider's own template, and must come back 400 with ARM's code, recorded as a mismatch,
 * with nothing made. The unbroken template is accepted and runs to Succeeded with its outputs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { tunnelTemplate } from '../../providers/azure/azure-template.js';
import { azureProvider } from '../../providers/azure/index.js';
import { request } from '../providers/provider-steps.js';
import { AzureFake, FAKE_SUBSCRIPTION } from './azure-fake.js';
import { evaluate } from './azure-fake-expressions.js';
import { leftovers } from './index.js';

type Json = Record<string, any>;
let fake: AzureFake;
afterEach(async () => {
  await fake.close();
});

const d = azureProvider.description.defaults;
const req = request('az-rules', { region: d.region, plan: d.plan, image: d.image });
const group = `inletsctl-az-rules-${req.tunnelId}`;
const base = `/subscriptions/${FAKE_SUBSCRIPTION}/resourcegroups/${group}`;

async function send(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${fake.url}${path}`, { method, headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Json };
}

async function withGroup(): Promise<void> {
  fake = new AzureFake({ boot: false });
  await fake.start();
  const g = await send('PUT', `${base}?api-version=2025-04-01`, { location: d.region, tags: { 'managed-by': 'inletsctl', 'inletsctl-name': 'az-rules', 'inletsctl-tunnel': req.tunnelId } });
  expect(g.status).toBe(201);
}

const put = (properties: Json) => send('PUT', `${base}/providers/Microsoft.Resources/deployments/inletsctl-tunnel?api-version=2025-04-01`, { properties });
const good = (): Json => ({ mode: 'Incremental', template: tunnelTemplate(req), parameters: { customData: { value: req.userData.toString('base64') } } });

describe('azure fake deployments', () => {
  const broken: Array<[string, (p: Json) => void, RegExp]> = [
    ['a dependsOn that names no resource of the template', (p) => (p.template.resources[4].dependsOn = ["[resourceId('Microsoft.Network/networkInterfaces', 'nobody')]"]), /is not defined in the template/],
    ['a reference without dependsOn', (p) => delete p.template.resources[3].dependsOn, /references '.+' of the template without dependsOn/],
    ['a cycle', (p) => (p.template.resources[0].dependsOn = ["[resourceId('Microsoft.Compute/virtualMachines', 'az-rules')]"]), /circular dependency/],
    ['an api-version the type does not have', (p) => (p.template.resources[1].apiVersion = '2015-01-01'), /NoRegisteredProviderFound/],
    ['a type the fake does not deploy', (p) => (p.template.resources[0].type = 'Microsoft.Network/loadBalancers'), /InvalidResourceType/],
    ['a required parameter not given', (p) => (p.parameters = {}), /template parameter 'customData'.*is not provided/],
    ['an undeclared parameter', (p) => (p.parameters.extra = { value: 'x' }), /'extra'.*not present in the original template/],
    ['an unknown function', (p) => (p.template.resources[4].properties.osProfile.customData = "[base64(parameters('customData'))]"), /template function 'base64'/],
    ['a body the resource type refuses', (p) => (p.template.resources[1].sku = { name: 'Basic' }), /BasicSkuPublicIpRetired/],
    ['no mode', (p) => delete p.mode, /Incremental/],
  ];
  for (const [what, breakIt, message] of broken) {
    it(`refuses ${what}`, async () => {
      await withGroup();
      const p = good();
      breakIt(p);
      const r = await put(p);
      expect(r.status).toBe(400);
      expect(`${r.body.error.code}: ${r.body.error.message}`).toMatch(message);
      expect(fake.mismatches.length).toBeGreaterThan(0);
      expect(fake.holdings()).toMatchObject({ deployments: 0, virtualNetworks: 0, virtualMachines: 0 });
    });
  }

  it('accepts the template, goes Accepted → Running → Succeeded making its resources, and reports 409 while active', async () => {
    await withGroup();
    const first = await put(good());
    expect(first.status).toBe(201);
    expect(first.body.properties.provisioningState).toBe('Accepted');
    expect(first.body.properties.parameters.customData).toEqual({ type: 'SecureString' });
    expect((await put(good())).body.error.code).toBe('DeploymentActive');
    const states: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await send('GET', `${base}/providers/Microsoft.Resources/deployments/inletsctl-tunnel?api-version=2025-04-01`);
      states.push(r.body.properties.provisioningState);
      if (r.body.properties.provisioningState === 'Succeeded') {
        expect(r.body.properties.outputs.publicIpAddress.value).toMatch(/^127\./);
        expect(r.body.properties.outputs.vmId.value).toBe(`/subscriptions/${FAKE_SUBSCRIPTION}/resourceGroups/${group}/providers/Microsoft.Compute/virtualMachines/az-rules`);
        break;
      }
    }
    expect(states[0]).toBe('Running');
    expect(states.at(-1)).toBe('Succeeded');
    expect(fake.mismatches).toEqual([]);
    expect(fake.problems).toEqual([]);
    expect(leftovers(fake)).toMatchObject({ resourceGroups: 1, deployments: 1, virtualNetworks: 1, publicIPAddresses: 1, networkSecurityGroups: 1, networkInterfaces: 1, virtualMachines: 1 });
  });

  it('evaluates the expression subset and refuses the rest', () => {
    fake = new AzureFake();
    const scope = { subscription: 's', group: 'g', location: 'eastus', parameters: { p: "it's" } };
    expect(evaluate("[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 'sn')]", scope)).toBe('/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/sn');
    expect(evaluate("[concat(parameters('p'), '-', resourceGroup().location)]", scope)).toBe("it's-eastus");
    expect(() => evaluate("[reference('x').ipAddress]", scope)).toThrow(/cannot be used here/);
    expect(() => evaluate("[parameters('p'", scope)).toThrow(/cannot parse/);
  });
});
