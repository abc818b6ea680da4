/**
 * planTunnel: what goes into the user-data. `--ttl`'s power-off timer goes only onto machines the
 * run makes; a server the user already has (the ssh provider) is never powered off by us.
 */
import { describe, expect, it } from 'vitest';
import { planTunnel, type PlanInput } from '../../src/core/create-tunnel.js';
import { parseUserData } from '../../src/core/user-data/render.js';
import { providers } from '../../providers/index.js';

function plan(provider: string, expiresAt?: string) {
  const description = providers.find((p) => p.description.name === provider)!.description;
  const input: PlanInput = {
    name: 'inlets-plan-check',
    description,
    region: description.defaults.region,
    plan: description.defaults.plan,
    image: description.defaults.image,
    controlPort: 8123,
    ports: [8080],
    firewall: false,
    options: {},
    expiresAt,
  };
  const p = planTunnel(input);
  return { p, commands: parseUserData(p.request.userData).plan.commands };
}

describe('planTunnel and --ttl', () => {
  const expiresAt = '2026-12-31T23:59:59.000Z';
  const poweroff = ['systemd-run', '--on-calendar=2026-12-31 23:59:59 UTC', 'systemctl', 'poweroff'];

  it('a VM the run makes powers itself off at the expiry', () => {
    for (const name of ['digitalocean', 'ec2', 'gce']) expect(plan(name, expiresAt).commands, name).toContainEqual(poweroff);
  });

  it('a server the user already has (ssh) gets no power-off timer, though the expiry is recorded', () => {
    const { p, commands } = plan('ssh', expiresAt);
    expect(commands.some((c) => c.includes('poweroff'))).toBe(false);
    expect(p.record.expiresAt).toBe(expiresAt);
    expect(p.request.expiresAt).toBe(expiresAt);
  });

  it('without --ttl nobody powers off', () => {
    expect(plan('digitalocean').commands.some((c) => c.includes('poweroff'))).toBe(false);
  });
});

describe('planTunnel in HTTPS mode', () => {
  const https = { domains: ['blog.example.com'], httpPort: 80, httpsPort: 443 };
  const planHttps = (provider: string, h: typeof https = https) => {
    const description = providers.find((p) => p.description.name === provider)!.description;
    return planTunnel({ name: 'inlets-https-check', description, region: description.defaults.region, plan: description.defaults.plan, image: description.defaults.image, controlPort: 8123, ports: [2222], https: h, firewall: true, options: {} });
  };

  it('every firewall opens 80, 443, the control port and the data ports; the record says HTTPS', () => {
    for (const { description } of providers.filter((p) => p.description.name !== 'ec2')) {
      const p = planHttps(description.name);
      expect(p.request.openPorts, description.name).toEqual([80, 443, 2222, 8123]);
      expect(p.record).toMatchObject({ mode: 'https', domains: ['blog.example.com'], httpPort: 80, httpsPort: 443 });
      const files = parseUserData(p.request.userData).plan.files;
      const unit = files.find((f) => f.path === '/etc/systemd/system/inlets.service')!.content.toString();
      expect(unit).toContain('inlets.mjs http server');
      expect(unit).toContain('--letsencrypt-domain blog.example.com');
      expect(unit).not.toContain('--port 80');
    }
  });

  it('other public ports go into the unit and the firewall', () => {
    const p = planHttps('hetzner', { domains: ['blog.example.com'], httpPort: 8080, httpsPort: 8443 });
    expect(p.request.openPorts).toEqual([2222, 8080, 8123, 8443]);
    const unit = parseUserData(p.request.userData).plan.files.find((f) => f.path === '/etc/systemd/system/inlets.service')!.content.toString();
    expect(unit).toContain('--port 8080 --tls-port 8443 --letsencrypt-domain blog.example.com');
  });

  it('at EC2 the user-data holds only the server\'s SHA-256 (staged); the plan carries the bytes create delivers', async () => {
    const p = planHttps('ec2');
    expect(p.record).toMatchObject({ mode: 'https', staged: true });
    expect(p.stagedServer!.length).toBeGreaterThan(16 * 1024);
    const files = parseUserData(p.request.userData).plan.files;
    expect(files.map((f) => f.path)).not.toContain('/usr/local/lib/inlets/inlets-server.mjs.br');
    const { createHash } = await import('node:crypto');
    expect(files.find((f) => f.path === '/usr/local/lib/inlets/inlets-server.sha256')!.content.toString().trim()).toBe(createHash('sha256').update(p.stagedServer!).digest('hex'));
    expect(planHttps('hetzner').stagedServer).toBeUndefined();
  });
});
