/**
 * The GCE fake's own checks: raw requests that break Google's discovery document must be recorded
 * as mismatches (or the provider tests that require none would prove nothing), and the fake's
 * lifecycle, paging and error format must behave as Compute Engine's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GceFake } from '../fakes/gce-fake.js';

const PROJECT = 'p-test';
let fake: GceFake;

afterEach(async () => {
  await fake.close();
});

async function start(): Promise<GceFake> {
  fake = new GceFake({ project: PROJECT, boot: false, foreign: 1 });
  await fake.start();
  return fake;
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${fake.url}/compute/v1/projects/${PROJECT}/${path}`, {
    method,
    headers: { authorization: 'Bearer t', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const instance = (extra: Record<string, unknown> = {}) => ({
  name: 'vm-1',
  machineType: 'zones/us-central1-b/machineTypes/e2-micro',
  disks: [{ boot: true, autoDelete: true, initializeParams: { sourceImage: 'projects/debian-cloud/global/images/family/debian-12', diskSizeGb: '10' } }],
  networkInterfaces: [{ network: 'global/networks/default', accessConfigs: [{ type: 'ONE_TO_ONE_NAT' }] }],
  metadata: { items: [{ key: 'startup-script', value: '#!/bin/bash\n' }] },
  ...extra,
});

describe('gce fake', () => {
  it('records request bodies that break the Instance schema', async () => {
    await start();
    const bad = instance({
      colour: 'blue', // no such property
      id: '42', // output only
      canIpForward: 'yes', // boolean
      disks: [{ boot: true, initializeParams: { diskSizeGb: 10 } }], // int64 goes as a string
      networkInterfaces: [{ accessConfigs: [{ type: 'ONE_TO_TWO_NAT' }] }], // not in the enum
    });
    delete (bad as { name?: string }).name; // required by compute.instances.insert
    await call('POST', 'zones/us-central1-b/instances', bad);
    const text = fake.mismatches.join('\n');
    expect(text).toContain('body.colour is not a property of Instance');
    expect(text).toContain('body.id is output-only');
    expect(text).toContain('body.canIpForward must be a boolean');
    expect(text).toContain('body.disks[0].initializeParams.diskSizeGb must be a string (int64)');
    expect(text).toContain('"ONE_TO_TWO_NAT" is not one of its enum values');
    expect(text).toContain('body.name is required by compute.instances.insert');
  });

  it('records unknown methods, query parameters and malformed path parameters', async () => {
    await start();
    await call('GET', 'zones/us-central1-b/instances/vm-1/colour');
    await call('GET', 'aggregated/instances?colour=blue&maxResults=many');
    await call('GET', 'zones/us-central1-b/instances/Not_A_Name');
    const text = fake.mismatches.join('\n');
    expect(text).toContain('is no method of the compute v1 discovery document');
    expect(text).toContain('query parameter colour is not a parameter of compute.instances.aggregatedList');
    expect(text).toContain('query parameter maxResults "many" is not an integer');
    expect(text).toContain('path parameter instance "Not_A_Name" does not match');
    expect(fake.log[0].op).toMatch(/^unknown GET/);
  });

  it('runs an insert operation PENDING → RUNNING → DONE and the instance PROVISIONING → STAGING → RUNNING', async () => {
    await start();
    const op = await call('POST', 'zones/us-central1-b/instances', instance());
    expect(op.body).toMatchObject({ kind: 'compute#operation', operationType: 'insert', status: 'PENDING' });
    const name = String(op.body.name);
    expect((await call('GET', `zones/us-central1-b/operations/${name}`)).body.status).toBe('RUNNING');
    expect((await call('GET', `zones/us-central1-b/operations/${name}`)).body.status).toBe('DONE');
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push((await call('GET', 'zones/us-central1-b/instances/vm-1')).body.status);
    expect(seen).toEqual(['STAGING', 'RUNNING', 'RUNNING']);
    const vm = (await call('GET', 'zones/us-central1-b/instances/vm-1')).body as { networkInterfaces: Array<{ accessConfigs: Array<{ natIP: string }> }> };
    expect(vm.networkInterfaces[0].accessConfigs[0].natIP).toMatch(/^127\.0\./);
    const image = await fetch(`${fake.url}/compute/v1/projects/debian-cloud/global/images/family/debian-12`, { headers: { authorization: 'Bearer t' } });
    expect(await image.json()).toMatchObject({ kind: 'compute#image', family: 'debian-12', status: 'READY' });
    expect((await call('GET', 'global/images/family/debian-12')).status).toBe(404); // not in the user's project
    expect(fake.mismatches).toEqual([]);
  });

  it('answers errors in Google\'s format, refuses a second rule of the same name and an address for an IP nobody has', async () => {
    await start();
    const rule = { name: 'fw-1', network: 'global/networks/default', allowed: [{ IPProtocol: 'tcp', ports: ['8123'] }], targetTags: ['t'] };
    expect((await call('POST', 'global/firewalls', rule)).status).toBe(200);
    const dup = await call('POST', 'global/firewalls', rule);
    expect(dup).toMatchObject({ status: 409, body: { error: { code: 409, status: 'ALREADY_EXISTS', errors: [{ reason: 'alreadyExists', domain: 'global' }] } } });
    const nobody = await call('POST', 'regions/us-central1/addresses', { name: 'ip-1', address: '127.0.9.9' });
    expect(nobody.status).toBe(400);
    fake.inject({ kind: 'rate-limit', op: 'firewalls.get' });
    const limited = await call('GET', 'global/firewalls/fw-1');
    expect(limited).toMatchObject({ status: 429, body: { error: { status: 'RESOURCE_EXHAUSTED', errors: [{ reason: 'rateLimitExceeded', domain: 'usageLimits' }] } } });
    expect(fake.mismatches).toEqual([]);
  });
});
