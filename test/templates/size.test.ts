/**
 * The user-data with the real engine bundle (dist/inlets-server-<mode>.mjs, from `npm run build`),
 * a real TLS pair and a 256-bit token fits every provider's limit, in every mode: EC2's 16 KiB
 * when gzip'd (the raw bytes count) is the tightest.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../../src/engine/tls/self-signed.js';
import { engineBundlePath, readEngineBundle, SERVER_BUNDLES } from '../../src/core/engine-bundle.js';
import { checkUserDataSize, parseUserData, renderUserData } from '../../src/core/user-data/render.js';
import { bundleModeOf } from '../../src/core/user-data/exit-node-plan.js';
import { BUDGET_HTTPS, formatBudget, userDataBudget } from '../../src/core/user-data/size-report.js';
import { localProvider } from '../../providers/local/index.js';
import { providers } from '../../providers/index.js';

const EC2_LIMIT = 16 * 1024;

describe('user-data size', () => {
  it('TCP mode fits every provider at its largest (long name, SAN, --ttl), as npm run build reports', () => {
    const rows = userDataBudget();
    console.log(formatBudget(rows));
    expect(new Set(rows.map((r) => r.mode))).toEqual(new Set(['tcp', 'https']));
    expect(Object.keys(SERVER_BUNDLES).sort()).toEqual(['http', 'tcp']);
    const over = rows.filter((r) => r.mode === 'tcp' && r.margin < 0).map((r) => `${r.mode} at ${r.provider}: ${-r.margin} bytes over ${r.limitBytes}`);
    expect(over).toEqual([]);
    expect(rows.find((r) => r.provider === 'ec2')).toMatchObject({ limitBytes: EC2_LIMIT, format: 'cloud-config', binary: true });
  });

  it('HTTPS mode fits every provider: whole where the server fits, staged (hash only) at EC2', () => {
    const rows = userDataBudget().filter((r) => r.mode === 'https');
    expect(rows.filter((r) => r.margin < 0)).toEqual([]);
    // The http server with ACME is ~5 KiB (compressed) over what EC2's 16 KiB leaves: EC2 goes staged.
    expect(rows.filter((r) => r.staged).map((r) => r.provider)).toEqual(['ec2']);
    expect(rows.filter((r) => r.limitBytes > EC2_LIMIT).every((r) => !r.staged)).toBe(true);
    const ec2 = rows.find((r) => r.provider === 'ec2')!;
    expect(ec2.bytes).toBeLessThan(4096);
    console.log(`https mode at EC2: ${ec2.staged!.fullBytes} bytes whole, ${ec2.bytes} staged`);
  });

  it('a bundle one margin larger does not fit: the check can fail', () => {
    const [tightest] = userDataBudget().filter((r) => r.mode === 'tcp');
    const bundle = readEngineBundle(engineBundlePath(bundleModeOf(tightest.mode)));
    // Random bytes do not compress: a margin's worth of them push it over the limit (256 more, for
    // the ~70 bytes this shorter name, no SAN and no --ttl leave out of the worst case).
    const padded = Buffer.concat([bundle, randomBytes(tightest.margin + 256)]);
    const tls = generateSelfSigned({ commonName: 'inlets-size-check' });
    const ud = renderUserData({ mode: tightest.mode, https: tightest.mode === 'https' ? BUDGET_HTTPS : undefined, token: 'ab'.repeat(32), tls, controlPort: 8123, format: 'cloud-config', binary: true, engineBundle: padded });
    expect(() => checkUserDataSize(ud, tightest.limitBytes, tightest.provider)).toThrow(/over .*'s limit of/);
  });

  /** Per format and encoding, the tightest limit of the providers that use it (none: no limit to meet). */
  const tightest = (format: 'cloud-config' | 'script', binary: boolean) =>
    Math.min(...providers.filter((p) => p.description.userData.format === format && p.description.userData.binary === binary).map((p) => p.description.userData.limitBytes));

  it('TCP mode fits, in both formats and encodings, the tightest limit of the providers that use each', () => {
    const tls = generateSelfSigned({ commonName: 'inlets-size-check', ips: ['203.0.113.10'] });
    const bundle = readEngineBundle();
    const sizes: Record<string, number> = {};
    for (const format of ['cloud-config', 'script'] as const) {
      for (const binary of [true, false]) {
        const ud = renderUserData({ mode: 'tcp', token: 'ab'.repeat(32), tls, controlPort: 8123, format, binary, engineBundle: bundle });
        const key = `${format}${binary ? ' gzip' : ''}`;
        sizes[key] = ud.length;
        expect(ud.length, key).toBeLessThanOrEqual(tightest(format, binary));
      }
    }
    console.log(`user-data sizes in bytes (engine ${bundle.length} bytes; EC2 limit ${EC2_LIMIT}):`, JSON.stringify(sizes));
    // EC2 (cloud-config, gzip) is the tightest of all: 16 KiB.
    expect(tightest('cloud-config', true)).toBe(EC2_LIMIT);
    expect(sizes['cloud-config gzip']).toBeLessThanOrEqual(EC2_LIMIT);
  });

  it('the --ttl safety net (one systemd-run command) still fits, and reads back in both formats', () => {
    const tls = generateSelfSigned({ commonName: 'inlets-size-check', ips: ['203.0.113.10'] });
    const bundle = readEngineBundle();
    const expiresAt = '2026-12-06T14:00:00.000Z';
    const added: Record<string, number> = {};
    for (const format of ['cloud-config', 'script'] as const) {
      const binary = format === 'cloud-config';
      const render = (e?: string) => renderUserData({ mode: 'tcp', token: 'ab'.repeat(32), tls, controlPort: 8123, format, binary, engineBundle: bundle, expiresAt: e });
      const withTtl = render(expiresAt);
      added[format] = withTtl.length - render().length;
      expect(withTtl.length, format).toBeLessThanOrEqual(tightest(format, binary));
      expect(parseUserData(withTtl).plan.commands.at(-1), format).toEqual(['systemd-run', '--on-calendar=2026-12-06 14:00:00 UTC', 'systemctl', 'poweroff']);
    }
    console.log('bytes added by --ttl:', JSON.stringify(added));
  });

  it('the local provider takes EC2\'s format (gzip cloud-config) and both modes fit its limit', () => {
    const { userData } = localProvider.description;
    expect(userData).toMatchObject({ format: 'cloud-config', binary: true });
    const tls = generateSelfSigned();
    for (const mode of ['tcp', 'https'] as const) {
      const ud = renderUserData({ mode, https: mode === 'https' ? BUDGET_HTTPS : undefined, token: 'cd'.repeat(32), tls, controlPort: 8123, format: userData.format, binary: userData.binary });
      expect(() => checkUserDataSize(ud, userData.limitBytes, 'local')).not.toThrow();
    }
  });
  it('every provider\'s TCP-mode user-data, in its own format and encoding, with a TTL, fits its documented limit', () => {
    const tls = generateSelfSigned({ commonName: 'inlets-size-check', ips: ['203.0.113.10'] });
    const bundle = readEngineBundle();
    const sizes: Record<string, string> = {};
    for (const { description: d } of providers) {
      const ud = renderUserData({ mode: 'tcp', token: 'ef'.repeat(32), tls, controlPort: 8123, format: d.userData.format, binary: d.userData.binary, engineBundle: bundle, expiresAt: '2026-12-06T14:00:00.000Z' });
      sizes[d.name] = `${ud.length}/${d.userData.limitBytes} (${d.userData.format}${d.userData.binary ? ' gzip' : ''})`;
      expect(() => checkUserDataSize(ud, d.userData.limitBytes, d.name), d.name).not.toThrow();
      expect(parseUserData(ud).format, d.name).toBe(d.userData.format);
    }
    console.log('user-data bytes / limit by provider:', JSON.stringify(sizes));
    // Civo takes the script as plain text (a JSON string): no gzip to lean on.
    expect(providers.find((m) => m.description.name === 'civo')?.description.userData).toMatchObject({ format: 'script', binary: false });
  });
});
