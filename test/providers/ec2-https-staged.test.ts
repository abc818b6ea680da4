/**
 * HTTPS mode at EC2, whose 16 KiB of user-data cannot hold the http server: the real, built CLI
 * creates through the EC2 fake (requests checked against EC2's API description), the booted
 * instance runs the staged start (templates/inlets-stage1.mjs), create delivers the server over
 * the pinned control port (PROTOCOL.md §15), and the node then answers as an HTTPS-mode server.
 */
import { describe, expect, it } from 'vitest';
import { requestControl } from '../../src/engine/transport/control-request.js';
import { gunzipSync } from 'node:zlib';
import { ec2Provider } from '../../providers/ec2/index.js';
import { Ec2Fake } from '../fakes/ec2-fake.js';
import { EC2_CLI_ENV } from '../fakes/ec2-entry.js';
import { freePort } from '../helpers/engine-harness.js';
import { builtCliCases } from '../helpers/built-cli-cases.js';
import { runCli } from '../cli/cli-harness.js';

// Whatever a case left is deleted through the CLI, its requests checked with the rest.
const cli = builtCliCases(async (user) => {
  for (const t of await user.records()) await user.run(['delete', t.name, '--yes', '--poll', '200ms']);
});

describe('ec2: HTTPS mode, staged', () => {
  it('create fits EC2 with the server\'s hash only, delivers the server, and the node serves HTTP mode', { timeout: 120_000 }, async () => {
    const fake = new Ec2Fake({});
    const user = await cli.start(fake, ec2Provider.description, EC2_CLI_ENV);
    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    const r = await user.run(['create', 'staged', '--letsencrypt-domain', 'blog.example.test', '--letsencrypt-url', 'https://127.0.0.1:9/dir', '--http-port', String(httpPort), '--https-port', String(httpsPort), '--poll', '200ms', '--test', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ provider: 'ec2', mode: 'https', staged: true, domains: ['blog.example.test'], dnsRecords: [{ type: 'A', name: 'blog.example.test', value: out.ip }] });
    expect(out.certificates).toEqual([expect.objectContaining({ domain: 'blog.example.test' })]);
    expect(r.stderr).toContain('The node took its server');
    // create --test ran the HTTP test through the node.
    expect(out.test).toMatchObject({ mode: 'https', checksumOk: true, domains: [expect.objectContaining({ domain: 'blog.example.test' })] });

    const instance = [...fake.world.instances.values()].find((i) => i.ip === out.ip)!;
    expect(instance.userData.length).toBeLessThan(4096);
    expect(gunzipSync(instance.userData).toString()).toContain('inlets-server.sha256');
    const group = [...fake.world.groups.values()].find((g) => !g.foreign)!;
    expect(new Set(group.ingress.map((p) => p.FromPort))).toEqual(new Set([8123, httpPort, httpsPort]));

    const status = JSON.parse((await requestControl({ url: `https://${out.ip}:8123`, path: '/status', token: out.token, trust: { pin: out.pin }, timeoutMs: 5000 })).body);
    expect(status).toMatchObject({ mode: 'http', certificates: [expect.objectContaining({ domain: 'blog.example.test' })] });
    // Delivered once: the server answers the delivery path itself now (nothing more is taken).
    const again = await requestControl({ url: `https://${out.ip}:8123`, path: '/server', method: 'PUT', body: Buffer.from('x'), token: out.token, trust: { pin: out.pin }, timeoutMs: 5000 });
    expect(again.status).toBe(404);

    const test = await runCli(['test', 'staged', '--json', '--transfer-mb', '1', '--pings', '3'], user.sandbox.env);
    expect(test.code, test.stderr).toBe(0);
    expect(JSON.parse(test.stdout)).toMatchObject({ mode: 'https', checksumOk: true });
  });
});
