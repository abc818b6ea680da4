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
