/**
 * The UpCloud provider against the UpCloud fake, through the Provider interface (the CLI level is
 * in contract-suite.test.ts). The fake checks every request against the request shapes of
 * UpCloud's API reference; each test ends by requiring no mismatch.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUpcloudProvider, mapServerState } from '../../providers/upcloud/upcloud-provider.js';
import { firewallRules } from '../../providers/upcloud/upcloud-firewall.js';
import { upcloudProvider } from '../../providers/upcloud/index.js';
import { LABEL } from '../../providers/shared/marks.js';
import { API_TIMEOUT_ENV } from '../../providers/shared/rest-client.js';
import { resolveCredentials } from '../../src/core/credentials.js';
import type { CreateRequest, ProviderContext } from '../../src/core/provider.js';
import { UpcloudFake, type UpcloudFakeOptions } from '../fakes/upcloud-fake.js';
import { leftovers } from '../fakes/index.js';
import { deleteUntilDone, rejection, request as baseRequest, waitActive } from './provider-steps.js';

const TOKEN = 'ucat_dummy-token-for-the-fake';
let stateDir: string;
let fake: UpcloudFake;
const previousTimeout = process.env[API_TIMEOUT_ENV];

beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'upcloud-provider-'));
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
  const d = upcloudProvider.description.defaults;
  return baseRequest(name, { region: d.region, plan: d.plan, image: d.image, ...overrides });
}

function context(credentials: ProviderContext['credentials'], options: ProviderContext['options'] = {}): ProviderContext {
  return { credentials, apiUrl: fake.url, options, stateDir };
}

async function start(options: UpcloudFakeOptions = {}) {
  fake = new UpcloudFake({ boot: false, ...options });
  await fake.start();
  return createUpcloudProvider(context({ 'access-token': TOKEN }));
}

describe('upcloud provider', () => {
  it('creates a labelled server from the Debian template with only the asked ports open, lists it across pages with its tunnel id, and deletes it with its storage', async () => {
    const provider = await start({ maxPerPage: 1, foreignServers: 2, activeAfterPolls: 3 });
    const req = request('inlets-brave-otter-0001', { ports: [2222, 8080], openPorts: [2222, 8080, 8123] });
    const created = await provider.create(req);
    expect(created).toMatchObject({ name: req.name, tunnelId: req.tunnelId, status: 'provisioning', region: 'de-fra1' });

    const active = await waitActive(provider, created);
    expect(active.ip).toMatch(/^127\.0\.\d+\.\d+$/);
    const put = fake.log.find((e) => e.op === 'firewall_rules.replace');
    expect(put?.status).toBe(204);
    const listed = await provider.list();
    expect(listed).toEqual([expect.objectContaining({ id: created.id, name: req.name, tunnelId: req.tunnelId, ip: active.ip, status: 'active' })]);

    const steps = await deleteUntilDone(provider, { name: req.name, tunnelId: req.tunnelId });
    expect(steps).toBeGreaterThanOrEqual(3); // stop, (maintenance), delete, confirm
    expect(fake.log.filter((e) => e.op === 'servers.delete').every((e) => e.path.endsWith(created.id))).toBe(true);
    expect(leftovers(fake)).toEqual({});
  });

  it('the rules are the open ports over IPv4 and IPv6, then a drop of everything else', () => {
    const rules = firewallRules([22, 8123]);
    expect(rules.map((r) => `${r.action} ${r.family ?? '*'} ${r.destination_port_start ?? '*'}`)).toEqual(['accept IPv4 22', 'accept IPv6 22', 'accept IPv4 8123', 'accept IPv6 8123', 'drop * *']);
  });

  it('delete by tunnel id leaves a same-named server of someone else, and its own storage goes too', async () => {
    const provider = await start();
    const req = request('inlets-same-name');
    const foreignSameName = fake.addForeign(req.name, [{ key: LABEL.managedBy, value: 'inletsctl' }, { key: LABEL.name, value: req.name }, { key: LABEL.tunnel, value: 'aaaaaaaaaaaa' }]);
    const created = await provider.create(req);
    await waitActive(provider, created);
    await deleteUntilDone(provider, { name: req.name, tunnelId: req.tunnelId });
    expect(fake.has(created.id)).toBe(false);
    expect(fake.has(foreignSameName)).toBe(true);
    expect(leftovers(fake)).toEqual({});
  });

  it('refuses to delete an id without the shared mark (FORBIDDEN), touching nothing', async () => {
    const provider = await start();
    const foreign = fake.addForeign('db-main', [{ key: 'env', value: 'prod' }]);
    const err = await rejection(provider.delete({ name: 'whatever', id: foreign, tunnelId: '0123456789ab' }));
    expect(err.code).toBe('FORBIDDEN');
    expect(fake.has(foreign)).toBe(true);
    expect(fake.log.some((e) => e.op === 'servers.stop' || e.op === 'servers.delete')).toBe(false);
  });

  it('a create interrupted before its firewall rules is never called active, and a new provider instance deletes it', async () => {
    const first = await start();
    const req = request('inlets-interrupted');
    fake.inject({ op: 'firewall_rules.replace', kind: 'server-error' });
    const err = await rejection(first.create(req));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/was created but its firewall rules were not.*internal server error/);

    const second = createUpcloudProvider(context({ 'access-token': TOKEN }));
    let status = await second.status({ name: req.name, tunnelId: req.tunnelId });
    for (let i = 0; i < 5 && status.status === 'provisioning'; i++) status = await second.status({ name: req.name, tunnelId: req.tunnelId });
    expect(status.status).toBe('error');
    expect(status.providerStatus).toMatch(/firewall rules were never set/);
    await deleteUntilDone(second, { name: req.name, tunnelId: req.tunnelId });
    expect(leftovers(fake)).toEqual({});
  });

  it('a 429 is RATE_LIMITED with the wait from Retry-After, and quotes the cloud message', async () => {
    const provider = await start();
    fake.inject({ op: 'storages.templates', kind: 'rate-limit', retryAfterSeconds: 7 });
    const err = await rejection(provider.create(request('inlets-limited')));
    expect(err).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 7000 });
    expect(err.message).toMatch(/HTTP 429 \(TOO_MANY_REQUESTS\): API rate limit exceeded/);
    expect(err.message).not.toContain(TOKEN);
    expect(fake.holdings().servers).toBe(0);
  });

  it('authenticates with user and password (Basic), and a wrong password is AUTH without the password in the message', async () => {
    fake = new UpcloudFake({ boot: false, acceptBasic: { user: 'api-user', password: 'pa55:word' } });
    await fake.start();
    const good = createUpcloudProvider(context({ 'upcloud-password': 'pa55:word' }, { 'upcloud-username': 'api-user' }));
    expect(await good.list()).toEqual([]);
    const bad = createUpcloudProvider(context({ 'upcloud-password': 'wrong-secret' }, { 'upcloud-username': 'api-user' }));
    const err = await rejection(bad.list());
    expect(err.code).toBe('AUTH');
    expect(err.message).not.toContain('wrong-secret');
    expect(() => createUpcloudProvider(context({}, { 'upcloud-username': 'api-user' }))).toThrow(/no password/);
    expect(() => createUpcloudProvider(context({ 'upcloud-password': 'pw' }))).toThrow(/a password was given, but no user name/);
  });

  it('reads the password from $UPCLOUD_PASSWORD and the token from $UPCLOUD_TOKEN', async () => {
    fake = new UpcloudFake({ boot: false });
    await fake.start();
    const spec = upcloudProvider.description.credentials;
    expect((await resolveCredentials(spec, {}, { UPCLOUD_PASSWORD: 'from-env' })).values['upcloud-password']).toBe('from-env');
    expect((await resolveCredentials(spec, {}, { UPCLOUD_TOKEN: 'tok' })).values['access-token']).toBe('tok');
  });

  it('an unknown template title is INVALID and names the Debian templates there are', async () => {
    const provider = await start();
    const err = await rejection(provider.create(request('inlets-no-image', { image: 'Debian 99' })));
    expect(err.code).toBe('INVALID');
    expect(err.message).toMatch(/Debian GNU\/Linux 12 \(Bookworm\)/);
  });

  it('maps the states', () => {
    fake = new UpcloudFake();
    expect(['started', 'maintenance', 'stopped', 'error'].map(mapServerState)).toEqual(['active', 'provisioning', 'error', 'error']);
  });
});
