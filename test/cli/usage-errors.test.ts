/**
 * Usage errors found before any work (exit 2, nothing written, no API called), checked through the
 * built CLI against what the provider descriptions say, and an API that cannot be reached, which
 * must end create, list and delete in seconds without a record.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, requireBuild, runCli, stateRecords, type Sandbox } from './cli-harness.js';

const sandboxes: Sandbox[] = [];
beforeAll(() => requireBuild());
afterEach(async () => {
  for (const sb of sandboxes.splice(0)) await sb.cleanup();
});

async function sandbox(env: NodeJS.ProcessEnv = {}): Promise<Sandbox> {
  const sb = await makeSandbox(env);
  sandboxes.push(sb);
  return sb;
}

/** The discard port: fetch refuses it outright (a port on the Fetch standard's block list). */
const UNREACHABLE = 'http://127.0.0.1:9';

describe('usage errors before any work', () => {
  const cases: Array<{ title: string; args: string[]; env?: NodeJS.ProcessEnv; message: RegExp; code: string }> = [
    { title: 'an unknown region', args: ['--provider', 'digitalocean', '--region', 'mars1'], env: { DIGITALOCEAN_TOKEN: 't' }, message: /digitalocean has no region "mars1"; its regions: lon1, /, code: 'UNKNOWN_REGION' },
    { title: 'a zone for a provider without zones', args: ['--provider', 'hetzner', '--zone', 'fsn1-dc14'], env: { HCLOUD_TOKEN: 't' }, message: /hetzner has no zones: drop --zone/, code: 'NO_ZONES' },
    { title: 'an invalid --api-url', args: ['--provider', 'digitalocean', '--api-url', 'not a url'], env: { DIGITALOCEAN_TOKEN: 't' }, message: /--api-url must be an http:\/\/ or https:\/\/ URL/, code: 'BAD_API_URL' },
    { title: 'an API URL of another scheme from the environment', args: ['--provider', 'hetzner'], env: { HCLOUD_TOKEN: 't', HCLOUD_API_URL: 'ftp://127.0.0.1/v1' }, message: /\$HCLOUD_API_URL must be an http/, code: 'BAD_API_URL' },
    { title: 'missing credentials off a terminal', args: ['--provider', 'hetzner'], message: /missing hetzner credentials: --access-token, --access-token-file, \$INLETS_ACCESS_TOKEN or \$HCLOUD_TOKEN/, code: 'MISSING_VALUES' },
    { title: 'neither of two sufficient credentials (UpCloud: a token, or a password with a user name)', args: ['--provider', 'upcloud'], message: /missing upcloud credentials: --access-token, .*--upcloud-password.*\$UPCLOUD_TOKEN/, code: 'MISSING_VALUES' },
    { title: 'missing Vultr credentials off a terminal', args: ['--provider', 'vultr'], message: /missing vultr credentials: --access-token, --access-token-file, \$INLETS_ACCESS_TOKEN or \$VULTR_API_KEY/, code: 'MISSING_VALUES' },
    { title: 'a Vultr region not in its list', args: ['--provider', 'vultr', '--region', 'lon1'], env: { VULTR_API_KEY: 't' }, message: /vultr has no region "lon1"; its regions: lhr, man, /, code: 'UNKNOWN_REGION' },
    { title: 'a region Linode does not have', args: ['--provider', 'linode', '--region', 'mars-1'], env: { LINODE_TOKEN: 't' }, message: /linode has no region "mars-1"; its regions: gb-lon, eu-central, /, code: 'UNKNOWN_REGION' },
    { title: 'missing Linode credentials off a terminal', args: ['--provider', 'linode'], message: /missing linode credentials: --access-token, --access-token-file, \$INLETS_ACCESS_TOKEN or \$LINODE_TOKEN/, code: 'MISSING_VALUES' },
    { title: 'no Scaleway secret key (X-Auth-Token; the Project id is a flag of its own)', args: ['--provider', 'scaleway'], env: { SCW_DEFAULT_PROJECT_ID: '6f4a2c1e-8b3d-4e5f-9a0b-1c2d3e4f5a6b' }, message: /missing scaleway credentials: --secret-key, --secret-key-file or \$SCW_SECRET_KEY/, code: 'MISSING_VALUES' },
    { title: 'a Scaleway create without a Project id', args: ['--provider', 'scaleway'], env: { SCW_SECRET_KEY: 't' }, message: /scaleway needs --project-id \(or \$SCW_DEFAULT_PROJECT_ID\) to create/, code: 'MISSING_VALUES' },
    { title: 'an ssh create without --host', args: ['--provider', 'ssh'], message: /ssh needs --host \(or \$INLETSCTL_SSH_HOST\) to create/, code: 'MISSING_VALUES' },
    { title: 'a Scaleway zone it does not have', args: ['--provider', 'scaleway', '--region', 'fr-par'], env: { SCW_SECRET_KEY: 't' }, message: /scaleway has no region "fr-par"; its regions: fr-par-1, fr-par-2/, code: 'UNKNOWN_REGION' },
    { title: 'neither OpenStack secret (a password or an application credential secret)', args: ['--provider', 'openstack'], message: /missing openstack credentials: --password, .*--application-credential-secret.*\$OS_PASSWORD.*clouds\.yaml/, code: 'MISSING_VALUES' },
    { title: 'no Exoscale API key (the key names the credential; its secret signs)', args: ['--provider', 'exoscale'], env: { EXOSCALE_API_SECRET: 's' }, message: /missing exoscale credentials: --api-key, --api-secret, --api-secret-file or \$EXOSCALE_API_KEY/, code: 'MISSING_VALUES' },
    { title: 'a token and a token file at once', args: ['--provider', 'digitalocean', '--access-token', 'a', '--access-token-file', '/dev/null'], message: /give --access-token or --access-token-file, not both/, code: 'CONFLICTING_CREDENTIALS' },
    { title: '--dry-run with --test', args: ['--provider', 'local', '--dry-run', '--test'], message: /--dry-run creates nothing, so there is nothing for --test to test/, code: 'CONFLICTING_FLAGS' },
  ];
  for (const c of cases) {
    it(`${c.title}: exit 2, nothing written`, async () => {
      const sb = await sandbox(c.env);
      const r = await runCli(['create', 'usage-case', ...c.args], sb.env);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(c.message);
      expect(r.stdout).toBe('');
      expect(existsSync(sb.configDir), 'no state directory').toBe(false);
    });
  }

  it('refuses a --zone through the description, not the provider name: a provider with zones takes one', async () => {
    const sb = await sandbox();
    const r = await runCli(['create', 'zoned', '--provider', 'local', '--zone', 'z1', '--dry-run'], sb.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('local has no zones');
  });
});

describe('an API that cannot be reached', () => {
  it('a refused connection (nothing listens) also ends create at once', async () => {
    const { createServer } = await import('node:net');
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const sb = await sandbox({ HCLOUD_TOKEN: 'dummy' });
    const r = await runCli(['create', 'refused', '--provider', 'hetzner', '--api-url', `http://127.0.0.1:${port}/v1`, '--timeout', '5s', '--poll', '200ms'], sb.env, 30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ECONNREFUSED/);
    expect(r.stderr).not.toMatch(/gave up waiting/);
    expect(await stateRecords(sb.configDir)).toEqual([]);
  });

  it('create ends in seconds, with no record and no clean-up wait', async () => {
    const sb = await sandbox({ DIGITALOCEAN_TOKEN: 'dummy' });
    const r = await runCli(['create', 'nowhere', '--provider', 'digitalocean', '--api-url', UNREACHABLE, '--timeout', '5s', '--poll', '200ms'], sb.env, 30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad port|ECONNREFUSED/);
    expect(r.stderr).not.toMatch(/Deleting everything/);
    expect(await stateRecords(sb.configDir)).toEqual([]);
  });

  it('list warns about it and still shows the state file', async () => {
    const sb = await sandbox({ DIGITALOCEAN_TOKEN: 'dummy' });
    const state = { version: 1, tunnels: [{ name: 'kept', tunnelId: 'abcdefabcdef', provider: 'digitalocean', region: 'lon1', status: 'ready', token: 'x'.repeat(64), pin: 'sha256/x', controlPort: 8123, ports: [], apiUrl: UNREACHABLE, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' }] };
    await mkdir(sb.configDir, { recursive: true });
    await writeFile(join(sb.configDir, 'tunnels.json'), JSON.stringify(state), { mode: 0o600 });
    const r = await runCli(['list', '--json'], sb.env, 30_000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { tunnels: Array<{ name: string; drift: string }>; providerErrors: Record<string, string> };
    expect(out.tunnels).toEqual([expect.objectContaining({ name: 'kept', drift: 'unknown' })]);
    expect(out.providerErrors.digitalocean).toMatch(/bad port|ECONNREFUSED/);
    expect(r.stderr).toMatch(/Asking digitalocean for their hosts \(at most 20 s each\)/);
  });
});

describe('delete against an API that cannot be reached', () => {
  it('fails in seconds and keeps the record', async () => {
    const sb = await sandbox({ DIGITALOCEAN_TOKEN: 'dummy' });
    const record = { name: 'kept', tunnelId: 'abcdefabcdef', id: '42', provider: 'digitalocean', region: 'lon1', status: 'ready', token: 'x'.repeat(64), pin: 'sha256/x', controlPort: 8123, ports: [], apiUrl: UNREACHABLE, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' };
    await mkdir(sb.configDir, { recursive: true });
    await writeFile(join(sb.configDir, 'tunnels.json'), JSON.stringify({ version: 1, tunnels: [record] }), { mode: 0o600 });
    const r = await runCli(['delete', 'kept', '--yes'], sb.env, 30_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad port|ECONNREFUSED/);
    expect(r.stderr).not.toMatch(/gave up waiting/);
    expect(await stateRecords(sb.configDir)).toEqual([expect.objectContaining({ name: 'kept' })]);
  });
});
